//! The downloader against a real HTTP server (`virnucpro_testkit::http`): resuming,
//! restarting, retrying, refusing, cancelling.
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use virnucpro_core::CancelToken;
use virnucpro_models::download::{
    DownloadError, DownloadEvent, DownloadRequest, Downloaded, Downloader, RestartReason,
    RetryPolicy,
};
use virnucpro_testkit::http::{Behaviour, TestServer};

const PATH: &str = "/org/model/resolve/0123abcd/model.safetensors";
const LEN: usize = 300_000;

/// Deterministic bytes that are not a repeating pattern a wrong offset would survive.
fn body(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u8
        })
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn policy(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        first_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(40),
        timeout: Duration::from_secs(5),
    }
}

struct Setup {
    server: TestServer,
    _dir: tempfile::TempDir,
    partial: PathBuf,
    content: Vec<u8>,
}

fn setup() -> Setup {
    let server = TestServer::start();
    let content = body(LEN, 1);
    server.serve(PATH, content.clone());
    let dir = tempfile::tempdir().unwrap();
    let partial = dir.path().join("model.safetensors.part");
    Setup {
        server,
        _dir: dir,
        partial,
        content,
    }
}

fn sidecar(partial: &Path) -> PathBuf {
    PathBuf::from(format!("{}.validator", partial.display()))
}

/// Downloads with `policy`, returning the result and every event.
fn run(
    s: &Setup,
    policy: RetryPolicy,
    expected_size: Option<u64>,
    cancel: &CancelToken,
) -> (Result<Downloaded, DownloadError>, Vec<DownloadEvent>) {
    let downloader = Downloader::new(policy).unwrap();
    let url = s.server.url(PATH);
    let request = DownloadRequest {
        url: &url,
        partial: &s.partial,
        expected_size,
    };
    let mut events = Vec::new();
    let result = downloader.download(&request, cancel, &mut |e| events.push(e.clone()));
    (result, events)
}

fn assert_whole(s: &Setup, done: &Downloaded, content: &[u8]) {
    let on_disk = std::fs::read(&s.partial).unwrap();
    assert_eq!(on_disk.len(), content.len());
    assert!(on_disk == content, "the partial file's bytes differ");
    assert_eq!(done.size, content.len() as u64);
    assert_eq!(done.sha256, sha256_hex(content));
    assert!(!sidecar(&s.partial).exists(), "the validator file is left");
}

fn restarts(events: &[DownloadEvent]) -> Vec<RestartReason> {
    events
        .iter()
        .filter_map(|e| match e {
            DownloadEvent::Restarted { reason } => Some(*reason),
            _ => None,
        })
        .collect()
}

fn gets(s: &Setup) -> Vec<virnucpro_testkit::http::Request> {
    s.server
        .requests_for(PATH)
        .into_iter()
        .filter(|r| r.method == "GET")
        .collect()
}

#[test]
fn a_plain_download_has_the_bytes_and_their_sha256() {
    let s = setup();
    let (result, events) = run(&s, policy(3), Some(LEN as u64), &CancelToken::new());
    let done = result.unwrap();
    assert_whole(&s, &done, &s.content);
    assert_eq!(done.resumed_from, 0);
    let requests = gets(&s);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].range, None);
    let agent = requests[0].user_agent.clone().unwrap_or_default();
    assert!(agent.starts_with("virnucpro/"), "user agent {agent:?}");
    match events.last() {
        Some(DownloadEvent::Progress { done, total, .. }) => {
            assert_eq!((*done, *total), (LEN as u64, Some(LEN as u64)))
        }
        other => panic!("the last event is not the final progress: {other:?}"),
    }
    assert!(restarts(&events).is_empty());
}

#[test]
fn a_connection_dropped_half_way_resumes_where_it_stopped() {
    let s = setup();
    let behaviour = Behaviour {
        drop_after: Some(100_000),
        ..Behaviour::default()
    };
    s.server.set_behaviour(PATH, behaviour);
    let (result, events) = run(&s, policy(3), Some(LEN as u64), &CancelToken::new());
    let done = result.unwrap();
    assert_whole(&s, &done, &s.content);
    let requests = gets(&s);
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[1].range.as_deref(), Some("bytes=100000-"));
    assert_eq!(requests[1].if_range, s.server.etag(PATH));
    assert_eq!(requests[1].status, 206);
    assert!(events
        .iter()
        .any(|e| matches!(e, DownloadEvent::Retrying { attempt: 1, .. })));
    assert!(restarts(&events).is_empty());
}

