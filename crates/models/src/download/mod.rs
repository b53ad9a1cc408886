//! One file over HTTP(S) into a partial file: resumed with `Range` where it stopped,
//! restarted from zero when the server ignores `Range` or the remote file changed,
//! retried with backoff on timeouts, dropped connections and 5xx, cancellable.
//!
//! Only bytes are moved here; checking them against the catalogue and installing them is
//! `crate::fetch`'s job.
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use thiserror::Error;
use virnucpro_core::CancelToken;

/// How often and how patiently to retry.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Tries in all for one file, the first included.
    pub attempts: u32,
    /// Wait before the second try; doubled for each further one.
    pub first_delay: Duration,
    /// The longest wait between tries.
    pub max_delay: Duration,
    /// Connect timeout, and the longest a response may stay silent mid-body.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            first_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
        }
    }
}

/// What to download where.
#[derive(Debug, Clone)]
pub struct DownloadRequest<'a> {
    pub url: &'a str,
    /// Appended to when it already holds a prefix of the file.
    pub partial: &'a Path,
    /// When known: a server answering with another length is a changed file.
    pub expected_size: Option<u64>,
}

/// The whole body is in the partial file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    pub size: u64,
    /// Lowercase hex SHA-256 of all of the partial file's bytes (a resumed prefix included).
    pub sha256: String,
    /// Bytes that were already there and kept (0 when it started from zero).
    pub resumed_from: u64,
}

/// Why a partial file was thrown away and the download started again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartReason {
    /// The server answered a `Range` request with the whole file (200).
    RangeIgnored,
    /// The remote file is not the one the partial file is a prefix of.
    RemoteChanged,
    /// The partial file is longer than the remote file (416).
    PartialTooLong,
}

/// What happens during a download, for progress displays.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DownloadEvent {
    /// Bytes in the partial file so far (a resumed prefix included).
    Progress {
        done: u64,
        total: Option<u64>,
        /// Over the last few seconds.
        bytes_per_second: f64,
    },
    Retrying {
        /// The try that failed (1-based).
        attempt: u32,
        attempts: u32,
        delay: Duration,
        reason: String,
    },
    Restarted { reason: RestartReason },
}

#[derive(Debug, Error)]
pub enum DownloadError {
    /// A 4xx: retrying will not help.
    #[error("{url}: the server answered {status}{}", reason_suffix(reason))]
    Refused {
        url: String,
        status: u16,
        reason: String,
    },
    /// Every try failed with a timeout, a dropped connection or a 5xx.
    #[error("{url}: failed after {attempts} tries; the last: {last}")]
    GaveUp {
        url: String,
        attempts: u32,
        last: String,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{url}: not a usable URL: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cancelled")]
    Cancelled,
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" ({reason})")
    }
}

impl DownloadError {
    /// The file is not at this address (404, 410): another source may have it.
    pub fn is_not_found(&self) -> bool {
        matches!(self, DownloadError::Refused { status: 404 | 410, .. })
    }
}
