//! The HTTP side: the client, one request, and what a response's status and headers mean
//! for a download.
use std::error::Error as _;
use std::time::Duration;

use reqwest::blocking::{Client, Response};
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode};

use super::partial::Validator;
use super::{DownloadError, Failure, RetryPolicy};

/// A client with the policy's timeouts (connect, and each wait for headers or body
/// bytes), proxies from `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY`/`NO_PROXY` (reqwest's
/// default), redirects followed, and no content decoding (lengths stay the file's).
pub(super) fn client(policy: &RetryPolicy) -> Result<Client, DownloadError> {
    Client::builder()
        .user_agent(concat!("virnucpro/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(policy.timeout)
        .timeout(policy.timeout)
        .build()
        .map_err(|e| DownloadError::Client {
            reason: describe(&e),
        })
}

/// Checks that `url` is an absolute http(s) URL.
pub(super) fn check_url(url: &str) -> Result<(), DownloadError> {
    let bad = |reason: String| DownloadError::BadUrl {
        url: url.to_string(),
        reason,
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(e.to_string()))?;
    match parsed.scheme() {
        "http" | "https" => Ok(()),
        other => Err(bad(format!("{other}: is not http or https"))),
    }
}

/// Sends one request; `from` > 0 asks for the rest of the file from that byte, with
/// `If-Range` when a validator is known.
pub(super) fn send(
    client: &Client,
    method: Method,
    url: &str,
    from: u64,
    validator: Option<&Validator>,
) -> Result<Response, Failure> {
    let mut request = client.request(method, url);
    if from > 0 {
        request = request.header(header::RANGE, format!("bytes={from}-"));
        if let Some(v) = validator {
            request = request.header(header::IF_RANGE, v.value());
        }
    }
    request.send().map_err(|e| from_reqwest(url, &e))
}

/// A request that failed before a response: a bad URL is final, anything else (timeout,
/// refused or dropped connection, TLS, too many redirects) is worth another try.
pub(super) fn from_reqwest(url: &str, e: &reqwest::Error) -> Failure {
    if e.is_builder() {
        return Failure::Fatal(DownloadError::BadUrl {
            url: url.to_string(),
            reason: describe(e),
        });
    }
    Failure::transient(describe(e), None)
}

/// The error with its causes, which reqwest's `Display` leaves out.
pub(super) fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// A status that is not a success: 5xx, 408 and 429 are worth another try (after the
/// server's `Retry-After`, if any); any other is final.
pub(super) fn status_failure(url: &str, response: &Response) -> Failure {
    let status = response.status();
    let retryable = status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS;
    if retryable {
        let retry_after = retry_after(response.headers());
        return Failure::transient(format!("the server answered {status}"), retry_after);
    }
    Failure::Fatal(DownloadError::Refused {
        url: url.to_string(),
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or_default().to_string(),
    })
}

/// `Retry-After` in seconds (the HTTP-date form is not honoured).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(header::RETRY_AFTER)?.to_str().ok()?;
    text.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The `Content-Length` header (read directly: for `HEAD` the body's own length is 0).
pub(super) fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// `Content-Range: bytes START-END/TOTAL` (TOTAL may be `*`), or `bytes */TOTAL` of a 416.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ContentRange {
    /// `None` for `*/TOTAL`.
    pub(super) span: Option<(u64, u64)>,
    pub(super) total: Option<u64>,
}

pub(super) fn content_range(headers: &HeaderMap) -> Option<ContentRange> {
    let text = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    parse_content_range(text)
}

fn parse_content_range(text: &str) -> Option<ContentRange> {
    let rest = text.trim().strip_prefix("bytes")?.trim_start();
    let (span, total) = rest.split_once('/')?;
    let total = match total.trim() {
        "*" => None,
        n => Some(n.parse().ok()?),
    };
    let span = match span.trim() {
        "*" => None,
        s => {
            let (start, end) = s.split_once('-')?;
            Some((start.trim().parse().ok()?, end.trim().parse().ok()?))
        }
    };
    Some(ContentRange { span, total })
}

/// The response's strong ETag, else its Last-Modified: what `If-Range` may carry.
pub(super) fn validator(headers: &HeaderMap) -> Option<Validator> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(etag) = text(header::ETAG).filter(|e| !e.starts_with("W/")) {
        return Some(Validator::ETag(etag.to_string()));
    }
    text(header::LAST_MODIFIED).map(|d| Validator::LastModified(d.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_parse() {
        let range = parse_content_range("bytes 100-199/200").unwrap();
        assert_eq!(range.span, Some((100, 199)));
        assert_eq!(range.total, Some(200));
        let unsatisfied = parse_content_range("bytes */50").unwrap();
        assert_eq!((unsatisfied.span, unsatisfied.total), (None, Some(50)));
        let unknown_total = parse_content_range("bytes 0-9/*").unwrap();
        assert_eq!(unknown_total.total, None);
        assert_eq!(parse_content_range("items 0-9/10"), None);
        assert_eq!(parse_content_range("bytes 9/10"), None);
    }

    #[test]
    fn weak_etags_give_way_to_last_modified() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ETAG, "W/\"weak\"".parse().unwrap());
        assert_eq!(validator(&headers), None);
        let date = "Mon, 01 Jan 2024 00:00:00 GMT";
        headers.insert(header::LAST_MODIFIED, date.parse().unwrap());
        assert_eq!(
            validator(&headers),
            Some(Validator::LastModified(date.into()))
        );
        headers.insert(header::ETAG, "\"strong\"".parse().unwrap());
        assert_eq!(
            validator(&headers),
            Some(Validator::ETag("\"strong\"".into()))
        );
    }

    #[test]
    fn only_http_urls_are_usable() {
        assert!(check_url("https://huggingface.co/x").is_ok());
        assert!(matches!(
            check_url("ftp://example.org/x"),
            Err(DownloadError::BadUrl { .. })
        ));
        assert!(matches!(
            check_url("not a url"),
            Err(DownloadError::BadUrl { .. })
        ));
    }
}
