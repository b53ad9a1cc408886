//! A real HTTP/1.1 server on `127.0.0.1` for download tests: files by exact path, `Range`
//! and `If-Range`, ETags, and misbehaviour on demand (failing statuses, dropped
//! connections, ignored ranges, slow bodies). Standard library only; one thread per
//! connection, one request per connection (`Connection: close`).
//!
//! ```no_run
//! use virnucpro_testkit::http::{Behaviour, TestServer};
//! let server = TestServer::start();
//! server.serve("/org/model/resolve/main/config.json", b"{}".to_vec());
//! server.set_behaviour("/org/model/resolve/main/config.json", Behaviour { fail_first: 2, ..Behaviour::default() });
//! let url = format!("{}/org/model/resolve/main/config.json", server.base_url());
//! # let _ = url;
//! ```
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// How the server answers for one path. The default serves the file normally and honours
/// `Range` and `If-Range`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Behaviour {
    /// Answer every `GET` with `200` and the whole body, whatever `Range` says.
    pub ignore_range: bool,
    /// Answer the first this many `GET`s of the path with `fail_status`.
    pub fail_first: u32,
    /// The status of those failures (`503` when left at 0).
    pub fail_status: u16,
    /// A `Retry-After` header (seconds) on the failures of `fail_first` and `status`.
    pub retry_after: Option<u32>,
    /// On the first `GET` served with a body: headers with the full `Content-Length`,
    /// then only this many body bytes, then the connection is closed.
    pub drop_after: Option<u64>,
    /// Send bodies in chunks of this many bytes with this sleep before each further chunk,
    /// so that a test can cancel (or kill the client) mid-download.
    pub throttle: Option<(usize, Duration)>,
    /// Always answer this status (e.g. 404), with a short text body.
    pub status: Option<u16>,
    /// This ETag instead of the generated one (which changes with each `serve`).
    pub etag: Option<String>,
}

/// One request the server answered, for tests to assert on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The path as requested, query included.
    pub path: String,
    /// The `Range` header, as sent.
    pub range: Option<String>,
    /// The `If-Range` header, as sent.
    pub if_range: Option<String>,
    pub user_agent: Option<String>,
    /// The host of an absolute URL in the request line (`GET http://host/path`): what a
    /// client sends to an HTTP proxy. `path` is then the URL's path alone.
    pub proxied_host: Option<String>,
    /// The status the server answered with.
    pub status: u16,
}

/// A running server; it stops accepting when dropped.
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    stop: AtomicBool,
}

#[derive(Default)]
struct State {
    files: HashMap<String, File>,
    behaviours: HashMap<String, Behaviour>,
    /// `GET`s seen per path, and whether the one drop of `drop_after` happened.
    gets: HashMap<String, u32>,
    dropped: HashMap<String, bool>,
    log: Vec<Request>,
    generation: u64,
}

#[derive(Clone)]
struct File {
    body: Arc<Vec<u8>>,
    etag: String,
    last_modified: String,
}

impl TestServer {
    /// Listens on `127.0.0.1` on a free port.
    pub fn start() -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("test server: cannot listen on 127.0.0.1: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("test server: no local address: {e}"));
        let shared = Arc::new(Shared::default());
        let accept_shared = Arc::clone(&shared);
        let accept_thread = std::thread::spawn(move || accept_loop(listener, accept_shared));
        TestServer {
            addr,
            shared,
            accept_thread: Some(accept_thread),
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `base_url()` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// Serves `body` at the exact URL path `path` (query ignored). Serving a path again
    /// replaces the body and changes its ETag and Last-Modified.
    pub fn serve(&self, path: &str, body: Vec<u8>) {
        let mut state = self.state();
        state.generation += 1;
        let generation = state.generation;
        let file = File {
            etag: format!("\"v{generation}-{}\"", body.len()),
            // A valid HTTP-date that differs per generation.
            last_modified: format!(
                "Mon, 01 Jan 2024 00:{:02}:{:02} GMT",
                (generation / 60) % 60,
                generation % 60
            ),
            body: Arc::new(body),
        };
        state.files.insert(path.to_string(), file);
    }

    /// Serves the contents of `file` (read now) at `path`.
    pub fn serve_file(&self, path: &str, file: &Path) {
        let body = std::fs::read(file)
            .unwrap_or_else(|e| panic!("test server: cannot read {}: {e}", file.display()));
        self.serve(path, body);
    }

    /// How `path` is answered from now on (replacing an earlier behaviour; its counters of
    /// `fail_first` and `drop_after` start again).
    pub fn set_behaviour(&self, path: &str, behaviour: Behaviour) {
        let mut state = self.state();
        state.behaviours.insert(path.to_string(), behaviour);
        state.gets.remove(path);
        state.dropped.remove(path);
    }

    /// Every request answered so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.state().log.clone()
    }

    /// The requests answered so far for `path` (query ignored).
    pub fn requests_for(&self, path: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| strip_query(&r.path) == path)
            .collect()
    }

