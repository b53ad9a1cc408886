//! Whether the weights given to a run are the catalogue's, byte for byte, as far as the
//! recorded checks say (nothing is hashed here: a run must not start by reading 6 GB).
use std::path::Path;

use crate::catalogue::{Catalogue, CatalogueSource, ModelRole};
use crate::roots::CacheRoots;
use crate::stamps::Stamps;

/// A field of the run's manifest, so its type is the run folder's (`core::run_folder`).
pub use virnucpro_core::run_folder::Provenance;

/// The provenance of `path` (a file, or a model folder) given to a run as `role`.
pub fn provenance(
    catalogue: &Catalogue,
    roots: &CacheRoots,
    role: ModelRole,
    path: &Path,
) -> Provenance {
    let stamps = Stamps::in_folder(&roots.virnucpro);
    catalogue
        .entries
        .iter()
        .filter(|entry| entry.role == role)
        .find(|entry| {
            entry
                .sources
                .iter()
                .any(|s| source_matches(s, path, &stamps))
        })
        .map_or(Provenance::Unverified, |entry| Provenance::Verified {
            model: entry.id.clone(),
        })
}

fn source_matches(source: &CatalogueSource, path: &Path, stamps: &Stamps) -> bool {
    let verified = |file: &Path, expected: &crate::Checksum| {
        stamps.lookup(file, expected).as_ref() == Some(expected)
    };
    if path.is_file() {
        // A single weight file: the one the source gives a run.
        return source
            .files
            .iter()
            .filter(|f| source.use_file.as_ref() == Some(&f.name))
            .filter_map(|f| f.checksum.as_ref())
            .any(|expected| verified(path, expected));
    }
    let needed: Vec<_> = source
        .files
        .iter()
        .filter(|f| !f.python_only)
        .filter_map(|f| f.checksum.as_ref().map(|c| (f, c)))
        .collect();
    !needed.is_empty()
        && needed
            .iter()
            .all(|(file, expected)| verified(&path.join(&file.name), expected))
}
