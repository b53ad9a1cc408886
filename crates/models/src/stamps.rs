//! What was hashed, so that a 5.6 GB file is read once: `verified.json` in VirNucPro's
//! folder maps a file (its real path behind any link, size and modification time) to the
//! checksum computed over it. A file changed since has another size or time and is simply
//! not found: it must be hashed again.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};
use virnucpro_core::atomic::AtomicFile;

use crate::checksum::Checksum;

const FILE_NAME: &str = "verified.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    path: PathBuf,
    size: u64,
    modified_ns: u128,
    checksum: Checksum,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StampFile {
    stamps: Vec<Stamp>,
}

/// The identity of a file's current bytes, short of reading them.
fn identity(path: &Path) -> Option<(PathBuf, u64, u128)> {
    let real = std::fs::canonicalize(path).ok()?;
    let meta = std::fs::metadata(&real).ok()?;
    let modified = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some((real, meta.len(), modified.as_nanos()))
}

/// The record in VirNucPro's folder `root`.
#[derive(Debug, Clone)]
pub struct Stamps {
    file: PathBuf,
}

impl Stamps {
    pub fn in_folder(root: &Path) -> Stamps {
        Stamps {
            file: root.join(FILE_NAME),
        }
    }

    fn read(&self) -> StampFile {
        // A damaged record only costs hashing again; it is never trusted in part.
        std::fs::read(&self.file)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// The checksum (of `algorithm`'s kind) computed over the file as it is now, if any.
    pub fn lookup(&self, path: &Path, algorithm: &Checksum) -> Option<Checksum> {
        let (real, size, modified_ns) = identity(path)?;
        self.read()
            .stamps
            .into_iter()
            .find(|s| {
                s.path == real
                    && s.size == size
                    && s.modified_ns == modified_ns
                    && s.checksum.algorithm() == algorithm.algorithm()
            })
            .map(|s| s.checksum)
    }

    /// Remember `checksum` for the file as it is now. Failing to write the record is
    /// logged, not an error: it only means hashing again next time.
    pub fn record(&self, path: &Path, checksum: &Checksum) {
        let Some((real, size, modified_ns)) = identity(path) else {
            return;
        };
        // Two fetches (the desktop runs one per model) must not lose each other's records.
        let _lock = self.lock();
        let mut record = self.read();
        record
            .stamps
            .retain(|s| !(s.path == real && s.checksum.algorithm() == checksum.algorithm()));
        // Forget files that are gone, so the record does not grow forever.
        record.stamps.retain(|s| s.path.exists());
        record.stamps.push(Stamp {
            path: real,
            size,
            modified_ns,
            checksum: checksum.clone(),
        });
        if let Err(err) = self.write(&record) {
            tracing::warn!(file = %self.file.display(), %err, "cannot record a verified checksum");
        }
    }

    /// An exclusive lock on `verified.json.lock`, held while the record is rewritten;
    /// `None` (logged) when it cannot be taken, which only risks a lost record.
    fn lock(&self) -> Option<std::fs::File> {
        let taken = (|| {
            if let Some(dir) = self.file.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let lock = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(self.file.with_extension("json.lock"))?;
            lock.lock()?;
            Ok::<_, std::io::Error>(lock)
        })();
        taken
            .inspect_err(|err| tracing::warn!(file = %self.file.display(), %err, "cannot lock the record of verified files"))
            .ok()
    }

    fn write(&self, record: &StampFile) -> std::io::Result<()> {
        if let Some(dir) = self.file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut out = AtomicFile::create(&self.file)?;
        out.write_all(&serde_json::to_vec_pretty(record)?)?;
        out.commit()
    }

    /// The stamped checksum if there is one, else the file hashed now (and stamped).
    pub fn checksum_of(&self, path: &Path, algorithm: &Checksum) -> std::io::Result<Checksum> {
        if let Some(known) = self.lookup(path, algorithm) {
            return Ok(known);
        }
        let computed = algorithm.of_file(path)?;
        self.record(path, &computed);
        Ok(computed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_holds_until_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let stamps = Stamps::in_folder(&dir.path().join("v"));
        let file = dir.path().join("w.bin");
        std::fs::write(&file, b"weights").unwrap();
        let kind = Checksum::Sha256(String::new());
        assert_eq!(stamps.lookup(&file, &kind), None);
        let sum = stamps.checksum_of(&file, &kind).unwrap();
        assert_eq!(
            sum,
            Checksum::Sha256(crate::checksum::sha256_file(&file).unwrap())
        );
        assert_eq!(stamps.lookup(&file, &kind), Some(sum));
        // Records of several files, written from several threads at once, are all kept.
        let files: Vec<_> = (0..8).map(|i| dir.path().join(format!("f{i}"))).collect();
        std::thread::scope(|scope| {
            for (i, f) in files.iter().enumerate() {
                let (stamps, kind) = (&stamps, &kind);
                scope.spawn(move || {
                    std::fs::write(f, vec![i as u8; 10 + i]).unwrap();
                    stamps.checksum_of(f, kind).unwrap();
                });
            }
        });
        for f in &files {
            assert!(stamps.lookup(f, &kind).is_some(), "{}", f.display());
        }
        // Other bytes (another length) are not the stamped file.
        std::fs::write(&file, b"other weights").unwrap();
        assert_eq!(stamps.lookup(&file, &kind), None);
    }
}
