//! `fetch_runtime`: the driver checked, each wheel found in the index and checked against
//! the pin, free space checked, the wheels downloaded (resumably) and verified, unpacked
//! into a temporary folder that is renamed into place, and the wheels removed.
use std::path::{Path, PathBuf};

use thiserror::Error;
use virnucpro_core::disk;
use virnucpro_core::CancelToken;

use super::{
    check_driver, runtime_status, RuntimeManifest, RuntimePaths, RuntimeState, RuntimeStatus, Wheel,
};
use crate::download::{DownloadError, DownloadRequest, Downloader, RetryPolicy};
use crate::fetch::progress::Meter;
use crate::fetch::{human_bytes, FetchEvent};
use crate::status::ModelState;

/// What the runtime is called in events and messages.
pub const RUNTIME: &str = "gpu-runtime";
/// The PEP 691 JSON form of an index page.
const INDEX_JSON: &str = "application/vnd.pypi.simple.v1+json";

#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    pub paths: RuntimePaths,
    /// The index to use instead of the manifest's (`PIP_INDEX_URL`, a mirror).
    pub index: Option<String>,
    pub retry: RetryPolicy,
    /// The NVIDIA driver version NVML reports, `None` without a driver.
    pub driver: Option<String>,
}

#[derive(Debug, Error)]
pub enum RuntimeError {
    #[error("{0}; nothing was downloaded")]
    DriverTooOld(String),
    #[error("this build uses libtorch {binary}, the runtime manifest is for {manifest}")]
    WrongLibtorch { binary: String, manifest: String },
    #[error("{file}: not listed by the package index at {index}")]
    NotInIndex { file: String, index: String },
    #[error("{file}: the package index says sha256:{index}, this build pins sha256:{pinned}; nothing was installed")]
    IndexMismatch {
        file: String,
        index: String,
        pinned: String,
    },
    #[error(
        "{file}: downloaded sha256:{actual}, the index says sha256:{expected}; it was removed"
    )]
    ChecksumMismatch {
        file: String,
        expected: String,
        actual: String,
    },
    #[error("not enough free space in {}: the GPU runtime needs {} more, {} are free", path.display(), human_bytes(*needed), human_bytes(*available))]
    NoSpace {
        path: PathBuf,
        needed: u64,
        available: u64,
    },
    #[error("{url}: {source}")]
    Download { url: String, source: DownloadError },
    #[error("{}: not a usable wheel: {reason}", path.display())]
    BadWheel { path: PathBuf, reason: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cancelled; the downloaded part is kept and the next fetch resumes it")]
    Cancelled,
    #[error(
        "the GPU runtime is being fetched by another VirNucPro process; try again when it ends"
    )]
    Busy,
}

impl RuntimeError {
    pub(super) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> RuntimeError {
        let path = path.into();
        move |source| RuntimeError::Io { path, source }
    }

    fn download(url: &str) -> impl FnOnce(DownloadError) -> RuntimeError + '_ {
        move |source| match source {
            DownloadError::Cancelled => RuntimeError::Cancelled,
            source => RuntimeError::Download {
                url: url.to_string(),
                source,
            },
        }
    }
}

pub(super) fn wheel_path(paths: &RuntimePaths, wheel: &Wheel) -> PathBuf {
    paths.wheels.join(&wheel.filename)
}

pub(super) fn wheel_partial(paths: &RuntimePaths, wheel: &Wheel) -> PathBuf {
    paths.wheels.join(format!(".{}.incomplete", wheel.filename))
}