    /// The ETag currently sent for `path`, if it is served.
    pub fn etag(&self, path: &str) -> Option<String> {
        let state = self.state();
        let file = state.files.get(path)?;
        let behaviour = state.behaviours.get(path);
        Some(current_etag(file, behaviour))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.shared)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept().
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.accept_thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared
        .state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn strip_query(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}

fn current_etag(file: &File, behaviour: Option<&Behaviour>) -> String {
    behaviour
        .and_then(|b| b.etag.clone())
        .unwrap_or_else(|| file.etag.clone())
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || {
            let _ = handle(stream, &shared);
        });
    }
}

/// The request line and the headers this server looks at.
struct Incoming {
    method: String,
    path: String,
    proxied_host: Option<String>,
    range: Option<String>,
    if_range: Option<String>,
    user_agent: Option<String>,
}

fn read_request(stream: &TcpStream) -> std::io::Result<Option<Incoming>> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    // A request to a proxy names the whole URL; the server then acts as that proxy.
    let (proxied_host, path) = match path.strip_prefix("http://") {
        Some(rest) => {
            let slash = rest.find('/').unwrap_or(rest.len());
            let path = if slash == rest.len() {
                "/"
            } else {
                &rest[slash..]
            };
            (Some(rest[..slash].to_string()), path)
        }
        None => (None, path),
    };
    let mut incoming = Incoming {
        method: method.to_string(),
        path: path.to_string(),
        proxied_host,
        range: None,
        if_range: None,
        user_agent: None,
    };
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = Some(value.trim().to_string());
            match name.trim().to_ascii_lowercase().as_str() {
                "range" => incoming.range = value,
                "if-range" => incoming.if_range = value,
                "user-agent" => incoming.user_agent = value,
                _ => {}
            }
        }
    }
    Ok(Some(incoming))
}

/// What to send back, decided under the lock.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Arc<Vec<u8>>,
    /// The part of `body` to send.
    span: (usize, usize),
    /// Send only this many body bytes, then close.
    cut_after: Option<u64>,
    throttle: Option<(usize, Duration)>,
}

fn handle(mut stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let Some(incoming) = read_request(&stream)? else {
        return Ok(());
    };
    let answer = {
        let mut state = lock(shared);
        let answer = decide(&mut state, &incoming);
        state.log.push(Request {
            method: incoming.method.clone(),
            path: incoming.path.clone(),
            range: incoming.range.clone(),
            if_range: incoming.if_range.clone(),
            user_agent: incoming.user_agent.clone(),
            proxied_host: incoming.proxied_host.clone(),
            status: answer.status,
        });
        answer
    };
    let head_only = incoming.method == "HEAD";
    write_answer(&mut stream, &answer, head_only, shared)?;
    stream.flush()?;
    let _ = stream.shutdown(Shutdown::Write);
    Ok(())
}

