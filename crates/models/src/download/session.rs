//! One download in progress: the partial file, the validator it started from, and one
//! try (a request, what its answer means for the partial file, and copying the body).
use std::io::{self, Read};

use reqwest::blocking::{Client, Response};
use reqwest::header::HeaderMap;
use reqwest::Method;
use virnucpro_core::CancelToken;

use super::partial::{self, Partial, Validator};
use super::progress::Meter;
use super::RestartReason;
use super::{http, DownloadError, DownloadEvent, DownloadRequest, Downloaded, Failure};

/// Requests one try may make after throwing the partial file away. Starting from zero
/// sends no `Range`, so one is enough; more only guard against a server that loops.
const MAX_RESTARTS: usize = 3;
/// Bytes read from the network at a time (and between two looks at `cancel`).
const CHUNK: usize = 64 * 1024;

pub(super) struct Session<'r> {
    url: &'r str,
    expected_size: Option<u64>,
    partial: Partial,
    /// Of the response the partial file's bytes came from.
    validator: Option<Validator>,
    resumed_from: u64,
    /// The restart for a size other than `expected_size` happens once.
    size_restart_done: bool,
    total: Option<u64>,
    meter: Meter,
    buf: Vec<u8>,
}

/// What a response means for the partial file.
enum Step {
    /// Write its body from the partial file's end; the whole file is `total` bytes.
    Body { total: Option<u64> },
    /// The partial file is the whole file already.
    Complete,
    /// The partial file was emptied: ask again from zero.
    Again,
}