#[test]
fn a_prefix_already_on_disk_is_resumed() {
    let s = setup();
    let n = 123_456;
    std::fs::write(&s.partial, &s.content[..n]).unwrap();
    let (result, events) = run(&s, policy(3), None, &CancelToken::new());
    let done = result.unwrap();
    assert_whole(&s, &done, &s.content);
    assert_eq!(done.resumed_from, n as u64);
    let requests = gets(&s);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].range.as_deref(), Some("bytes=123456-"));
    // No validator was saved for this prefix, so none is sent.
    assert_eq!(requests[0].if_range, None);
    assert!(restarts(&events).is_empty());
}

#[test]
fn a_server_that_ignores_range_restarts_from_zero() {
    let s = setup();
    std::fs::write(&s.partial, &s.content[..50_000]).unwrap();
    let behaviour = Behaviour {
        ignore_range: true,
        ..Behaviour::default()
    };
    s.server.set_behaviour(PATH, behaviour);
    let (result, events) = run(&s, policy(3), None, &CancelToken::new());
    let done = result.unwrap();
    assert_whole(&s, &done, &s.content);
    assert_eq!(done.resumed_from, 0);
    assert_eq!(restarts(&events), [RestartReason::RangeIgnored]);
    let requests = gets(&s);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].range.as_deref(), Some("bytes=50000-"));
    assert_eq!(requests[0].status, 200);
}

/// An earlier download stopped part-way, leaving a partial file and its validator.
fn interrupted_download(s: &Setup) -> u64 {
    let behaviour = Behaviour {
        drop_after: Some(80_000),
        ..Behaviour::default()
    };
    s.server.set_behaviour(PATH, behaviour);
    let (result, _) = run(s, policy(1), None, &CancelToken::new());
    assert!(
        matches!(result, Err(DownloadError::GaveUp { attempts: 1, .. })),
        "{result:?}"
    );
    assert!(sidecar(&s.partial).is_file(), "no validator was saved");
    s.server.set_behaviour(PATH, Behaviour::default());
    std::fs::metadata(&s.partial).unwrap().len()
}

#[test]
fn a_changed_remote_file_comes_back_whole() {
    let s = setup();
    let kept = interrupted_download(&s);
    assert_eq!(kept, 80_000);
    let old_etag = s.server.etag(PATH);
    let new_content = body(LEN + 1_000, 2);
    s.server.serve(PATH, new_content.clone());
    assert_ne!(s.server.etag(PATH), old_etag);

    let (result, events) = run(&s, policy(3), None, &CancelToken::new());
    let done = result.unwrap();
    assert_whole(&s, &done, &new_content);
    assert_eq!(done.resumed_from, 0);
    assert_eq!(restarts(&events), [RestartReason::RemoteChanged]);
    let last = gets(&s).pop().unwrap();
    assert_eq!(last.range.as_deref(), Some("bytes=80000-"));
    assert_eq!(last.if_range, old_etag);
    assert_eq!(last.status, 200);
}

#[test]
fn an_unchanged_remote_file_resumes_with_its_validator() {
    let s = setup();
    let kept = interrupted_download(&s);
    let (result, events) = run(&s, policy(3), None, &CancelToken::new());
    let done = result.unwrap();
    assert_whole(&s, &done, &s.content);
    assert_eq!(done.resumed_from, kept);
    assert!(restarts(&events).is_empty());
    let last = gets(&s).pop().unwrap();
    assert_eq!(last.if_range, s.server.etag(PATH));
    assert_eq!(last.status, 206);
}

#[test]
fn a_size_other_than_expected_restarts_once_then_takes_what_is_sent() {
    let s = setup();
    // A prefix without a validator: only the size can tell the file changed.
    std::fs::write(&s.partial, body(10_000, 3)).unwrap();
    let (result, events) = run(&s, policy(3), Some(LEN as u64 + 1), &CancelToken::new());
    let done = result.unwrap();
    assert_whole(&s, &done, &s.content);
    assert_eq!(done.resumed_from, 0);
    assert_eq!(restarts(&events), [RestartReason::RemoteChanged]);
    let ranges: Vec<Option<String>> = gets(&s).into_iter().map(|r| r.range).collect();
    assert_eq!(ranges, [Some("bytes=10000-".to_string()), None]);
}

