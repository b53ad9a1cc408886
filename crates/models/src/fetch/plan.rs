//! What a fetch must do for a source: which files are in place already (hashed first when
//! they never were), which to download and from which byte, and whether they fit on disk.
use std::path::{Path, PathBuf};

use crate::catalogue::{CatalogueFile, CatalogueSource, Store};
use crate::layout;
use virnucpro_core::disk;

use super::{FetchError, FetchEvent, Job};

/// One file to download.
pub struct Download<'a> {
    pub file: &'a CatalogueFile,
    pub partial: PathBuf,
    /// Bytes already in the partial file.
    pub resume_from: u64,
    /// The catalogue's size, else the server's.
    pub size: Option<u64>,
}

pub struct Plan<'a> {
    pub downloads: Vec<Download<'a>>,
    /// Bytes of the files that are in place.
    pub in_place: u64,
}

impl Plan<'_> {
    pub fn bytes_to_get(&self) -> u64 {
        self.downloads
            .iter()
            .map(|d| d.size.unwrap_or(0).saturating_sub(d.resume_from))
            .sum()
    }

    pub fn bytes_present(&self) -> u64 {
        self.in_place + self.downloads.iter().map(|d| d.resume_from).sum::<u64>()
    }
}

pub fn make<'a>(
    job: &Job<'_>,
    source: &'a CatalogueSource,
    on_event: &mut dyn FnMut(&FetchEvent),
) -> Result<Plan<'a>, FetchError> {
    let roots = &job.options.roots;
    let mut plan = Plan {
        downloads: Vec::new(),
        in_place: 0,
    };
    for file in &source.files {
        let installed = layout::installed_path(roots, source, file);
        if let Some(size) = in_place(job, source, file, &installed, on_event)? {
            plan.in_place += size;
            continue;
        }
        let partial = layout::partial_path(roots, source, file);
        let resume_from = std::fs::metadata(&partial).map_or(0, |m| m.len());
        let size = match file.size {
            Some(size) => Some(size),
            None => remote_size(job, source, file)?,
        };
        plan.downloads.push(Download {
            file,
            partial,
            resume_from,
            size,
        });
    }
    Ok(plan)
}

/// The installed file's size when it is in place and good; a damaged one is removed.
fn in_place(
    job: &Job<'_>,
    source: &CatalogueSource,
    file: &CatalogueFile,
    installed: &Path,
    on_event: &mut dyn FnMut(&FetchEvent),
) -> Result<Option<u64>, FetchError> {
    let Some(meta) = std::fs::metadata(installed).ok().filter(|m| m.is_file()) else {
        return Ok(None);
    };
    let good = match (&file.checksum, file.size) {
        (_, Some(size)) if size != meta.len() => false,
        (None, _) => true,
        (Some(expected), _) => {
            let found = match job.stamps.lookup(installed, expected) {
                Some(found) => found,
                None => {
                    on_event(&FetchEvent::Verifying {
                        model: job.model(),
                        file: file.name.clone(),
                    });
                    let found = expected
                        .of_file(installed)
                        .map_err(FetchError::io(installed))?;
                    job.stamps.record(installed, &found);
                    found
                }
            };
            &found == expected
        }
    };
    if good {
        return Ok(Some(meta.len()));
    }
    tracing::warn!(file = %installed.display(), "installed file does not match the catalogue; downloading it again");
    remove_installed(source, installed)?;
    Ok(None)
}

/// Remove a damaged file (on the hub: the snapshot link and the blob behind it).
fn remove_installed(source: &CatalogueSource, installed: &Path) -> Result<(), FetchError> {
    if matches!(source.store, Store::HfRepo { .. }) {
        if let Ok(blob) = std::fs::canonicalize(installed) {
            std::fs::remove_file(&blob).map_err(FetchError::io(&blob))?;
        }
    }
    match std::fs::remove_file(installed) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            Err(FetchError::io(installed)(err))
        }
        _ => Ok(()),
    }
}

fn remote_size(
    job: &Job<'_>,
    source: &CatalogueSource,
    file: &CatalogueFile,
) -> Result<Option<u64>, FetchError> {
    let url = job.options.endpoints.url(source, file);
    job.downloader
        .remote_size(&url, job.cancel)
        .map_err(|source| match source {
            crate::download::DownloadError::Cancelled => FetchError::Cancelled,
            source => FetchError::Download {
                model: job.model(),
                file: file.name.clone(),
                source,
            },
        })
}

/// Refuse before the first byte when the rest does not fit where it goes.
pub fn check_space(
    job: &Job<'_>,
    source: &CatalogueSource,
    plan: &Plan<'_>,
) -> Result<(), FetchError> {
    let needed = plan.bytes_to_get();
    if needed == 0 {
        return Ok(());
    }
    let target = layout::source_dir(&job.options.roots, source);
    let Some(existing) = disk::nearest_existing_dir(&target) else {
        return Ok(());
    };
    let (_, available) = disk::available_space(existing).map_err(FetchError::io(existing))?;
    if needed > available {
        return Err(FetchError::NoSpace {
            model: job.model(),
            path: target,
            needed,
            available,
        });
    }
    Ok(())
}
