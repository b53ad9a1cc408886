//! Input and model files identified by content, for the manifest and for resume.
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::features::checksum_file;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A file by path, size, modification time and XXH3-64 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: PathBuf,
    pub bytes: u64,
    /// Nanoseconds since the Unix epoch (0 when the file system does not say).
    pub modified_ns: u64,
    pub xxh3: String,
}

impl FileEntry {
    /// Hash `path`, unless `known` lists it with the same size and modification time:
    /// re-reading an 11 GB ESM-2 checkpoint on every resume would cost minutes.
    pub fn of(path: &Path, known: &[FileEntry]) -> std::io::Result<Self> {
        let meta = std::fs::metadata(path)?;
        let modified_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let bytes = meta.len();
        if modified_ns != 0 {
            if let Some(same) = known
                .iter()
                .find(|k| k.path == path && k.bytes == bytes && k.modified_ns == modified_ns)
            {
                return Ok(same.clone());
            }
        }
        let checksum = checksum_file(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            bytes: checksum.bytes,
            modified_ns,
            xxh3: checksum.xxh3,
        })
    }
}

/// The files that make up a model: the file itself, or every regular file directly in the
/// folder (weights, config.json, tokenizer.json), sorted by name.
pub fn model_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !std::fs::metadata(path)?.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        let name = entry.file_name();
        // Resolve links (a Hugging Face snapshot is all links into blobs/).
        if !name.to_string_lossy().starts_with('.') && std::fs::metadata(entry.path())?.is_file() {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

/// The entries of a model's files.
pub fn fingerprint_model(path: &Path, known: &[FileEntry]) -> std::io::Result<Vec<FileEntry>> {
    model_files(path)?
        .iter()
        .map(|f| FileEntry::of(f, known))
        .collect()
}

/// A short content identity of a set of files (names and hashes, not folders): 16 hex
/// digits of SHA-256, added to the model id recorded in feature files so that weights
/// replaced under the same name make old features stale.
pub fn content_id(entries: &[FileEntry]) -> String {
    let mut hasher = Sha256::new();
    for entry in entries {
        let name = entry
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(entry.xxh3.as_bytes());
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_entries_are_reused_and_changes_rehashed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.bin");
        std::fs::write(&path, b"weights").unwrap();
        let first = FileEntry::of(&path, &[]).unwrap();
        let mut fake = first.clone();
        fake.xxh3 = "cached".into();
        assert_eq!(FileEntry::of(&path, &[fake]).unwrap().xxh3, "cached");
        std::fs::write(&path, b"other weights").unwrap();
        let changed = FileEntry::of(&path, std::slice::from_ref(&first)).unwrap();
        assert_ne!(changed.xxh3, first.xxh3);
        assert_ne!(content_id(&[changed]), content_id(&[first]));
    }
}
