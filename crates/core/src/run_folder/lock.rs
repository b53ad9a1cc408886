//! One run per output folder at a time: a second run, from the command line or the app,
//! would interleave its shards and reports with the first's. An OS file lock on
//! `.virnucpro-run.lock` in the folder, so a killed run (even `kill -9`) holds it no longer
//! and leaves nothing stale to clean up; the file says who holds it, so a refused run can
//! name the other.
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock file in a run folder.
pub const LOCK_FILE: &str = ".virnucpro-run.lock";

/// Held while the run lives; dropping it (or the process ending) releases the folder.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum RunLockError {
    #[error("{}: another run is using this output folder ({holder}); wait for it to end, or choose another folder", folder.display())]
    Busy { folder: PathBuf, holder: String },
    #[error("{}: cannot lock the output folder: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Who a run is, for the message another run shows: the process, the program and when it
/// started.
pub fn describe_this_process(program: &str) -> String {
    let started = crate::timestamp::now();
    format!(
        "{program}, process {}, started {started}",
        std::process::id()
    )
}

/// Take the folder's lock without waiting, and record `holder` in it.
pub fn lock_run_folder(folder: &Path, holder: &str) -> Result<RunLock, RunLockError> {
    let path = folder.join(LOCK_FILE);
    let io = |source| RunLockError::Io {
        path: path.clone(),
        source,
    };
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            // Best effort: the holder may be rewriting it at this moment.
            let _ = file.read_to_string(&mut holder);
            let holder = match holder.trim() {
                "" => "a run that has not said who it is yet".to_owned(),
                text => text.to_owned(),
            };
            return Err(RunLockError::Busy {
                folder: folder.to_path_buf(),
                holder,
            });
        }
        Err(TryLockError::Error(source)) => return Err(io(source)),
    }
    file.set_len(0).map_err(io)?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    file.write_all(holder.as_bytes()).map_err(io)?;
    file.flush().map_err(io)?;
    Ok(RunLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_is_refused_naming_the_first_until_the_first_ends() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock_run_folder(dir.path(), "virnucpro predict, process 1").unwrap();
        let err = lock_run_folder(dir.path(), "the app").unwrap_err();
        match &err {
            RunLockError::Busy { folder, holder } => {
                assert_eq!(folder, dir.path());
                assert_eq!(holder, "virnucpro predict, process 1");
            }
            other => panic!("{other}"),
        }
        assert!(err
            .to_string()
            .contains("another run is using this output folder"));
        drop(first);
        let second = lock_run_folder(dir.path(), "the app").unwrap();
        let text = std::fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap();
        assert_eq!(
            text, "the app",
            "the new holder replaces the old one's words"
        );
        drop(second);
    }

    #[test]
    fn the_process_description_has_a_utc_time() {
        let text = describe_this_process("virnucpro predict");
        assert!(text.starts_with("virnucpro predict, process "), "{text}");
        assert!(text.ends_with('Z'), "{text}");
    }
}
