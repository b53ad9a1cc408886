//! One fetch of a model at a time, across processes: the app and a `virnucpro models fetch`
//! in a terminal would otherwise append to the same partial file. An OS file lock, so a
//! killed process (even kill -9) holds it no longer.
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// Held while it lives.
#[derive(Debug)]
pub struct JobLock {
    _file: File,
}

/// Why the lock was not taken.
#[derive(Debug)]
pub enum LockFailure {
    /// Another process (or thread) holds it.
    Busy,
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Take `dir/locks/{name}.lock` without waiting.
pub fn try_lock(dir: &Path, name: &str) -> Result<JobLock, LockFailure> {
    let folder = dir.join("locks");
    let path = folder.join(format!("{name}.lock"));
    let io = |source| LockFailure::Io {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(&folder).map_err(|source| LockFailure::Io {
        path: folder.clone(),
        source,
    })?;
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => Ok(JobLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(LockFailure::Busy),
        Err(TryLockError::Error(source)) => Err(io(source)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_busy_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let held = try_lock(dir.path(), "m").unwrap();
        assert!(matches!(try_lock(dir.path(), "m"), Err(LockFailure::Busy)));
        assert!(try_lock(dir.path(), "other").is_ok());
        drop(held);
        assert!(try_lock(dir.path(), "m").is_ok());
    }
}