impl<'r> Session<'r> {
    pub(super) fn open(req: &DownloadRequest<'r>) -> Result<Session<'r>, DownloadError> {
        let partial = Partial::open(req.partial)?;
        let done = partial.len();
        Ok(Session {
            url: req.url,
            expected_size: req.expected_size,
            validator: partial::load_validator(req.partial),
            resumed_from: done,
            size_restart_done: false,
            total: req.expected_size,
            meter: Meter::new(done),
            buf: vec![0; CHUNK],
            partial,
        })
    }

    pub(super) fn resumed_from(&self) -> u64 {
        self.resumed_from
    }

    /// One try: a request from where the partial file ends, then its body.
    pub(super) fn attempt(
        &mut self,
        client: &Client,
        cancel: &CancelToken,
        on_event: &mut dyn FnMut(&DownloadEvent),
    ) -> Result<(), Failure> {
        for _ in 0..=MAX_RESTARTS {
            if cancel.is_cancelled() {
                return Err(Failure::Fatal(DownloadError::Cancelled));
            }
            let from = self.partial.len();
            let sent = self.validator.clone().filter(|_| from > 0);
            let mut response = http::send(client, Method::GET, self.url, from, sent.as_ref())?;
            match self.accept(&response, from, sent.as_ref(), on_event)? {
                Step::Body { total } => {
                    self.total = total;
                    return self.copy_body(&mut response, cancel, on_event);
                }
                Step::Complete => return Ok(()),
                Step::Again => continue,
            }
        }
        Err(Failure::transient(
            "the server kept answering with another file than asked for",
            None,
        ))
    }

    /// Flushes the file; the last progress event; the result.
    pub(super) fn finish(
        mut self,
        on_event: &mut dyn FnMut(&DownloadEvent),
    ) -> Result<Downloaded, DownloadError> {
        let done = self.partial.len();
        on_event(&self.meter.last(done, self.total.or(Some(done))));
        let path = self.partial.path().to_path_buf();
        let (size, sha256) = self.partial.finish()?;
        partial::remove_validator(&path);
        tracing::info!(
            url = self.url,
            size,
            resumed_from = self.resumed_from,
            "downloaded"
        );
        Ok(Downloaded {
            size,
            sha256,
            resumed_from: self.resumed_from,
        })
    }

    fn accept(
        &mut self,
        response: &Response,
        from: u64,
        sent: Option<&Validator>,
        on_event: &mut dyn FnMut(&DownloadEvent),
    ) -> Result<Step, Failure> {
        let status = response.status();
        let headers = response.headers();
        match status.as_u16() {
            206 => self.accept_part(headers, from, on_event),
            416 if from > 0 => self.accept_unsatisfiable(headers, from, on_event),
            _ if status.is_success() => self.accept_whole(headers, from, sent, on_event),
            _ => Err(http::status_failure(self.url, response)),
        }
    }

    /// A 200: the whole file, whatever was asked.
    fn accept_whole(
        &mut self,
        headers: &HeaderMap,
        from: u64,
        sent: Option<&Validator>,
        on_event: &mut dyn FnMut(&DownloadEvent),
    ) -> Result<Step, Failure> {
        let validator = http::validator(headers);
        if from > 0 {
            let changed = matches!((sent, &validator), (Some(a), Some(b)) if a != b);
            let reason = if changed {
                RestartReason::RemoteChanged
            } else {
                RestartReason::RangeIgnored
            };
            self.restart(reason, on_event)?;
        }
        partial::save_validator(self.partial.path(), validator.as_ref());
        self.validator = validator;
        let total = http::content_length(headers);
        self.warn_if_unexpected(total);
        Ok(Step::Body { total })
    }

    /// A 206: the rest of the file, if it starts where the partial file ends.
    fn accept_part(
        &mut self,
        headers: &HeaderMap,
        from: u64,
        on_event: &mut dyn FnMut(&DownloadEvent),
    ) -> Result<Step, Failure> {
        let range = http::content_range(headers);
        let start = range.and_then(|r| r.span).map(|(start, _)| start);
        if start != Some(from) {
            if from == 0 {
                let reason =
                    format!("a 206 for bytes from {start:?} when the whole file was asked");
                return Err(Failure::transient(reason, None));
            }
            self.restart(RestartReason::RangeIgnored, on_event)?;
            return Ok(Step::Again);
        }
        let total = range
            .and_then(|r| r.total)
            .or_else(|| http::content_length(headers).map(|len| from + len));
        let etag_changed = match (&self.validator, http::validator(headers)) {
            (Some(Validator::ETag(saved)), Some(Validator::ETag(now))) => *saved != now,
            _ => false,
        };
        let size_changed = matches!((self.expected_size, total), (Some(e), Some(t)) if e != t);
        if from > 0 && (etag_changed || (size_changed && !self.size_restart_done)) {
            self.size_restart_done |= size_changed;
            self.restart(RestartReason::RemoteChanged, on_event)?;
            return Ok(Step::Again);
        }
        self.warn_if_unexpected(total);
        Ok(Step::Body { total })
    }

    /// A 416 to `Range: bytes=FROM-`: the partial file is the whole file, or too long.
    fn accept_unsatisfiable(
        &mut self,
        headers: &HeaderMap,
        from: u64,
        on_event: &mut dyn FnMut(&DownloadEvent),
    ) -> Result<Step, Failure> {
        let total = http::content_range(headers).and_then(|r| r.total);
        if total == Some(from) && self.expected_size.is_none_or(|e| e == from) {
            tracing::info!(
                url = self.url,
                size = from,
                "the partial file is complete already"
            );
            self.total = total;
            return Ok(Step::Complete);
        }
        self.restart(RestartReason::PartialTooLong, on_event)?;
        Ok(Step::Again)
    }

    fn restart(
        &mut self,
        reason: RestartReason,
        on_event: &mut dyn FnMut(&DownloadEvent),
    ) -> Result<(), Failure> {
        tracing::info!(
            url = self.url,
            kept = self.partial.len(),
            ?reason,
            "starting again from zero"
        );
        self.partial.truncate()?;
        self.resumed_from = 0;
        self.meter.reset(0);
        on_event(&DownloadEvent::Restarted { reason });
        Ok(())
    }

    fn warn_if_unexpected(&self, total: Option<u64>) {
        if let (Some(expected), Some(total)) = (self.expected_size, total) {
            if expected != total {
                tracing::warn!(
                    url = self.url,
                    expected,
                    total,
                    "the server's file has another size than expected"
                );
            }
        }
    }

    /// Appends the body to the partial file until it ends, fails, or `cancel` is set.
    fn copy_body(
        &mut self,
        response: &mut Response,
        cancel: &CancelToken,
        on_event: &mut dyn FnMut(&DownloadEvent),
    ) -> Result<(), Failure> {
        loop {
            if cancel.is_cancelled() {
                return Err(Failure::Fatal(DownloadError::Cancelled));
            }
            let n = match response.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let done = self.partial.len();
                    let reason = format!("the body failed after byte {done}: {e}");
                    return Err(Failure::transient(reason, None));
                }
            };
            self.partial.append(&self.buf[..n])?;
            if let Some(event) = self.meter.tick(self.partial.len(), self.total) {
                on_event(&event);
            }
        }
        let done = self.partial.len();
        match self.total {
            Some(total) if done < total => Err(Failure::transient(
                format!("the connection closed after {done} of {total} bytes"),
                None,
            )),
            _ => Ok(()),
        }
    }
}