#[test]
fn a_partial_file_longer_than_the_remote_one_starts_again() {
    let s = setup();
    std::fs::write(&s.partial, body(LEN + 10, 4)).unwrap();
    let (result, events) = run(&s, policy(3), None, &CancelToken::new());
    let done = result.unwrap();
    assert_whole(&s, &done, &s.content);
    assert_eq!(restarts(&events), [RestartReason::PartialTooLong]);
    let statuses: Vec<u16> = gets(&s).into_iter().map(|r| r.status).collect();
    assert_eq!(statuses, [416, 200]);
}

#[test]
fn a_partial_file_that_is_whole_already_is_kept() {
    let s = setup();
    std::fs::write(&s.partial, &s.content).unwrap();
    let (result, events) = run(&s, policy(3), Some(LEN as u64), &CancelToken::new());
    let done = result.unwrap();
    assert_whole(&s, &done, &s.content);
    assert_eq!(done.resumed_from, LEN as u64);
    assert!(restarts(&events).is_empty());
    assert_eq!(gets(&s).len(), 1);
}

#[test]
fn not_found_is_refused_at_once() {
    let s = setup();
    let behaviour = Behaviour {
        status: Some(404),
        ..Behaviour::default()
    };
    s.server.set_behaviour(PATH, behaviour);
    let (result, events) = run(&s, policy(5), None, &CancelToken::new());
    let error = result.unwrap_err();
    assert!(
        matches!(error, DownloadError::Refused { status: 404, .. }),
        "{error:?}"
    );
    assert!(error.is_not_found());
    assert_eq!(gets(&s).len(), 1);
    assert!(events.is_empty(), "{events:?}");
}

#[test]
fn server_errors_are_retried_with_backoff() {
    let s = setup();
    let behaviour = Behaviour {
        fail_first: 2,
        fail_status: 503,
        ..Behaviour::default()
    };
    s.server.set_behaviour(PATH, behaviour);
    let (result, events) = run(&s, policy(3), None, &CancelToken::new());
    let done = result.unwrap();
    assert_whole(&s, &done, &s.content);
    let retries: Vec<(u32, u32, Duration)> = events
        .iter()
        .filter_map(|e| match e {
            DownloadEvent::Retrying {
                attempt,
                attempts,
                delay,
                reason,
            } => {
                assert!(reason.contains("503"), "{reason}");
                Some((*attempt, *attempts, *delay))
            }
            _ => None,
        })
        .collect();
    let ms = Duration::from_millis;
    assert_eq!(retries, [(1, 3, ms(5)), (2, 3, ms(10))]);
    assert_eq!(gets(&s).len(), 3);
}

#[test]
fn retry_after_is_honoured_up_to_the_longest_delay() {
    let s = setup();
    let behaviour = Behaviour {
        fail_first: 1,
        fail_status: 429,
        retry_after: Some(120),
        ..Behaviour::default()
    };
    s.server.set_behaviour(PATH, behaviour);
    let (result, events) = run(&s, policy(2), None, &CancelToken::new());
    result.unwrap();
    let delays: Vec<Duration> = events
        .iter()
        .filter_map(|e| match e {
            DownloadEvent::Retrying { delay, .. } => Some(*delay),
            _ => None,
        })
        .collect();
    assert_eq!(delays, [Duration::from_millis(40)]);
}

#[test]
fn a_server_that_keeps_failing_is_given_up_after_every_attempt() {
    let s = setup();
    let behaviour = Behaviour {
        fail_first: u32::MAX,
        fail_status: 503,
        ..Behaviour::default()
    };
    s.server.set_behaviour(PATH, behaviour);
    let (result, events) = run(&s, policy(4), None, &CancelToken::new());
    match result {
        Err(DownloadError::GaveUp { attempts, last, .. }) => {
            assert_eq!(attempts, 4);
            assert!(last.contains("503"), "{last}");
        }
        other => panic!("expected GaveUp: {other:?}"),
    }
    assert_eq!(gets(&s).len(), 4);
    let retrying = events
        .iter()
        .filter(|e| matches!(e, DownloadEvent::Retrying { .. }))
        .count();
    assert_eq!(retrying, 3);
}

#[test]
fn a_stalled_body_times_out_and_resumes() {
    let s = setup();
    let content = body(30_000, 5);
    s.server.serve(PATH, content.clone());
    let behaviour = Behaviour {
        // Each chunk comes at once, then the body stalls far longer than the timeout.
        throttle: Some((10_000, Duration::from_secs(4))),
        ..Behaviour::default()
    };
    s.server.set_behaviour(PATH, behaviour);
    let quick = RetryPolicy {
        timeout: Duration::from_millis(800),
        ..policy(5)
    };
    let (result, _) = run(&s, quick, None, &CancelToken::new());
    let done = result.unwrap();
    assert_whole(&s, &done, &content);
    let ranges: Vec<Option<String>> = gets(&s).into_iter().map(|r| r.range).collect();
    assert_eq!(
        ranges,
        [
            None,
            Some("bytes=10000-".to_string()),
            Some("bytes=20000-".to_string())
        ]
    );
}

