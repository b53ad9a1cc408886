//! Output files that are either complete or absent: written to a temporary file in the
//! target's folder, flushed and fsynced, then renamed over the target, and the folder
//! fsynced. A crash at any moment leaves the old file or the new one, never half of one.
use std::fs::{self, File};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A file being written; it appears at `target` only when [`AtomicFile::commit`] succeeds.
/// Dropping it without committing removes the temporary file.
pub struct AtomicFile {
    target: PathBuf,
    writer: BufWriter<tempfile::NamedTempFile>,
}

impl AtomicFile {
    /// Start writing `target`; its folder must exist.
    pub fn create(target: &Path) -> io::Result<Self> {
        let dir = parent_dir(target);
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // tempfile creates 0600 files; outputs are ordinary files (0644 before the umask).
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .tempfile_in(dir)?;
        Ok(Self {
            target: target.to_path_buf(),
            writer: BufWriter::with_capacity(1 << 20, temp),
        })
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flush, fsync, rename into place and fsync the folder.
    pub fn commit(self) -> io::Result<()> {
        let temp = self.writer.into_inner().map_err(|e| e.into_error())?;
        temp.as_file().sync_all()?;
        temp.persist(&self.target).map_err(|e| e.error)?;
        sync_dir(parent_dir(&self.target))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

/// Seeking flushes the buffer first; a writer can go back and fill in a header whose
/// content it knows only at the end (a checksum of what follows).
impl Seek for AtomicFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.writer.seek(pos)
    }
}

/// Write `bytes` to `target` atomically.
pub fn write_atomic(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create(target)?;
    file.write_all(bytes)?;
    file.commit()
}

/// Make a rename inside `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Replace `target` (a file or a folder, which may not exist yet) by `staged`, which lives
/// in the same file system. The old content is moved into `trash` first and removed after.
pub fn replace_path(staged: &Path, target: &Path, trash: &Path) -> io::Result<()> {
    if fs::symlink_metadata(target).is_ok() {
        fs::rename(target, trash)?;
    }
    fs::rename(staged, target)?;
    match fs::symlink_metadata(trash) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(trash)?,
        Ok(_) => fs::remove_file(trash)?,
        Err(_) => {}
    }
    sync_dir(parent_dir(target))
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncommitted_file_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.txt");
        {
            let mut file = AtomicFile::create(&target).unwrap();
            file.write_all(b"half").unwrap();
        }
        assert!(!target.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn commit_replaces_the_old_content_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.txt");
        fs::write(&target, b"old").unwrap();
        write_atomic(&target, b"new content").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new content");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn replace_path_swaps_folders() {
        let dir = tempfile::tempdir().unwrap();
        let staged = dir.path().join("staged");
        let target = dir.path().join("target");
        fs::create_dir(&staged).unwrap();
        fs::write(staged.join("a"), b"new").unwrap();
        fs::create_dir(&target).unwrap();
        fs::write(target.join("stale"), b"old").unwrap();
        replace_path(&staged, &target, &dir.path().join("trash")).unwrap();
        assert_eq!(fs::read(target.join("a")).unwrap(), b"new");
        assert!(!target.join("stale").exists());
        assert!(!dir.path().join("trash").exists());
    }
}
