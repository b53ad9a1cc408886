use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use memmap2::{Mmap, MmapOptions};
use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use super::InputChecksum;

/// A whole file mapped read-only and pre-faulted, so it can be hashed and then read
/// through the same mapping.
pub struct MappedFile {
    path: PathBuf,
    /// `None` for an empty file (nothing to map).
    map: Option<Mmap>,
}

impl MappedFile {
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let map = if file.metadata()?.len() == 0 {
            None
        } else {
            // SAFETY: the map is read-only; as with every memory-mapped reader, a file
            // truncated by another process while mapped is outside what we can guard against.
            Some(unsafe { MmapOptions::new().populate().map(&file) }?)
        };
        Ok(Self {
            path: path.to_path_buf(),
            map,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or_default()
    }

    /// Name, size and XXH3-64 of the file.
    pub fn checksum(&self) -> InputChecksum {
        InputChecksum {
            name: file_name(&self.path),
            xxh3: format!("{:016x}", xxh3_64(self.bytes())),
            bytes: self.bytes().len() as u64,
        }
    }
}

/// Name, size and XXH3-64 of the file at `path`, read in pieces: not mapped, because a
/// mapped file's pages count in the process's resident set, and the files hashed here (the
/// chunked reads, the reports) grow with the input (a 2 M-read run's peak RSS was 380 MB
/// higher for it, all of it page cache).
pub fn checksum_file(path: &Path) -> io::Result<InputChecksum> {
    let mut file = File::open(path)?;
    let mut hasher = Xxh3::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buffer[..n]);
                bytes += n as u64;
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(InputChecksum {
        name: file_name(path),
        xxh3: format!("{:016x}", hasher.digest()),
        bytes,
    })
}

/// The name an [`InputChecksum`] records for `path`: its last component.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Read in pieces, the hash is the one-pass hash of the whole file (the one recorded
    /// in run folders before), at every size around the piece length.
    #[test]
    fn the_streamed_checksum_is_the_whole_files() {
        let dir = tempfile::tempdir().unwrap();
        let piece = 1usize << 20;
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for len in [0, 1, 4095, piece - 1, piece, piece + 1, 3 * piece + 7] {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            let path = dir.path().join(format!("f{len}.bin"));
            std::fs::write(&path, &bytes).unwrap();
            let streamed = checksum_file(&path).unwrap();
            assert_eq!(streamed.xxh3, format!("{:016x}", xxh3_64(&bytes)), "{len}");
            assert_eq!(streamed.bytes, len as u64);
            assert_eq!(streamed.name, format!("f{len}.bin"));
            assert_eq!(streamed, MappedFile::open(&path).unwrap().checksum());
        }
        assert!(checksum_file(&dir.path().join("missing")).is_err());
    }
}
