//! Files and folders named by the user, expanded to the files they stand for.
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// One path as given, and the files it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandedPath {
    pub given: PathBuf,
    pub is_folder: bool,
    /// The file itself, or the folder's files that were accepted, sorted by name.
    pub files: Vec<PathBuf>,
}

/// A path that cannot be used, with the path in the message.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error("{}: no such file or folder", path.display())]
    NotFound { path: PathBuf },
    #[error("{}: cannot read: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl PathError {
    /// Classify an I/O error on `path`.
    pub fn from_io(path: &Path, source: io::Error) -> Self {
        match source.kind() {
            io::ErrorKind::NotFound => PathError::NotFound {
                path: path.to_path_buf(),
            },
            _ => PathError::Unreadable {
                path: path.to_path_buf(),
                source,
            },
        }
    }
}

/// A file stands for itself (whatever its name); a folder for the files directly in it
/// that `accept` takes. Missing or unreadable paths are errors, never silently skipped.
pub fn expand(
    paths: &[PathBuf],
    accept: impl Fn(&Path) -> bool,
) -> Result<Vec<ExpandedPath>, PathError> {
    let unreadable = |path: &Path| {
        let path = path.to_path_buf();
        move |source: io::Error| PathError::from_io(&path, source)
    };
    let mut expanded = Vec::with_capacity(paths.len());
    for path in paths {
        let meta = fs::metadata(path).map_err(unreadable(path))?;
        if !meta.is_dir() {
            expanded.push(ExpandedPath {
                given: path.clone(),
                is_folder: false,
                files: vec![path.clone()],
            });
            continue;
        }
        let mut files: Vec<PathBuf> = fs::read_dir(path)
            .map_err(unreadable(path))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && accept(p))
            .collect();
        files.sort();
        expanded.push(ExpandedPath {
            given: path.clone(),
            is_folder: true,
            files,
        });
    }
    Ok(expanded)
}
