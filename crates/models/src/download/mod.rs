//! One file over HTTP(S) into a partial file: resumed with `Range` where it stopped,
//! restarted from zero when the server ignores `Range` or the remote file changed,
//! retried with backoff on timeouts, dropped connections and 5xx, cancellable.
//!
//! Only bytes are moved here; checking them against the catalogue and installing them is
//! `crate::fetch`'s job.
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::Method;
use serde::Serialize;
use thiserror::Error;
use virnucpro_core::CancelToken;

mod backoff;
mod http;
mod partial;
mod progress;
mod session;

use session::Session;

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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
    Restarted {
        reason: RestartReason,
    },
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
    /// The HTTP client could not be set up (TLS, proxy settings).
    #[error("cannot set up the HTTP client: {reason}")]
    Client { reason: String },
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
        matches!(
            self,
            DownloadError::Refused {
                status: 404 | 410,
                ..
            }
        )
    }
}

/// Why one try failed: worth another try, or not.
enum Failure {
    /// A timeout, a failed or dropped connection, a body cut short, a 5xx.
    Transient {
        reason: String,
        /// The server's `Retry-After`.
        retry_after: Option<Duration>,
    },
    Fatal(DownloadError),
}

impl Failure {
    fn transient(reason: impl Into<String>, retry_after: Option<Duration>) -> Failure {
        Failure::Transient {
            reason: reason.into(),
            retry_after,
        }
    }
}

impl From<DownloadError> for Failure {
    fn from(e: DownloadError) -> Failure {
        Failure::Fatal(e)
    }
}

/// Downloads files over HTTP(S), resuming, retrying and restarting as the module says.
#[derive(Debug, Clone)]
pub struct Downloader {
    client: Client,
    policy: RetryPolicy,
}

impl Downloader {
    /// A client that honours `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY`/`NO_PROXY`, with the
    /// policy's timeouts and the user agent `virnucpro/<version>`.
    pub fn new(policy: RetryPolicy) -> Result<Downloader, DownloadError> {
        let client = http::client(&policy)?;
        Ok(Downloader { client, policy })
    }

    /// Downloads `req.url` into `req.partial`, resuming from the bytes it already holds.
    ///
    /// On `Ok` the partial file holds the whole body, flushed to disk, and its sidecar
    /// `<partial>.validator` is gone. On any error the partial file is kept for a later
    /// resume. Whether the bytes are the right ones (size, checksum) is the caller's to
    /// check.
    pub fn download(
        &self,
        req: &DownloadRequest<'_>,
        cancel: &CancelToken,
        on_event: &mut dyn FnMut(&DownloadEvent),
    ) -> Result<Downloaded, DownloadError> {
        http::check_url(req.url)?;
        let mut session = Session::open(req)?;
        tracing::info!(
            url = req.url,
            partial = %req.partial.display(),
            resume_from = session.resumed_from(),
            "downloading"
        );
        self.retrying(req.url, cancel, on_event, |on_event| {
            session.attempt(&self.client, cancel, on_event)
        })?;
        session.finish(on_event)
    }

    /// The remote file's size from a `HEAD` request (retried like a download); `None` when
    /// the server sends no `Content-Length`.
    pub fn remote_size(
        &self,
        url: &str,
        cancel: &CancelToken,
    ) -> Result<Option<u64>, DownloadError> {
        http::check_url(url)?;
        self.retrying(url, cancel, &mut |_| {}, |_| {
            let response = http::send(&self.client, Method::HEAD, url, 0, None)?;
            if response.status().is_success() {
                Ok(http::content_length(response.headers()))
            } else {
                Err(http::status_failure(url, &response))
            }
        })
    }

    /// A small document (a package index page), retried like a download; `accept` is sent
    /// as the `Accept` header. Refused above `limit` bytes: an index page is not a model.
    pub fn get_small(
        &self,
        url: &str,
        accept: &str,
        limit: usize,
        cancel: &CancelToken,
    ) -> Result<Vec<u8>, DownloadError> {
        http::check_url(url)?;
        self.retrying(url, cancel, &mut |_| {}, |_| {
            let response = self
                .client
                .get(url)
                .header(reqwest::header::ACCEPT, accept)
                .send()
                .map_err(|e| http::from_reqwest(url, &e))?;
            if !response.status().is_success() {
                return Err(http::status_failure(url, &response));
            }
            let mut body = Vec::new();
            std::io::Read::read_to_end(
                &mut std::io::Read::take(response, limit as u64 + 1),
                &mut body,
            )
            .map_err(|e| Failure::transient(format!("reading the body: {e}"), None))?;
            if body.len() > limit {
                return Err(Failure::Fatal(DownloadError::Refused {
                    url: url.to_string(),
                    status: 200,
                    reason: format!("more than {limit} bytes"),
                }));
            }
            Ok(body)
        })
    }

    /// Runs `try_once` until it succeeds, fails for good, or has failed `attempts` times,
    /// waiting with backoff between tries.
    fn retrying<T>(
        &self,
        url: &str,
        cancel: &CancelToken,
        on_event: &mut dyn FnMut(&DownloadEvent),
        mut try_once: impl FnMut(&mut dyn FnMut(&DownloadEvent)) -> Result<T, Failure>,
    ) -> Result<T, DownloadError> {
        let attempts = self.policy.attempts.max(1);
        let mut attempt = 1;
        loop {
            if cancel.is_cancelled() {
                return Err(DownloadError::Cancelled);
            }
            let (reason, retry_after) = match try_once(on_event) {
                Ok(value) => return Ok(value),
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Transient {
                    reason,
                    retry_after,
                }) => (reason, retry_after),
            };
            if attempt >= attempts {
                tracing::warn!(url, attempts, %reason, "giving up");
                return Err(DownloadError::GaveUp {
                    url: url.to_string(),
                    attempts,
                    last: reason,
                });
            }
            let delay = backoff::delay(&self.policy, attempt, retry_after);
            tracing::warn!(url, attempt, attempts, ?delay, %reason, "retrying");
            on_event(&DownloadEvent::Retrying {
                attempt,
                attempts,
                delay,
                reason,
            });
            backoff::sleep(delay, cancel)?;
            attempt += 1;
        }
    }
}
