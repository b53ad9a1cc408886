//! The checksum of a file taken from the reads a reader makes of it, so that a file read
//! to be decoded is not also read a second time to be hashed (for the legacy `.pt` inputs
//! of a merge, that second pass was a seventh of the merge's time).
use std::cell::RefCell;
use std::io;

use xxhash_rust::xxh3::Xxh3;

use crate::pickle::ByteSource;

use super::InputChecksum;

/// The longest stretch between the bytes hashed so far and a read that is hashed by
/// reading the stretch first: a zip entry's local header and padding, between two
/// storages. A read further ahead (the zip directory at the end, read first) is served
/// without being hashed; [`HashingSource::finish`] reads from where the hash stopped.
const MAX_GAP: u64 = 4096;

/// Pieces in which [`HashingSource::finish`] reads what the reads left out.
const PIECE: usize = 1 << 20;

/// A [`ByteSource`] that hashes its bytes, in order from the first, as they are read. The
/// checksum is the one [`super::checksum_file`] gives, whatever the order of the reads;
/// only how many bytes must be read again for it depends on them.
pub struct HashingSource<S> {
    inner: S,
    state: RefCell<HashState>,
}

struct HashState {
    /// Bytes `0..hashed` are in the hash.
    hashed: u64,
    hasher: Xxh3,
}

/// How a [`HashingSource`]'s checksum was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashedReads {
    /// Bytes hashed as the reader read them.
    pub while_read: u64,
    /// Bytes [`HashingSource::finish`] had to read again.
    pub read_again: u64,
}

impl<S: ByteSource> HashingSource<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            state: RefCell::new(HashState {
                hashed: 0,
                hasher: Xxh3::new(),
            }),
        }
    }

    /// The checksum of the whole source, named `name`: what the reads left out is read and
    /// hashed now, in order.
    pub fn finish(&self, name: String) -> io::Result<(InputChecksum, HashedReads)> {
        let len = self.inner.len();
        let mut state = self.state.borrow_mut();
        let while_read = state.hashed;
        state.hash_gap(&self.inner, len)?;
        let checksum = InputChecksum {
            name,
            xxh3: format!("{:016x}", state.hasher.digest()),
            bytes: len,
        };
        let read_again = len - while_read;
        Ok((
            checksum,
            HashedReads {
                while_read,
                read_again,
            },
        ))
    }
}

impl HashState {
    /// Read and hash bytes `hashed..end` of `source`.
    fn hash_gap(&mut self, source: &impl ByteSource, end: u64) -> io::Result<()> {
        let mut piece = vec![0u8; PIECE.min(end.saturating_sub(self.hashed) as usize)];
        while self.hashed < end {
            let n = piece.len().min((end - self.hashed) as usize);
            source.read_exact_at(self.hashed, &mut piece[..n])?;
            self.hasher.update(&piece[..n]);
            self.hashed += n as u64;
        }
        Ok(())
    }

    /// Add the part of `bytes`, read at `offset`, that follows the bytes hashed so far.
    fn hash_read(&mut self, offset: u64, bytes: &[u8]) {
        let end = offset + bytes.len() as u64;
        if offset <= self.hashed && end > self.hashed {
            // In bounds: offset <= hashed < end.
            let new = (self.hashed - offset) as usize;
            self.hasher.update(&bytes[new..]);
            self.hashed = end;
        }
    }
}

impl<S: ByteSource> ByteSource for HashingSource<S> {
    fn len(&self) -> u64 {
        self.inner.len()
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.inner.read_exact_at(offset, buf)?;
        let mut state = self.state.borrow_mut();
        if offset > state.hashed && offset - state.hashed <= MAX_GAP {
            state.hash_gap(&self.inner, offset)?;
        }
        state.hash_read(offset, buf);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xxhash_rust::xxh3::xxh3_64;

    fn bytes(len: usize) -> Vec<u8> {
        virnucpro_testkit::archive::noise(len, 0x2545_f491)
    }

    /// Reads of `(offset, len)`, in order, then the checksum.
    fn hash_after(data: &[u8], reads: &[(u64, usize)]) -> (InputChecksum, HashedReads) {
        let source = HashingSource::new(data.to_vec());
        for &(offset, len) in reads {
            let mut buf = vec![0u8; len];
            source.read_exact_at(offset, &mut buf).unwrap();
            assert_eq!(buf, data[offset as usize..offset as usize + len]);
        }
        source.finish("f.pt".into()).unwrap()
    }

    #[test]
    fn every_order_of_reads_gives_the_files_checksum() {
        let len = 3 * PIECE + 4099;
        let data = bytes(len);
        let expected = InputChecksum {
            name: "f.pt".into(),
            xxh3: format!("{:016x}", xxh3_64(&data)),
            bytes: len as u64,
        };
        let l = len as u64;
        let orders: Vec<Vec<(u64, usize)>> = vec![
            vec![],
            // In order, in pieces that do not meet a piece's edge.
            (0..len / 1000).map(|i| (i as u64 * 1000, 1000)).collect(),
            // A zip reader: the directory at the end first, then entries with gaps.
            vec![
                (l - 22, 22),
                (l - 5000, 4978),
                (0, 30),
                (94, 1000),
                (4190, 9000),
            ],
            // Gaps at the limit, one past it, and reads that overlap, repeat and go back.
            vec![
                (MAX_GAP, 10),
                (10 + 2 * MAX_GAP, 5),
                (10 + 2 * MAX_GAP + 1, 8),
                (0, 7),
            ],
            vec![(0, 100), (50, 100), (0, 160), (100, 1), (5, 5)],
            // Backwards: nothing is hashed while read.
            (0..20).rev().map(|i| (i * 100_000 + 7, 99)).collect(),
            vec![(0, len)],
        ];
        for reads in orders {
            let (checksum, _) = hash_after(&data, &reads);
            assert_eq!(checksum, expected, "{reads:?}");
        }
        let (empty, how) = hash_after(&[], &[]);
        assert_eq!(empty.xxh3, format!("{:016x}", xxh3_64(&[])));
        assert_eq!((empty.bytes, how.read_again), (0, 0));
    }

    #[test]
    fn reads_in_order_are_not_read_again_and_small_gaps_are_filled() {
        let data = bytes(100_000);
        let whole = hash_after(&data, &[(0, 100_000)]).1;
        assert_eq!(
            whole,
            HashedReads {
                while_read: 100_000,
                read_again: 0
            }
        );
        // Entries with headers between them, after the directory at the end was read.
        let entries = [(99_000, 1000), (0, 64), (128, 10_000), (10_200, 50_000)];
        let how = hash_after(&data, &entries).1;
        assert_eq!(
            how,
            HashedReads {
                while_read: 60_200,
                read_again: 39_800
            }
        );
        // A gap longer than MAX_GAP stops the hash until `finish`.
        let far = 2 + MAX_GAP + 1;
        let how = hash_after(&data, &[(0, 2), (far, 10), (far + 10, 10)]).1;
        assert_eq!(how.while_read, 2);
    }

    #[test]
    fn a_failed_read_is_an_error_and_hashes_nothing() {
        let data = bytes(1000);
        let source = HashingSource::new(data.clone());
        let mut buf = [0u8; 10];
        assert!(source.read_exact_at(995, &mut buf).is_err());
        let (checksum, how) = source.finish("f.pt".into()).unwrap();
        assert_eq!(checksum.xxh3, format!("{:016x}", xxh3_64(&data)));
        assert_eq!(how.while_read, 0);
    }
}