fn decide(state: &mut State, incoming: &Incoming) -> Answer {
    let path = strip_query(&incoming.path).to_string();
    let behaviour = state.behaviours.get(&path).cloned().unwrap_or_default();
    if incoming.method != "GET" && incoming.method != "HEAD" {
        return text_answer(405, "method not allowed", None);
    }
    if let Some(status) = behaviour.status {
        return text_answer(status, "as configured", behaviour.retry_after);
    }
    let Some(file) = state.files.get(&path).cloned() else {
        return text_answer(404, "not found", None);
    };
    if incoming.method == "GET" {
        let gets = state.gets.entry(path.clone()).or_insert(0);
        *gets += 1;
        if *gets <= behaviour.fail_first {
            let status = if behaviour.fail_status == 0 {
                503
            } else {
                behaviour.fail_status
            };
            return text_answer(status, "failing as configured", behaviour.retry_after);
        }
    }
    let mut answer = file_answer(&file, &behaviour, incoming);
    if incoming.method == "GET" && answer.status < 300 && behaviour.drop_after.is_some() {
        let dropped = state.dropped.entry(path).or_insert(false);
        if !*dropped {
            *dropped = true;
            answer.cut_after = behaviour.drop_after;
        }
    }
    answer.throttle = behaviour.throttle;
    answer
}

fn file_answer(file: &File, behaviour: &Behaviour, incoming: &Incoming) -> Answer {
    let etag = current_etag(file, Some(behaviour));
    let len = file.body.len();
    let mut headers = vec![
        ("ETag".to_string(), etag.clone()),
        ("Last-Modified".to_string(), file.last_modified.clone()),
        ("Accept-Ranges".to_string(), "bytes".to_string()),
    ];
    let validator_matches = incoming
        .if_range
        .as_deref()
        .is_none_or(|v| v == etag || v == file.last_modified);
    let start = match (&incoming.range, behaviour.ignore_range, validator_matches) {
        (Some(range), false, true) => parse_range_start(range),
        _ => None,
    };
    let (status, span) = match start {
        Some(start) if start >= len => {
            headers.push(("Content-Range".to_string(), format!("bytes */{len}")));
            (416, (0, 0))
        }
        Some(start) => {
            let range = format!("bytes {start}-{}/{len}", len - 1);
            headers.push(("Content-Range".to_string(), range));
            (206, (start, len))
        }
        None => (200, (0, len)),
    };
    Answer {
        status,
        headers,
        body: Arc::clone(&file.body),
        span,
        cut_after: None,
        throttle: None,
    }
}

/// `N` of `bytes=N-` or `bytes=N-M` (the end is ignored: the rest of the file is sent).
fn parse_range_start(range: &str) -> Option<usize> {
    let spec = range.trim().strip_prefix("bytes=")?;
    let (start, _end) = spec.split_once('-')?;
    start.trim().parse().ok()
}

fn text_answer(status: u16, text: &str, retry_after: Option<u32>) -> Answer {
    let mut headers = vec![("Content-Type".to_string(), "text/plain".to_string())];
    if let Some(seconds) = retry_after {
        headers.push(("Retry-After".to_string(), seconds.to_string()));
    }
    let body = text.as_bytes().to_vec();
    let len = body.len();
    Answer {
        status,
        headers,
        body: Arc::new(body),
        span: (0, len),
        cut_after: None,
        throttle: None,
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        404 => "Not Found",
        405 => "Method Not Allowed",
        416 => "Range Not Satisfiable",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn write_answer(
    stream: &mut TcpStream,
    answer: &Answer,
    head_only: bool,
    shared: &Shared,
) -> std::io::Result<()> {
    let (from, to) = answer.span;
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        answer.status,
        reason_phrase(answer.status)
    );
    for (name, value) in &answer.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        to - from
    ));
    stream.write_all(head.as_bytes())?;
    if head_only {
        return Ok(());
    }
    let to = match answer.cut_after {
        Some(cut) => to.min(from.saturating_add(usize::try_from(cut).unwrap_or(usize::MAX))),
        None => to,
    };
    let body = &answer.body[from..to];
    match answer.throttle {
        None => stream.write_all(body),
        Some((chunk, pause)) => {
            for (i, part) in body.chunks(chunk.max(1)).enumerate() {
                if shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                if i > 0 {
                    std::thread::sleep(pause);
                }
                stream.write_all(part)?;
                stream.flush()?;
            }
            Ok(())
        }
    }
}
