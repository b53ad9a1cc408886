//! What of the catalogue is on this machine: each model installed and verified,
//! installed, partly downloaded, damaged or missing. Reads no weights: a file counts as
//! verified only when its stamped checksum (see [`crate::stamps`]) matches the catalogue.
use std::path::PathBuf;

use serde::Serialize;

use crate::catalogue::{Catalogue, CatalogueEntry, CatalogueFile, CatalogueSource, ModelRole};
use crate::layout;
use crate::roots::CacheRoots;
use crate::stamps::Stamps;

/// A model's state, worst file first: one damaged file makes the model damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum ModelState {
    /// Every file there, and every pinned one hashed to the catalogue's checksum.
    Verified,
    /// Every file there; some not hashed yet (or not pinned by the catalogue).
    Installed,
    /// Some files there or partly downloaded, others missing: `fetch` resumes it.
    Partial,
    /// A file hashed to something else than the catalogue says.
    Damaged,
    /// Nothing of it on this machine.
    Missing,
}

impl ModelState {
    /// A run can use it (possibly not yet verified).
    pub fn is_usable(self) -> bool {
        matches!(self, ModelState::Verified | ModelState::Installed)
    }
}

impl std::fmt::Display for ModelState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            ModelState::Verified => "verified",
            ModelState::Installed => "installed",
            ModelState::Partial => "partial",
            ModelState::Damaged => "damaged",
            ModelState::Missing => "missing",
        })
    }
}

/// One file's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum FileState {
    Verified,
    /// There, not hashed yet.
    Unchecked,
    /// There, and the catalogue pins no checksum for it.
    Unpinned,
    /// Partly downloaded.
    Partial {
        bytes: u64,
    },
    /// Hashed to another checksum than the catalogue's.
    Damaged,
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FileStatus {
    pub name: String,
    /// Where it is (or will be) installed.
    pub path: PathBuf,
    /// The catalogue's size, else the installed file's.
    pub size: Option<u64>,
    #[serde(flatten)]
    pub state: FileState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ModelStatus {
    pub id: String,
    pub title: String,
    pub role: ModelRole,
    pub state: ModelState,
    /// The source whose files were looked at (the installed one, else the first).
    pub source: String,
    /// What a run is given: a file or a snapshot folder.
    pub path: PathBuf,
    /// Bytes of the whole model, when every size is known.
    pub size: Option<u64>,
    /// Bytes on disk now (installed and partial files).
    pub bytes_present: u64,
    pub files: Vec<FileStatus>,
}

/// Every catalogue model's state under `roots`.
pub fn status(catalogue: &Catalogue, roots: &CacheRoots) -> Vec<ModelStatus> {
    let stamps = Stamps::in_folder(&roots.virnucpro);
    catalogue
        .entries
        .iter()
        .map(|entry| entry_status(entry, roots, &stamps))
        .collect()
}

/// One model's state: of the first source with anything on disk, else of the first.
pub fn entry_status(entry: &CatalogueEntry, roots: &CacheRoots, stamps: &Stamps) -> ModelStatus {
    let mut looked: Vec<ModelStatus> = entry
        .sources
        .iter()
        .map(|source| source_status(entry, source, roots, stamps))
        .collect();
    let best = looked
        .iter()
        .position(|s| s.state.is_usable())
        .or_else(|| looked.iter().position(|s| s.state != ModelState::Missing))
        .unwrap_or(0);
    looked.swap_remove(best)
}

fn source_status(
    entry: &CatalogueEntry,
    source: &CatalogueSource,
    roots: &CacheRoots,
    stamps: &Stamps,
) -> ModelStatus {
    let files: Vec<FileStatus> = source
        .files
        .iter()
        .map(|file| file_status(source, file, roots, stamps))
        .collect();
    let bytes_present = files
        .iter()
        .map(|f| match f.state {
            FileState::Partial { bytes } => bytes,
            FileState::Missing => 0,
            _ => f.size.unwrap_or(0),
        })
        .sum();
    ModelStatus {
        id: entry.id.clone(),
        title: entry.title.clone(),
        role: entry.role,
        state: model_state(&files),
        source: source.name.clone(),
        path: layout::use_path(roots, source),
        size: source.size(),
        bytes_present,
        files,
    }
}

fn model_state(files: &[FileStatus]) -> ModelState {
    let count = |pred: fn(&FileState) -> bool| files.iter().filter(|f| pred(&f.state)).count();
    let missing = count(|s| matches!(s, FileState::Missing));
    if count(|s| matches!(s, FileState::Damaged)) > 0 {
        ModelState::Damaged
    } else if missing == files.len() {
        ModelState::Missing
    } else if missing > 0 || count(|s| matches!(s, FileState::Partial { .. })) > 0 {
        ModelState::Partial
    } else if count(|s| matches!(s, FileState::Verified)) == files.len() {
        ModelState::Verified
    } else {
        ModelState::Installed
    }
}

fn file_status(
    source: &CatalogueSource,
    file: &CatalogueFile,
    roots: &CacheRoots,
    stamps: &Stamps,
) -> FileStatus {
    let path = layout::installed_path(roots, source, file);
    let installed = std::fs::metadata(&path).ok().filter(|m| m.is_file());
    let wrong_size = |m: &std::fs::Metadata| file.size.is_some_and(|size| size != m.len());
    let state = match (&installed, &file.checksum) {
        (Some(meta), _) if wrong_size(meta) => FileState::Damaged,
        (Some(_), None) => FileState::Unpinned,
        (Some(_), Some(expected)) => match stamps.lookup(&path, expected) {
            Some(found) if &found == expected => FileState::Verified,
            Some(_) => FileState::Damaged,
            None => FileState::Unchecked,
        },
        // An empty partial file (a download cancelled before its first byte) is nothing yet.
        (None, _) => match std::fs::metadata(layout::partial_path(roots, source, file)) {
            Ok(meta) if meta.len() > 0 => FileState::Partial { bytes: meta.len() },
            _ => FileState::Missing,
        },
    };
    FileStatus {
        name: file.name.clone(),
        path,
        size: file.size.or(installed.map(|m| m.len())),
        state,
    }
}

/// The installed model for `role`, if a run can use it.
pub fn usable_for(
    catalogue: &Catalogue,
    roots: &CacheRoots,
    role: ModelRole,
) -> Option<ModelStatus> {
    let entry = catalogue.for_role(role)?;
    let status = entry_status(entry, roots, &Stamps::in_folder(&roots.virnucpro));
    status.state.is_usable().then_some(status)
}