#[test]
fn a_cancelled_download_keeps_its_bytes_and_resumes_later() {
    let s = setup();
    let behaviour = Behaviour {
        throttle: Some((4_096, Duration::from_millis(10))),
        ..Behaviour::default()
    };
    s.server.set_behaviour(PATH, behaviour);
    let cancel = CancelToken::new();
    let downloader = Downloader::new(policy(3)).unwrap();
    let url = s.server.url(PATH);
    let request = DownloadRequest {
        url: &url,
        partial: &s.partial,
        expected_size: Some(LEN as u64),
    };
    let mut on_event = |e: &DownloadEvent| {
        if matches!(e, DownloadEvent::Progress { done, .. } if *done > 0) {
            cancel.cancel();
        }
    };
    let result = downloader.download(&request, &cancel, &mut on_event);
    assert!(
        matches!(result, Err(DownloadError::Cancelled)),
        "{result:?}"
    );
    let kept = std::fs::metadata(&s.partial).unwrap().len();
    assert!(kept > 0 && kept < LEN as u64, "kept {kept} bytes");
    assert_eq!(
        std::fs::read(&s.partial).unwrap(),
        s.content[..kept as usize]
    );

    s.server.set_behaviour(PATH, Behaviour::default());
    let (result, _) = run(&s, policy(3), Some(LEN as u64), &CancelToken::new());
    let done = result.unwrap();
    assert_whole(&s, &done, &s.content);
    assert_eq!(done.resumed_from, kept);
    let last = gets(&s).pop().unwrap();
    assert_eq!(last.range, Some(format!("bytes={kept}-")));
}

#[test]
fn cancelling_interrupts_the_wait_between_tries() {
    let s = setup();
    let behaviour = Behaviour {
        fail_first: u32::MAX,
        ..Behaviour::default()
    };
    s.server.set_behaviour(PATH, behaviour);
    let slow = RetryPolicy {
        first_delay: Duration::from_secs(30),
        max_delay: Duration::from_secs(30),
        ..policy(3)
    };
    let cancel = CancelToken::new();
    let downloader = Downloader::new(slow).unwrap();
    let url = s.server.url(PATH);
    let request = DownloadRequest {
        url: &url,
        partial: &s.partial,
        expected_size: None,
    };
    let started = std::time::Instant::now();
    let mut on_event = |e: &DownloadEvent| {
        if matches!(e, DownloadEvent::Retrying { .. }) {
            cancel.cancel();
        }
    };
    let result = downloader.download(&request, &cancel, &mut on_event);
    assert!(
        matches!(result, Err(DownloadError::Cancelled)),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn the_remote_size_comes_from_a_head_request() {
    let s = setup();
    let downloader = Downloader::new(policy(3)).unwrap();
    let cancel = CancelToken::new();
    let size = downloader
        .remote_size(&s.server.url(PATH), &cancel)
        .unwrap();
    assert_eq!(size, Some(LEN as u64));
    let requests = s.server.requests_for(PATH);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "HEAD");

    let missing = downloader.remote_size(&s.server.url("/nothing/here"), &cancel);
    assert!(
        matches!(&missing, Err(e) if e.is_not_found()),
        "{missing:?}"
    );
}

#[test]
fn a_url_that_is_not_http_is_refused_before_any_request() {
    let s = setup();
    let downloader = Downloader::new(policy(3)).unwrap();
    let request = DownloadRequest {
        url: "ftp://example.org/model.bin",
        partial: &s.partial,
        expected_size: None,
    };
    let result = downloader.download(&request, &CancelToken::new(), &mut |_| {});
    assert!(
        matches!(result, Err(DownloadError::BadUrl { .. })),
        "{result:?}"
    );
    assert!(s.server.requests().is_empty());
}

#[test]
fn a_partial_file_that_cannot_be_written_is_an_io_error_naming_it() {
    let s = setup();
    // A folder where the partial file should be.
    std::fs::create_dir_all(&s.partial).unwrap();
    let (result, _) = run(&s, policy(3), None, &CancelToken::new());
    match result {
        Err(DownloadError::Io { path, .. }) => assert_eq!(path, s.partial),
        other => panic!("expected an Io error: {other:?}"),
    }
}
