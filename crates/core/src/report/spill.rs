//! Temporary spill files of the report writers, so that their memory does not grow with the
//! reads: sorted runs of chunk maxima (`Consensus`) and finished reads (`ReadTally`).
//!
//! Each spill is an unnamed temporary file in the folder the reports go to (not the system
//! temporary folder, which may be a RAM disk): on Linux it never has a name, elsewhere it is
//! removed when dropped, so neither a finished nor a crashed run leaves one behind. The
//! format is private to this crate and read back only by the process that wrote it:
//! keys as a `u32` LE byte length and their UTF-8 bytes, numbers little-endian.
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::error::ReportError;

/// Why a spill file could not be written or read back.
#[derive(Debug, thiserror::Error)]
pub enum SpillError {
    #[error("temporary spill file: {0}")]
    Io(#[from] io::Error),
    #[error("temporary spill file ends inside a record")]
    Truncated,
    #[error("temporary spill file holds a key that is not UTF-8")]
    BadKey,
    #[error("a key of {0} bytes is too long for a temporary spill file")]
    KeyTooLong(usize),
}

impl SpillError {
    /// As a report error naming the spill's folder. A plain I/O error (a full disk) stays
    /// one; the others are carried inside an `InvalidData` I/O error.
    pub(super) fn at(self, dir: &Path) -> ReportError {
        let source = match self {
            SpillError::Io(e) => e,
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        };
        ReportError::Io {
            path: dir.to_path_buf(),
            source,
        }
    }
}

/// A spill being written.
#[derive(Debug)]
pub(super) struct SpillWriter {
    out: BufWriter<File>,
}

impl SpillWriter {
    pub fn create(dir: &Path) -> Result<Self, SpillError> {
        Ok(Self {
            out: BufWriter::with_capacity(1 << 16, tempfile::tempfile_in(dir)?),
        })
    }

    pub fn key(&mut self, key: &str) -> Result<(), SpillError> {
        let len = u32::try_from(key.len()).map_err(|_| SpillError::KeyTooLong(key.len()))?;
        self.out.write_all(&len.to_le_bytes())?;
        Ok(self.out.write_all(key.as_bytes())?)
    }

    pub fn f32(&mut self, x: f32) -> Result<(), SpillError> {
        Ok(self.out.write_all(&x.to_le_bytes())?)
    }

    pub fn u64(&mut self, x: u64) -> Result<(), SpillError> {
        Ok(self.out.write_all(&x.to_le_bytes())?)
    }

    /// Everything written, to be read from the start.
    pub fn into_reader(self) -> Result<SpillReader, SpillError> {
        let mut file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        Ok(SpillReader {
            input: BufReader::with_capacity(1 << 16, file),
        })
    }
}

/// A spill read back from its start, record by record.
#[derive(Debug)]
pub(super) struct SpillReader {
    input: BufReader<File>,
}

impl SpillReader {
    /// Whether every record has been read.
    pub fn at_end(&mut self) -> Result<bool, SpillError> {
        Ok(self.input.fill_buf()?.is_empty())
    }

    /// Read from the start again.
    pub fn rewind(&mut self) -> Result<(), SpillError> {
        self.input.seek(SeekFrom::Start(0))?;
        Ok(())
    }

    fn exact<const N: usize>(&mut self) -> Result<[u8; N], SpillError> {
        let mut bytes = [0; N];
        self.input.read_exact(&mut bytes).map_err(truncated)?;
        Ok(bytes)
    }

    pub fn key(&mut self) -> Result<String, SpillError> {
        let len = u32::from_le_bytes(self.exact()?) as usize;
        let mut bytes = Vec::with_capacity(len.min(1 << 16));
        let read = (&mut self.input).take(len as u64).read_to_end(&mut bytes)?;
        if read < len {
            return Err(SpillError::Truncated);
        }
        String::from_utf8(bytes).map_err(|_| SpillError::BadKey)
    }

    pub fn f32(&mut self) -> Result<f32, SpillError> {
        Ok(f32::from_le_bytes(self.exact()?))
    }

    pub fn u64(&mut self) -> Result<u64, SpillError> {
        Ok(u64::from_le_bytes(self.exact()?))
    }
}

fn truncated(e: io::Error) -> SpillError {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => SpillError::Truncated,
        _ => SpillError::Io(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(f: impl FnOnce(&mut SpillWriter)) -> SpillReader {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SpillWriter::create(dir.path()).unwrap();
        f(&mut w);
        let reader = w.into_reader().unwrap();
        // Unnamed: nothing shows in the folder (nor stays after a crash).
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        reader
    }

    #[test]
    fn values_read_back_bit_for_bit() {
        let nan = f32::from_bits(0xffc0_1234);
        let mut r = written(|w| {
            w.key("café_🦠").unwrap();
            w.key("").unwrap();
            w.f32(nan).unwrap();
            w.f32(-0.0).unwrap();
            w.u64(u64::MAX).unwrap();
        });
        assert_eq!(r.key().unwrap(), "café_🦠");
        assert_eq!(r.key().unwrap(), "");
        assert_eq!(r.f32().unwrap().to_bits(), nan.to_bits());
        assert_eq!(r.f32().unwrap().to_bits(), (-0.0f32).to_bits());
        assert_eq!(r.u64().unwrap(), u64::MAX);
        assert!(r.at_end().unwrap());
        r.rewind().unwrap();
        assert!(!r.at_end().unwrap());
        assert_eq!(r.key().unwrap(), "café_🦠");
    }

    #[test]
    fn a_cut_record_is_truncated() {
        // A key announcing 10 bytes with 3 present.
        let mut r = written(|w| {
            w.out.write_all(&10u32.to_le_bytes()).unwrap();
            w.out.write_all(b"abc").unwrap();
        });
        assert!(matches!(r.key(), Err(SpillError::Truncated)));
        // A number cut short.
        let mut r = written(|w| w.out.write_all(&[1, 2]).unwrap());
        assert!(matches!(r.f32(), Err(SpillError::Truncated)));
        let mut r = written(|w| w.out.write_all(&[1, 2, 3]).unwrap());
        assert!(matches!(r.key(), Err(SpillError::Truncated)));
    }

    #[test]
    fn a_key_that_is_not_utf8_is_refused() {
        let mut r = written(|w| {
            w.out.write_all(&2u32.to_le_bytes()).unwrap();
            w.out.write_all(&[0xc3, 0x28]).unwrap();
        });
        assert!(matches!(r.key(), Err(SpillError::BadKey)));
    }

    #[test]
    fn errors_name_the_folder_and_keep_their_type() {
        let dir = Path::new("/reports/here");
        match SpillError::Truncated.at(dir) {
            ReportError::Io { path, source } => {
                assert_eq!(path, dir);
                assert_eq!(source.kind(), io::ErrorKind::InvalidData);
                let inner = source
                    .get_ref()
                    .and_then(|e| e.downcast_ref::<SpillError>());
                assert!(matches!(inner, Some(SpillError::Truncated)), "{source}");
            }
            other => panic!("{other}"),
        }
        let full = io::Error::new(io::ErrorKind::StorageFull, "full");
        match SpillError::Io(full).at(dir) {
            ReportError::Io { source, .. } => assert_eq!(source.kind(), io::ErrorKind::StorageFull),
            other => panic!("{other}"),
        }
    }
}
