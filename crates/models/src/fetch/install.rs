//! Moving a checked file into place: renamed (never copied) from its partial file, and on
//! the hub linked from the snapshot as `huggingface_hub` does.
use std::path::{Path, PathBuf};

use crate::catalogue::{CatalogueFile, CatalogueSource, Store};
use crate::checksum::{git_blob_sha1_file, Checksum};
use crate::layout;

use crate::roots::CacheRoots;
use crate::stamps::Stamps;

use super::FetchError;

/// Move `partial` (checked already) into its place; `sha256` is its SHA-256.
pub fn install(
    roots: &CacheRoots,
    stamps: &Stamps,
    source: &CatalogueSource,
    file: &CatalogueFile,
    partial: &Path,
    sha256: &str,
) -> Result<PathBuf, FetchError> {
    let installed = layout::installed_path(roots, source, file);
    match &source.store {
        Store::HfRepo { revision, .. } => {
            let blob = blob_name(file, partial, sha256)?;
            let blob_path = layout::blob_path(roots, source, &blob);
            place(partial, &blob_path)?;
            link_snapshot(&installed, &layout::snapshot_link_target(&file.name, &blob))?;
            write_main_ref(&layout::main_ref(roots, source), revision)?;
        }
        _ => place(partial, &installed)?,
    }
    if let Some(checksum) = &file.checksum {
        stamps.record(&installed, checksum);
    }
    Ok(installed)
}

/// The hub's blob name: the SHA-256 for LFS files, the git blob id for the others.
fn blob_name(file: &CatalogueFile, partial: &Path, sha256: &str) -> Result<String, FetchError> {
    match (&file.checksum, file.lfs) {
        (Some(Checksum::Sha256(_)), true) => Ok(sha256.to_string()),
        _ => git_blob_sha1_file(partial).map_err(FetchError::io(partial)),
    }
}

/// Rename `from` to `to` and make the rename durable.
fn place(from: &Path, to: &Path) -> Result<(), FetchError> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(FetchError::io(dir))?;
    }
    std::fs::rename(from, to).map_err(FetchError::io(to))?;
    sync_parent(to)
}

fn sync_parent(path: &Path) -> Result<(), FetchError> {
    match path.parent() {
        Some(dir) => std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(FetchError::io(dir)),
        None => Ok(()),
    }
}

fn link_snapshot(link: &Path, target: &Path) -> Result<(), FetchError> {
    if let Some(dir) = link.parent() {
        std::fs::create_dir_all(dir).map_err(FetchError::io(dir))?;
    }
    match std::fs::symlink_metadata(link) {
        Ok(_) => std::fs::remove_file(link).map_err(FetchError::io(link))?,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(FetchError::io(link)(err)),
    }
    std::os::unix::fs::symlink(target, link).map_err(FetchError::io(link))?;
    sync_parent(link)
}

/// `refs/main` names the pinned revision so that the Python tools find the snapshot
/// offline; a ref they wrote themselves is left alone.
fn write_main_ref(path: &Path, revision: &str) -> Result<(), FetchError> {
    if path.exists() {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(FetchError::io(dir))?;
    }
    let mut out = virnucpro_core::atomic::AtomicFile::create(path).map_err(FetchError::io(path))?;
    std::io::Write::write_all(&mut out, revision.as_bytes()).map_err(FetchError::io(path))?;
    out.commit().map_err(FetchError::io(path))
}
