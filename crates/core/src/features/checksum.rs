use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use memmap2::{Mmap, MmapOptions};
use xxhash_rust::xxh3::xxh3_64;

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
            name: self
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            xxh3: format!("{:016x}", xxh3_64(self.bytes())),
            bytes: self.bytes().len() as u64,
        }
    }
}

/// Name, size and XXH3-64 of the file at `path` (memory-mapped, hashed in one pass).
pub fn checksum_file(path: &Path) -> io::Result<InputChecksum> {
    MappedFile::open(path).map(|m| m.checksum())
}
