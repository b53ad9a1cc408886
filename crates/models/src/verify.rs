//! Hashing what is installed again, whatever was recorded before: the answer to "is my
//! copy still good?" after a disk scare or a copy between machines.
use virnucpro_core::CancelToken;

use crate::catalogue::Catalogue;
use crate::fetch::{FetchError, FetchEvent};
use crate::roots::CacheRoots;
use crate::stamps::Stamps;
use crate::status::{entry_status, FileState, ModelStatus};

/// Hash every installed, pinned file of model `id` and record the result; the returned
/// status says verified or damaged.
pub fn verify(
    catalogue: &Catalogue,
    id: &str,
    roots: &CacheRoots,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(&FetchEvent),
) -> Result<ModelStatus, FetchError> {
    let entry = catalogue.entry_or_unknown(id)?;
    let stamps = Stamps::in_folder(&roots.virnucpro);
    let before = entry_status(entry, roots, &stamps);
    let Some(source) = entry.sources.iter().find(|s| s.name == before.source) else {
        return Ok(before);
    };
    for (file, seen) in source.files.iter().zip(&before.files) {
        let present = !matches!(seen.state, FileState::Missing | FileState::Partial { .. });
        let Some(expected) = file.checksum.as_ref().filter(|_| present) else {
            continue;
        };
        if cancel.is_cancelled() {
            return Err(FetchError::Cancelled);
        }
        on_event(&FetchEvent::Verifying {
            model: id.to_string(),
            file: file.name.clone(),
        });
        let found = expected
            .of_file(&seen.path)
            .map_err(FetchError::io(&seen.path))?;
        if &found != expected {
            tracing::warn!(file = %seen.path.display(), %expected, %found, "checksum mismatch");
        }
        stamps.record(&seen.path, &found);
    }
    Ok(entry_status(entry, roots, &stamps))
}
