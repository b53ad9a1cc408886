//! Where each catalogue file lives once installed, and where it is downloaded to first.
//!
//! The Hugging Face layout is `huggingface_hub`'s own: the bytes in `blobs/{etag}` (the
//! SHA-256 for LFS files, the git blob id for the others), `snapshots/{revision}/{file}` a
//! relative link to the blob, and `refs/main` holding the revision. Partial downloads are
//! `blobs/{sha256}.incomplete`, as Python names them.
use std::path::{Path, PathBuf};

use crate::catalogue::{CatalogueFile, CatalogueSource, Store};
use crate::checksum::Checksum;
use crate::roots::CacheRoots;

/// `models--ORG--NAME`, as the hub cache names a repository's folder.
pub fn hub_repo_folder(repo: &str) -> String {
    format!("models--{}", repo.replace('/', "--"))
}

/// The folder a source's files go into (the repository folder for the hub).
pub fn source_dir(roots: &CacheRoots, source: &CatalogueSource) -> PathBuf {
    match &source.store {
        Store::HfRepo { repo, .. } => roots.hf_hub.join(hub_repo_folder(repo)),
        Store::TorchCheckpoints => roots.torch_checkpoints.clone(),
        Store::Virnucpro { folder } => roots.virnucpro.join(folder),
    }
}

/// Where a run finds the file (through the snapshot link on the hub).
pub fn installed_path(
    roots: &CacheRoots,
    source: &CatalogueSource,
    file: &CatalogueFile,
) -> PathBuf {
    match &source.store {
        Store::HfRepo { revision, .. } => snapshot_dir(roots, source, revision).join(&file.name),
        _ => source_dir(roots, source).join(&file.name),
    }
}

fn snapshot_dir(roots: &CacheRoots, source: &CatalogueSource, revision: &str) -> PathBuf {
    source_dir(roots, source).join("snapshots").join(revision)
}

/// What a run is given: the `use_file`, else the snapshot folder.
pub fn use_path(roots: &CacheRoots, source: &CatalogueSource) -> PathBuf {
    let named = source
        .use_file
        .as_ref()
        .and_then(|name| source.files.iter().find(|f| &f.name == name));
    match (named, &source.store) {
        (Some(file), _) => installed_path(roots, source, file),
        (None, Store::HfRepo { revision, .. }) => snapshot_dir(roots, source, revision),
        (None, _) => source_dir(roots, source),
    }
}

/// Where the bytes are downloaded to before they are checked.
pub fn partial_path(roots: &CacheRoots, source: &CatalogueSource, file: &CatalogueFile) -> PathBuf {
    match &source.store {
        Store::HfRepo { .. } => {
            let stem = match &file.checksum {
                Some(Checksum::Sha256(hex)) => hex.clone(),
                _ => format!("virnucpro-{}", file.name.replace('/', "--")),
            };
            source_dir(roots, source)
                .join("blobs")
                .join(format!("{stem}.incomplete"))
        }
        _ => source_dir(roots, source).join(format!(".{}.incomplete", file.name)),
    }
}

/// The relative link target from `snapshots/{rev}/{name}` to `blobs/{blob}`.
pub fn snapshot_link_target(name: &str, blob: &str) -> PathBuf {
    let depth = name.split('/').count() + 1; // the file's folders, plus the revision folder
    let mut target = PathBuf::new();
    for _ in 0..depth {
        target.push("..");
    }
    target.join("blobs").join(blob)
}

/// The blob path of the hub's layout for a finished file.
pub fn blob_path(roots: &CacheRoots, source: &CatalogueSource, blob: &str) -> PathBuf {
    source_dir(roots, source).join("blobs").join(blob)
}

/// `refs/main` of a hub repository folder.
pub fn main_ref(roots: &CacheRoots, source: &CatalogueSource) -> PathBuf {
    source_dir(roots, source).join("refs").join("main")
}

/// The nearest folder of `path` that exists (for free-space checks before it is made).
pub fn existing_ancestor(path: &Path) -> Option<&Path> {
    path.ancestors().find(|p| p.is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_links_climb_out_of_the_revision_and_nested_folders() {
        assert_eq!(
            snapshot_link_target("config.json", "abc"),
            Path::new("../../blobs/abc")
        );
        assert_eq!(
            snapshot_link_target("1_Pooling/config.json", "abc"),
            Path::new("../../../blobs/abc")
        );
        assert_eq!(
            hub_repo_folder("zhihan1996/DNABERT-S"),
            "models--zhihan1996--DNABERT-S"
        );
    }
}
