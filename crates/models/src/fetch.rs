//! Getting one catalogue model onto this machine: free space checked before the first
//! byte, each file downloaded (resumably) to a partial file, checked against its size and
//! checksum, and only then moved into place. A file that does not match is reported with
//! both checksums and not installed.
use std::path::PathBuf;

use serde::Serialize;
use thiserror::Error;
use virnucpro_core::CancelToken;

use crate::catalogue::{Catalogue, CatalogueEntry, CatalogueFile, CatalogueSource};
use crate::checksum::Checksum;
use crate::download::{DownloadError, DownloadEvent, Downloader, RestartReason, RetryPolicy};
use crate::endpoints::Endpoints;
use crate::roots::CacheRoots;
use crate::stamps::Stamps;
use crate::status::{entry_status, ModelState, ModelStatus};

pub(crate) mod install;
mod plan;
pub(crate) mod progress;

/// Where to install, where from, how patiently.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub roots: CacheRoots,
    pub endpoints: Endpoints,
    pub retry: RetryPolicy,
}

/// What happens while a model is fetched, for progress displays (and the desktop's
/// Channel, hence the tags).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum FetchEvent {
    /// The plan: `bytes_to_get` of `bytes_total` are still to be downloaded.
    Started {
        model: String,
        source: String,
        files: usize,
        bytes_total: Option<u64>,
        bytes_to_get: u64,
    },
    /// An installed file is being hashed (before deciding whether to download it again).
    Verifying { model: String, file: String },
    /// A downloaded archive (a GPU runtime's wheel) is being unpacked.
    Unpacking { model: String, file: String },
    FileStarted {
        model: String,
        file: String,
        size: Option<u64>,
        url: String,
    },
    Progress {
        model: String,
        file: String,
        /// Bytes of the model on disk, resumed and finished files included.
        done: u64,
        total: Option<u64>,
        bytes_per_second: f64,
        seconds_left: Option<f64>,
    },
    Retrying {
        model: String,
        file: String,
        attempt: u32,
        attempts: u32,
        delay_seconds: f64,
        reason: String,
    },
    Restarted {
        model: String,
        file: String,
        reason: RestartReason,
    },
    FileInstalled {
        model: String,
        file: String,
        path: PathBuf,
        verified: bool,
    },
    /// The first source failed in a way another may not (not found, unreachable).
    FallingBack {
        model: String,
        from: String,
        to: String,
        reason: String,
    },
    Finished {
        model: String,
        state: ModelState,
        path: PathBuf,
    },
}

#[derive(Debug, Error)]
pub enum FetchError {
    #[error("no model {id:?} in the catalogue; it has {}", known.join(", "))]
    UnknownModel { id: String, known: Vec<String> },
    #[error(
        "not enough free space in {}: {model} needs {} more, {} are free",
        path.display(), human_bytes(*needed), human_bytes(*available)
    )]
    NoSpace {
        model: String,
        path: PathBuf,
        needed: u64,
        available: u64,
    },
    #[error(
        "{model}: {file} from {} does not match the catalogue: expected {}, got {}; it was not installed",
        mismatch.url, mismatch.expected, mismatch.actual
    )]
    ChecksumMismatch {
        model: String,
        file: String,
        /// Boxed: errors travel in every `Result` of a fetch, and this one is the largest.
        mismatch: Box<Mismatch>,
    },
    #[error(
        "{model}: {file} from {url} is {actual} bytes, the catalogue says {expected}; it was not installed"
    )]
    SizeMismatch {
        model: String,
        file: String,
        url: String,
        expected: u64,
        actual: u64,
    },
    #[error("{model}: {file}: {source}")]
    Download {
        model: String,
        file: String,
        source: DownloadError,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cancelled; what was downloaded is kept and the next fetch resumes it")]
    Cancelled,
    /// Another fetch of the same model is running (the app, or another terminal).
    #[error("{model} is being fetched by another VirNucPro process; try again when it ends")]
    Busy { model: String },
}

impl FetchError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> FetchError {
        let path = path.into();
        move |source| FetchError::Io { path, source }
    }

    /// Worth trying the next source: the file is not there, or the host cannot be reached.
    fn another_source_may_help(&self) -> bool {
        matches!(
            self,
            FetchError::Download { source, .. }
                if source.is_not_found() || matches!(source, DownloadError::GaveUp { .. })
        )
    }
}

/// What was downloaded instead of a file's pinned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub url: String,
    pub expected: Checksum,
    pub actual: Checksum,
}

