//! Models copied in by hand (from a USB disk, another machine's cache): every file is
//! matched against the catalogue by size and checksum, then installed into the cache
//! (hard-linked when it can be, else copied) or verified where it is.
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;
use virnucpro_core::CancelToken;

use crate::catalogue::{Catalogue, CatalogueFile, CatalogueSource};
use crate::checksum::{sha256_file, Checksum};
use crate::fetch::install::install;
use crate::fetch::FetchError;
use crate::layout;
use crate::roots::CacheRoots;
use crate::stamps::Stamps;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportMode {
    /// Into the cache, where `predict` finds it without flags.
    Copy,
    /// Left where it is; only its verification is recorded (give its path to the run).
    InPlace,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportMatch {
    pub model: String,
    pub file: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportedFile {
    pub path: PathBuf,
    pub size: u64,
    /// The catalogue file it is, byte for byte; `None`: it matches no checksum.
    pub matched: Option<ImportMatch>,
    /// Where it was installed (`Copy` of a matched file).
    pub installed: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportReport {
    pub files: Vec<ImportedFile>,
}

#[derive(Debug, Error)]
pub enum ImportError {
    #[error("{}: no such file or folder", path.display())]
    Missing { path: PathBuf },
    #[error(transparent)]
    Install(#[from] FetchError),
    #[error("cancelled")]
    Cancelled,
}

/// Match every file under `path` (a file, or a folder searched through, links followed).
pub fn import(
    catalogue: &Catalogue,
    roots: &CacheRoots,
    path: &Path,
    mode: ImportMode,
    cancel: &CancelToken,
) -> Result<ImportReport, ImportError> {
    if !path.exists() {
        return Err(ImportError::Missing {
            path: path.to_path_buf(),
        });
    }
    let stamps = Stamps::in_folder(&roots.virnucpro);
    let mut report = ImportReport::default();
    for found in files_under(path) {
        if cancel.is_cancelled() {
            return Err(ImportError::Cancelled);
        }
        report
            .files
            .push(import_file(catalogue, roots, &stamps, &found, mode)?);
    }
    Ok(report)
}

fn import_file(
    catalogue: &Catalogue,
    roots: &CacheRoots,
    stamps: &Stamps,
    path: &Path,
    mode: ImportMode,
) -> Result<ImportedFile, ImportError> {
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    let mut imported = ImportedFile {
        path: path.to_path_buf(),
        size,
        matched: None,
        installed: None,
    };
    let Some((model, source, file)) = matching(catalogue, stamps, path, size)? else {
        tracing::info!(file = %path.display(), "matches no catalogue checksum");
        return Ok(imported);
    };
    imported.matched = Some(ImportMatch {
        model: model.to_string(),
        file: file.name.clone(),
    });
    if mode == ImportMode::Copy {
        imported.installed = Some(install_copy(roots, stamps, source, file, path)?);
    }
    Ok(imported)
}

/// The catalogue file whose size (when published) and checksum `path` has.
fn matching<'c>(
    catalogue: &'c Catalogue,
    stamps: &Stamps,
    path: &Path,
    size: u64,
) -> Result<Option<(&'c str, &'c CatalogueSource, &'c CatalogueFile)>, FetchError> {
    for entry in &catalogue.entries {
        for source in &entry.sources {
            for file in &source.files {
                let Some(expected) = &file.checksum else {
                    continue;
                };
                let plausible = match file.size {
                    Some(known) => known == size,
                    // Unpublished size: only a file of the same name is worth hashing.
                    None => path
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy() == file.name),
                };
                if plausible
                    && &stamps
                        .checksum_of(path, expected)
                        .map_err(FetchError::io(path))?
                        == expected
                {
                    return Ok(Some((&entry.id, source, file)));
                }
            }
        }
    }
    Ok(None)
}

/// Hard-link (else copy) next to the target as a partial file, then install like a
/// download. An installed file that is already this one is left alone.
fn install_copy(
    roots: &CacheRoots,
    stamps: &Stamps,
    source: &CatalogueSource,
    file: &CatalogueFile,
    from: &Path,
) -> Result<PathBuf, FetchError> {
    let target = layout::installed_path(roots, source, file);
    if same_file(&target, from) {
        return Ok(target);
    }
    let partial = layout::partial_path(roots, source, file);
    if let Some(dir) = partial.parent() {
        std::fs::create_dir_all(dir).map_err(FetchError::io(dir))?;
    }
    let _ = std::fs::remove_file(&partial);
    if std::fs::hard_link(from, &partial).is_err() {
        std::fs::copy(from, &partial).map_err(FetchError::io(&partial))?;
    }
    let sha256 = match &file.checksum {
        Some(Checksum::Sha256(hex)) => hex.clone(),
        _ => sha256_file(&partial).map_err(FetchError::io(&partial))?,
    };
    install(roots, stamps, source, file, &partial, &sha256)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Regular files under `path`, each real file once (a hub cache's snapshot links and blobs
/// are the same bytes), in a stable order.
fn files_under(path: &Path) -> Vec<PathBuf> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    let mut dirs = HashSet::new();
    while let Some(next) = stack.pop() {
        if next.is_dir() {
            // A link back up the tree would otherwise be walked forever.
            if !dirs.insert(std::fs::canonicalize(&next).unwrap_or(next.clone())) {
                continue;
            }
            let mut children: Vec<PathBuf> = std::fs::read_dir(&next)
                .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            children.sort();
            children.reverse();
            stack.extend(children);
        } else if next.is_file() {
            let real = std::fs::canonicalize(&next).unwrap_or(next.clone());
            if seen.insert(real) {
                out.push(next);
            }
        }
    }
    out
}
