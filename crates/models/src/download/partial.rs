//! The partial file being written, the SHA-256 of what it holds, and its sidecar
//! `<partial>.validator` (the ETag or Last-Modified of the response it started from).
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::DownloadError;

pub(super) struct Partial {
    path: PathBuf,
    file: File,
    len: u64,
    /// Over the `len` bytes in the file.
    hasher: Sha256,
}

impl Partial {
    /// Opens (or creates) `path` for appending, hashing what it already holds.
    pub(super) fn open(path: &Path) -> Result<Partial, DownloadError> {
        let io_err = |source| DownloadError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| DownloadError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io_err)?;
        let (len, hasher) = hash_all(&mut file).map_err(io_err)?;
        file.seek(SeekFrom::Start(len)).map_err(io_err)?;
        Ok(Partial {
            path: path.to_path_buf(),
            file,
            len,
            hasher,
        })
    }

    pub(super) fn len(&self) -> u64 {
        self.len
    }

    /// Throws the bytes away, to start from zero.
    pub(super) fn truncate(&mut self) -> Result<(), DownloadError> {
        self.file.set_len(0).map_err(|e| self.io_err(e))?;
        self.file
            .seek(SeekFrom::Start(0))
            .map_err(|e| self.io_err(e))?;
        self.len = 0;
        self.hasher = Sha256::new();
        Ok(())
    }

    pub(super) fn append(&mut self, bytes: &[u8]) -> Result<(), DownloadError> {
        self.file.write_all(bytes).map_err(|e| self.io_err(e))?;
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Flushed to disk: `(size, lowercase hex SHA-256)`.
    pub(super) fn finish(self) -> Result<(u64, String), DownloadError> {
        self.file.sync_all().map_err(|e| self.io_err(e))?;
        Ok((self.len, hex(&self.hasher.finalize())))
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    fn io_err(&self, source: io::Error) -> DownloadError {
        DownloadError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

fn hash_all(file: &mut File) -> io::Result<(u64, Sha256)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut len = 0u64;
    file.seek(SeekFrom::Start(0))?;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => return Ok((len, hasher)),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        len += n as u64;
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What identifies the version of a remote file, for `If-Range`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Validator {
    /// A strong ETag, quotes included.
    ETag(String),
    /// An HTTP-date.
    LastModified(String),
}

impl Validator {
    /// The value of an `If-Range` header.
    pub(super) fn value(&self) -> &str {
        match self {
            Validator::ETag(v) | Validator::LastModified(v) => v,
        }
    }

    fn to_text(&self) -> String {
        match self {
            Validator::ETag(v) => format!("etag\n{v}\n"),
            Validator::LastModified(v) => format!("last-modified\n{v}\n"),
        }
    }

    fn from_text(text: &str) -> Option<Validator> {
        let mut lines = text.lines();
        let (kind, value) = (lines.next()?, lines.next()?.to_string());
        match kind {
            "etag" => Some(Validator::ETag(value)),
            "last-modified" => Some(Validator::LastModified(value)),
            _ => None,
        }
    }
}

/// `<partial>.validator`.
pub(super) fn sidecar_path(partial: &Path) -> PathBuf {
    let mut name = partial.as_os_str().to_os_string();
    name.push(".validator");
    PathBuf::from(name)
}

/// The saved validator; none when there is no (readable) sidecar.
pub(super) fn load_validator(partial: &Path) -> Option<Validator> {
    let text = std::fs::read_to_string(sidecar_path(partial)).ok()?;
    Validator::from_text(&text)
}

/// Saves `validator` (or removes a stale one). A failure only costs `If-Range` on a later
/// resume, so it is logged, not returned.
pub(super) fn save_validator(partial: &Path, validator: Option<&Validator>) {
    let sidecar = sidecar_path(partial);
    let result = match validator {
        Some(v) => std::fs::write(&sidecar, v.to_text()),
        None => remove_if_present(&sidecar),
    };
    if let Err(e) = result {
        tracing::warn!(path = %sidecar.display(), error = %e, "cannot write the validator file");
    }
}

pub(super) fn remove_validator(partial: &Path) {
    let sidecar = sidecar_path(partial);
    if let Err(e) = remove_if_present(&sidecar) {
        tracing::warn!(path = %sidecar.display(), error = %e, "cannot remove the validator file");
    }
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validators_survive_the_sidecar() {
        let dir = tempfile::tempdir().unwrap();
        let partial = dir.path().join("model.bin.part");
        assert_eq!(load_validator(&partial), None);
        for v in [
            Validator::ETag("\"abc\"".into()),
            Validator::LastModified("Mon, 01 Jan 2024 00:00:00 GMT".into()),
        ] {
            save_validator(&partial, Some(&v));
            assert_eq!(load_validator(&partial), Some(v));
        }
        assert!(dir.path().join("model.bin.part.validator").is_file());
        save_validator(&partial, None);
        assert_eq!(load_validator(&partial), None);
    }

    #[test]
    fn the_hash_covers_a_kept_prefix_and_the_appended_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/part");
        std::fs::create_dir_all(dir.path().join("sub")).unwrap();
        std::fs::write(&path, b"hello ").unwrap();
        let mut partial = Partial::open(&path).unwrap();
        assert_eq!(partial.len(), 6);
        partial.append(b"world").unwrap();
        let (size, sha) = partial.finish().unwrap();
        assert_eq!(size, 11);
        assert_eq!(
            sha,
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"hello world");
    }

    #[test]
    fn truncating_starts_the_hash_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("part");
        std::fs::write(&path, b"stale bytes").unwrap();
        let mut partial = Partial::open(&path).unwrap();
        partial.truncate().unwrap();
        partial.append(b"hello world").unwrap();
        let (size, sha) = partial.finish().unwrap();
        assert_eq!(size, 11);
        assert!(sha.starts_with("b94d27b9"));
        assert_eq!(std::fs::read(&path).unwrap(), b"hello world");
    }
}