/// Install the runtime of `manifest` for a binary built against libtorch `binary`.
pub fn fetch_runtime(
    manifest: &RuntimeManifest,
    binary: &str,
    options: &RuntimeOptions,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(&FetchEvent),
) -> Result<RuntimeStatus, RuntimeError> {
    if manifest.libtorch != binary {
        return Err(RuntimeError::WrongLibtorch {
            binary: binary.to_string(),
            manifest: manifest.libtorch.clone(),
        });
    }
    let driver = check_driver(options.driver.as_deref(), manifest.min_driver);
    if driver.blocks_install() {
        return Err(RuntimeError::DriverTooOld(driver.message(&manifest.cuda)));
    }
    tracing::info!(driver = %driver.message(&manifest.cuda));
    let _lock =
        crate::lock::try_lock(&options.paths.wheels, RUNTIME).map_err(|failure| match failure {
            crate::lock::LockFailure::Busy => RuntimeError::Busy,
            crate::lock::LockFailure::Io { path, source } => RuntimeError::Io { path, source },
        })?;
    let status = runtime_status(manifest, &options.paths);
    if status.state == RuntimeState::Installed {
        return Ok(status);
    }
    let index = options
        .index
        .clone()
        .unwrap_or_else(|| manifest.index.clone());
    let downloader =
        Downloader::new(options.retry.clone()).map_err(RuntimeError::download(&index))?;
    let urls = manifest
        .wheels
        .iter()
        .map(|wheel| wheel_url(&downloader, &index, wheel, cancel))
        .collect::<Result<Vec<_>, _>>()?;
    check_space(manifest, &options.paths)?;
    on_event(&FetchEvent::Started {
        model: RUNTIME.into(),
        source: index.clone(),
        files: manifest.wheels.len(),
        bytes_total: Some(manifest.download_bytes()),
        bytes_to_get: to_download(manifest, &options.paths),
    });
    let mut meter = Meter::new(
        present(manifest, &options.paths),
        Some(manifest.download_bytes()),
    );
    for (wheel, url) in manifest.wheels.iter().zip(&urls) {
        download_wheel(
            &downloader,
            wheel,
            url,
            &options.paths,
            &mut meter,
            cancel,
            on_event,
        )?;
    }
    let dir = options.paths.runtime_dir(&manifest.libtorch);
    super::unpack::unpack_all(manifest, &options.paths, &dir, cancel, on_event)?;
    for wheel in &manifest.wheels {
        let _ = std::fs::remove_file(wheel_path(&options.paths, wheel));
    }
    let status = runtime_status(manifest, &options.paths);
    on_event(&FetchEvent::Finished {
        model: RUNTIME.into(),
        state: ModelState::Verified,
        path: status.path.clone(),
    });
    Ok(status)
}

/// The wheel's URL from the index page of its project (PEP 691 JSON), whose SHA-256 must
/// be the pinned one.
fn wheel_url(
    downloader: &Downloader,
    index: &str,
    wheel: &Wheel,
    cancel: &CancelToken,
) -> Result<String, RuntimeError> {
    let page = format!("{}/{}/", index.trim_end_matches('/'), wheel.project);
    let body = downloader
        .get_small(&page, INDEX_JSON, 64 << 20, cancel)
        .map_err(RuntimeError::download(&page))?;
    let listing: serde_json::Value =
        serde_json::from_slice(&body).map_err(|err| RuntimeError::Download {
            url: page.clone(),
            source: DownloadError::BadUrl {
                url: page.clone(),
                reason: format!("not a PEP 691 index page: {err}"),
            },
        })?;
    let file = listing["files"]
        .as_array()
        .and_then(|files| {
            files
                .iter()
                .find(|f| f["filename"] == wheel.filename.as_str())
        })
        .ok_or_else(|| RuntimeError::NotInIndex {
            file: wheel.filename.clone(),
            index: index.to_string(),
        })?;
    let listed = file["hashes"]["sha256"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if listed != wheel.sha256 {
        return Err(RuntimeError::IndexMismatch {
            file: wheel.filename.clone(),
            index: listed,
            pinned: wheel.sha256.clone(),
        });
    }
    let url = file["url"].as_str().unwrap_or_default();
    Ok(resolve_url(&page, url))
}

/// A URL of an index page: absolute, host-relative or page-relative (PEP 691 allows all).
fn resolve_url(page: &str, url: &str) -> String {
    if url.contains("://") {
        return url.to_string();
    }
    if let Some(rest) = url.strip_prefix('/') {
        let origin_end = page.find("://").map_or(0, |at| at + 3);
        let host_end = page[origin_end..]
            .find('/')
            .map_or(page.len(), |at| origin_end + at);
        return format!("{}/{rest}", &page[..host_end]);
    }
    format!("{page}{url}")
}

fn present(manifest: &RuntimeManifest, paths: &RuntimePaths) -> u64 {
    manifest.download_bytes() - to_download(manifest, paths)
}

fn to_download(manifest: &RuntimeManifest, paths: &RuntimePaths) -> u64 {
    manifest
        .wheels
        .iter()
        .map(|w| match std::fs::metadata(wheel_path(paths, w)) {
            Ok(m) if m.len() == w.size => 0,
            _ => {
                w.size
                    - std::fs::metadata(wheel_partial(paths, w))
                        .map_or(0, |m| m.len())
                        .min(w.size)
            }
        })
        .sum()
}

/// The downloads and the unpacked libraries, on whichever file systems they go to.
fn check_space(manifest: &RuntimeManifest, paths: &RuntimePaths) -> Result<(), RuntimeError> {
    let download = to_download(manifest, paths);
    let unpack = manifest.unpacked_bytes();
    let wheels_fs = device_of(&paths.wheels);
    let install_fs = device_of(&paths.install);
    let needs: Vec<(&Path, u64)> = if wheels_fs.is_some() && wheels_fs == install_fs {
        vec![(paths.install.as_path(), download + unpack)]
    } else {
        vec![
            (paths.wheels.as_path(), download),
            (paths.install.as_path(), unpack),
        ]
    };
    for (path, needed) in needs {
        let Some(existing) = disk::nearest_existing_dir(path) else {
            continue;
        };
        let (_, available) = disk::available_space(existing).map_err(RuntimeError::io(existing))?;
        if needed > available {
            return Err(RuntimeError::NoSpace {
                path: path.to_path_buf(),
                needed,
                available,
            });
        }
    }
    Ok(())
}

fn device_of(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    crate::layout::existing_ancestor(path)
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| m.dev())
}