/// `1.2 GB`-style sizes for messages.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Fetch the model `id`: nothing when it is verified already, its missing or damaged files
/// otherwise, from its first source, then from the others if the first cannot be reached.
pub fn fetch(
    catalogue: &Catalogue,
    id: &str,
    options: &FetchOptions,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(&FetchEvent),
) -> Result<ModelStatus, FetchError> {
    let entry = catalogue.entry_or_unknown(id)?;
    let _lock =
        crate::lock::try_lock(&options.roots.virnucpro, id).map_err(|failure| match failure {
            crate::lock::LockFailure::Busy => FetchError::Busy {
                model: id.to_string(),
            },
            crate::lock::LockFailure::Io { path, source } => FetchError::Io { path, source },
        })?;
    let stamps = Stamps::in_folder(&options.roots.virnucpro);
    let downloader =
        Downloader::new(options.retry.clone()).map_err(|source| FetchError::Download {
            model: id.to_string(),
            file: String::new(),
            source,
        })?;
    let job = Job {
        entry,
        options,
        stamps: &stamps,
        downloader: &downloader,
        cancel,
    };
    let mut sources = entry.sources.iter().peekable();
    while let Some(source) = sources.next() {
        match job.source(source, on_event) {
            Ok(()) => break,
            Err(err) if err.another_source_may_help() && sources.peek().is_some() => {
                let next = sources.peek().map_or(String::new(), |s| s.name.clone());
                tracing::warn!(model = id, from = %source.name, to = %next, %err, "falling back");
                on_event(&FetchEvent::FallingBack {
                    model: id.to_string(),
                    from: source.name.clone(),
                    to: next,
                    reason: err.to_string(),
                });
            }
            Err(err) => return Err(err),
        }
    }
    let status = entry_status(entry, &options.roots, &stamps);
    on_event(&FetchEvent::Finished {
        model: id.to_string(),
        state: status.state,
        path: status.path.clone(),
    });
    Ok(status)
}

/// One model being fetched.
struct Job<'a> {
    entry: &'a CatalogueEntry,
    options: &'a FetchOptions,
    stamps: &'a Stamps,
    downloader: &'a Downloader,
    cancel: &'a CancelToken,
}

impl Job<'_> {
    fn model(&self) -> String {
        self.entry.id.clone()
    }

    fn source(
        &self,
        source: &CatalogueSource,
        on_event: &mut dyn FnMut(&FetchEvent),
    ) -> Result<(), FetchError> {
        let plan = plan::make(self, source, on_event)?;
        on_event(&FetchEvent::Started {
            model: self.model(),
            source: source.name.clone(),
            files: source.files.len(),
            bytes_total: source.size(),
            bytes_to_get: plan.bytes_to_get(),
        });
        plan::check_space(self, source, &plan)?;
        let mut meter = progress::Meter::new(plan.bytes_present(), source.size());
        for step in &plan.downloads {
            self.download_file(source, step, &mut meter, on_event)?;
        }
        Ok(())
    }

    fn download_file(
        &self,
        source: &CatalogueSource,
        step: &plan::Download,
        meter: &mut progress::Meter,
        on_event: &mut dyn FnMut(&FetchEvent),
    ) -> Result<(), FetchError> {
        let file = step.file;
        let url = self.options.endpoints.url(source, file);
        on_event(&FetchEvent::FileStarted {
            model: self.model(),
            file: file.name.clone(),
            size: file.size,
            url: url.clone(),
        });
        if let Some(dir) = step.partial.parent() {
            std::fs::create_dir_all(dir).map_err(FetchError::io(dir))?;
        }
        let request = crate::download::DownloadRequest {
            url: &url,
            partial: &step.partial,
            expected_size: file.size,
        };
        meter.start_file(step.resume_from);
        let mut relay = |event: &DownloadEvent| {
            if let Some(out) = meter.relay(&self.entry.id, &file.name, event) {
                on_event(&out);
            }
        };
        let downloaded = self
            .downloader
            .download(&request, self.cancel, &mut relay)
            .map_err(|source| match source {
                DownloadError::Cancelled => FetchError::Cancelled,
                source => FetchError::Download {
                    model: self.model(),
                    file: file.name.clone(),
                    source,
                },
            })?;
        self.check(file, &url, step, &downloaded)?;
        let path = install::install(
            &self.options.roots,
            self.stamps,
            source,
            file,
            &step.partial,
            &downloaded.sha256,
        )?;
        meter.finish_file(downloaded.size);
        on_event(&FetchEvent::FileInstalled {
            model: self.model(),
            file: file.name.clone(),
            path,
            verified: file.checksum.is_some(),
        });
        Ok(())
    }

    /// Size and checksum of the downloaded bytes; on a mismatch the partial file is
    /// removed (its bytes are wrong, resuming them would only keep them).
    fn check(
        &self,
        file: &CatalogueFile,
        url: &str,
        step: &plan::Download,
        downloaded: &crate::download::Downloaded,
    ) -> Result<(), FetchError> {
        let reject = |err: FetchError| {
            let _ = std::fs::remove_file(&step.partial);
            Err(err)
        };
        if let Some(expected) = file.size.filter(|&size| size != downloaded.size) {
            return reject(FetchError::SizeMismatch {
                model: self.model(),
                file: file.name.clone(),
                url: url.to_string(),
                expected,
                actual: downloaded.size,
            });
        }
        let Some(expected) = &file.checksum else {
            return Ok(());
        };
        let actual = match expected {
            Checksum::Sha256(_) => Checksum::Sha256(downloaded.sha256.clone()),
            other => other
                .of_file(&step.partial)
                .map_err(FetchError::io(&step.partial))?,
        };
        if &actual != expected {
            return reject(FetchError::ChecksumMismatch {
                model: self.model(),
                file: file.name.clone(),
                mismatch: Box::new(Mismatch {
                    url: url.to_string(),
                    expected: expected.clone(),
                    actual,
                }),
            });
        }
        Ok(())
    }
}