fn download_wheel(
    downloader: &Downloader,
    wheel: &Wheel,
    url: &str,
    paths: &RuntimePaths,
    meter: &mut Meter,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(&FetchEvent),
) -> Result<(), RuntimeError> {
    let done = wheel_path(paths, wheel);
    if std::fs::metadata(&done).is_ok_and(|m| m.len() == wheel.size) {
        return Ok(()); // checked when it was renamed into place
    }
    let partial = wheel_partial(paths, wheel);
    std::fs::create_dir_all(&paths.wheels).map_err(RuntimeError::io(&paths.wheels))?;
    on_event(&FetchEvent::FileStarted {
        model: RUNTIME.into(),
        file: wheel.filename.clone(),
        size: Some(wheel.size),
        url: url.to_string(),
    });
    meter.start_file(std::fs::metadata(&partial).map_or(0, |m| m.len()));
    let request = DownloadRequest {
        url,
        partial: &partial,
        expected_size: Some(wheel.size),
    };
    let mut relay = |event: &crate::download::DownloadEvent| {
        if let Some(out) = meter.relay(RUNTIME, &wheel.filename, event) {
            on_event(&out);
        }
    };
    let downloaded = downloader
        .download(&request, cancel, &mut relay)
        .map_err(RuntimeError::download(url))?;
    if downloaded.sha256 != wheel.sha256 {
        let _ = std::fs::remove_file(&partial);
        return Err(RuntimeError::ChecksumMismatch {
            file: wheel.filename.clone(),
            expected: wheel.sha256.clone(),
            actual: downloaded.sha256,
        });
    }
    std::fs::rename(&partial, &done).map_err(RuntimeError::io(&done))?;
    meter.finish_file(downloaded.size);
    Ok(())
}

/// Remove the runtime (and any wheels of it still downloaded); what was there, in bytes.
pub fn remove_runtime(
    manifest: &RuntimeManifest,
    paths: &RuntimePaths,
) -> Result<u64, RuntimeError> {
    let status = runtime_status(manifest, paths);
    if status.path.exists() {
        std::fs::remove_dir_all(&status.path).map_err(RuntimeError::io(&status.path))?;
    }
    for wheel in &manifest.wheels {
        for path in [wheel_path(paths, wheel), wheel_partial(paths, wheel)] {
            let _ = std::fs::remove_file(&path);
            let _ = std::fs::remove_file(path.with_extension("incomplete.validator"));
        }
    }
    Ok(status.bytes_present)
}

#[cfg(test)]
mod tests {
    use super::resolve_url;

    #[test]
    fn index_urls_resolve_like_pip() {
        let page = "https://pypi.org/simple/torch/";
        assert_eq!(
            resolve_url(page, "https://files.example/t.whl"),
            "https://files.example/t.whl"
        );
        assert_eq!(
            resolve_url(page, "/packages/t.whl"),
            "https://pypi.org/packages/t.whl"
        );
        assert_eq!(
            resolve_url(page, "t.whl"),
            "https://pypi.org/simple/torch/t.whl"
        );
    }
}
