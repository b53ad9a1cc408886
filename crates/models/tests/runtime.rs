//! The GPU runtime from a package index on 127.0.0.1 serving small stand-in wheels (zip
//! archives laid out like the real ones): the unpacked layout, a dropped connection, wrong
//! bytes, an index that disagrees with the pins, a cancel, an old driver, and removal.
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use virnucpro_core::CancelToken;
use virnucpro_models::download::RetryPolicy;
use virnucpro_models::runtime::{
    cuda_library, fetch_runtime, remove_runtime, runtime_status, RuntimeError, RuntimeManifest,
    RuntimeOptions, RuntimePaths, RuntimeState, Wheel,
};
use virnucpro_models::FetchEvent;
use virnucpro_testkit::archive::{noise, zip_archive};
use virnucpro_testkit::http::{Behaviour, TestServer};

const LIBTORCH: &str = "2.13.0+cu130";

fn wheel_bytes(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let members: Vec<(&str, &[u8])> = members.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    zip_archive(&members, true)
}

struct Setup {
    server: TestServer,
    manifest: RuntimeManifest,
    options: RuntimeOptions,
    wheels: Vec<Vec<u8>>,
    _dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let server = TestServer::start();
    let torch = wheel_bytes(&[
        ("torch/lib/libtorch_cuda.so", noise(300_000, 1)),
        ("torch/lib/libc10_cuda.so", noise(20_000, 2)),
        (
            "torch/lib/libtorch_cpu.so",
            b"not wanted: the binary has its own".to_vec(),
        ),
        ("torch/__init__.py", b"# python".to_vec()),
    ]);
    let cublas = wheel_bytes(&[
        ("nvidia/cu13/lib/libcublas.so.13", noise(50_000, 3)),
        ("nvidia/cu13/lib/libcublasLt.so.13", noise(80_000, 4)),
        ("nvidia/cu13/include/cublas.h", b"header".to_vec()),
        ("nvidia/__init__.py", Vec::new()),
    ]);
    let mut wheels = Vec::new();
    for (project, filename, bytes, extract, unpacked) in [
        (
            "torch",
            "torch-2.13.0-cp311-cp311-manylinux_2_28_x86_64.whl",
            &torch,
            vec![
                "torch/lib/libtorch_cuda.so".to_string(),
                "torch/lib/libc10_cuda.so".to_string(),
            ],
            320_000,
        ),
        (
            "nvidia-cublas",
            "nvidia_cublas-13.1.1.3-py3-none-manylinux_2_27_x86_64.whl",
            &cublas,
            vec!["nvidia/cu13/lib/".to_string()],
            130_000,
        ),
    ] {
        let sha256 = hex(&Sha256::digest(bytes));
        server.serve(&format!("/packages/{filename}"), bytes.clone());
        let page = serde_json::json!({ "files": [
            { "filename": "an-older-one.whl", "url": "/packages/old.whl", "hashes": { "sha256": "00" } },
            // Host-relative, as PyPI's mirrors often write them.
            { "filename": filename, "url": format!("/packages/{filename}"), "hashes": { "sha256": sha256 }, "size": bytes.len() }
        ]});
        server.serve(
            &format!("/simple/{project}/"),
            page.to_string().into_bytes(),
        );
        wheels.push(Wheel {
            project: project.into(),
            version: "x".into(),
            filename: filename.into(),
            size: bytes.len() as u64,
            sha256,
            unpacked,
            extract,
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let manifest = RuntimeManifest {
        libtorch: LIBTORCH.into(),
        cuda: "13.0".into(),
        min_driver: 580,
        index: format!("{}/simple", server.base_url()),
        wheels,
    };
    let options = RuntimeOptions {
        paths: RuntimePaths {
            install: dir.path().join("data/runtime"),
            wheels: dir.path().join("cache/wheels"),
        },
        index: None,
        retry: RetryPolicy {
            attempts: 3,
            first_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            timeout: Duration::from_secs(10),
        },
        driver: Some("580.65.06".into()),
    };
    Setup {
        server,
        manifest,
        options,
        wheels: vec![torch, cublas],
        _dir: dir,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Setup {
    fn fetch(
        &self,
        cancel: &CancelToken,
        stop: impl Fn(&FetchEvent) -> bool,
    ) -> (
        Result<virnucpro_models::runtime::RuntimeStatus, RuntimeError>,
        Vec<FetchEvent>,
    ) {
        let mut events = Vec::new();
        let result = fetch_runtime(&self.manifest, LIBTORCH, &self.options, cancel, &mut |e| {
            if stop(e) {
                cancel.cancel();
            }
            events.push(e.clone());
        });
        (result, events)
    }

    fn runtime_dir(&self) -> PathBuf {
        self.options.paths.runtime_dir(LIBTORCH)
    }

    fn wheel_gets(&self, index: usize) -> Vec<virnucpro_testkit::http::Request> {
        self.server.requests_for(&format!(
            "/packages/{}",
            self.manifest.wheels[index].filename
        ))
    }
}

fn member(wheel: &[u8], name: &str) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(wheel)).unwrap();
    let mut file = archive.by_name(name).unwrap();
    let mut out = Vec::new();
    std::io::copy(&mut file, &mut out).unwrap();
    out
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(
                    path.strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    // The lock that keeps two fetches apart stays (an OS lock, released on exit).
    found.retain(|f| !f.starts_with("locks/"));
    found.sort();
    found
}

#[test]
fn a_fetch_unpacks_only_the_libraries_in_their_rpath_layout() {
    let s = setup();
    assert_eq!(
        runtime_status(&s.manifest, &s.options.paths).state,
        RuntimeState::Missing
    );
    let (result, events) = s.fetch(&CancelToken::new(), |_| false);
    let status = result.unwrap();
    assert_eq!(status.state, RuntimeState::Installed);
    assert_eq!(status.path, s.runtime_dir());
    assert_eq!(
        files_under(&s.runtime_dir()),
        [
            "nvidia/cu13/lib/libcublas.so.13",
            "nvidia/cu13/lib/libcublasLt.so.13",
            "runtime.json",
            "torch/lib/libc10_cuda.so",
            "torch/lib/libtorch_cuda.so",
        ]
    );
    assert_eq!(
        std::fs::read(cuda_library(&s.runtime_dir())).unwrap(),
        member(&s.wheels[0], "torch/lib/libtorch_cuda.so")
    );
    assert_eq!(
        std::fs::read(s.runtime_dir().join("nvidia/cu13/lib/libcublasLt.so.13")).unwrap(),
        member(&s.wheels[1], "nvidia/cu13/lib/libcublasLt.so.13")
    );
    assert_eq!(status.bytes_present, 300_000 + 20_000 + 50_000 + 80_000);
    // The wheels are gone once unpacked; nothing half-done is left beside the runtime.
    assert!(files_under(&s.options.paths.wheels).is_empty());
    assert_eq!(files_under(&s.options.paths.install).len(), 5);
    assert!(events
        .iter()
        .any(|e| matches!(e, FetchEvent::Unpacking { .. })));
    // Installed: a second fetch asks nothing.
    let asked = s.server.requests().len();
    s.fetch(&CancelToken::new(), |_| false).0.unwrap();
    assert_eq!(s.server.requests().len(), asked);
    assert_eq!(
        remove_runtime(&s.manifest, &s.options.paths).unwrap(),
        status.bytes_present
    );
    assert!(!s.runtime_dir().exists());
    assert_eq!(
        runtime_status(&s.manifest, &s.options.paths).state,
        RuntimeState::Missing
    );
}

#[test]
fn a_dropped_connection_resumes_from_the_byte_where_it_stopped() {
    let s = setup();
    let path = format!("/packages/{}", s.manifest.wheels[0].filename);
    s.server.set_behaviour(
        &path,
        Behaviour {
            drop_after: Some(100_000),
            ..Behaviour::default()
        },
    );
    s.fetch(&CancelToken::new(), |_| false).0.unwrap();
    let gets = s.wheel_gets(0);
    assert_eq!(gets.len(), 2, "{gets:?}");
    assert_eq!(gets[1].range.as_deref(), Some("bytes=100000-"));
    assert_eq!(
        std::fs::read(cuda_library(&s.runtime_dir())).unwrap(),
        member(&s.wheels[0], "torch/lib/libtorch_cuda.so")
    );
}

#[test]
fn wrong_bytes_are_removed_and_nothing_is_installed() {
    let s = setup();
    let path = format!("/packages/{}", s.manifest.wheels[1].filename);
    let mut bytes = s.wheels[1].clone();
    let last = bytes.len() - 30;
    bytes[last] ^= 0xff;
    s.server.serve(&path, bytes);
    let err = s.fetch(&CancelToken::new(), |_| false).0.unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, RuntimeError::ChecksumMismatch { .. }),
        "{message}"
    );
    assert!(
        message.contains(&s.manifest.wheels[1].sha256) && message.contains("removed"),
        "{message}"
    );
    assert!(
        !s.options.paths.install.exists(),
        "nothing is unpacked before every wheel is good"
    );
    // The good wheel stays downloaded; the bad one is gone.
    assert_eq!(
        files_under(&s.options.paths.wheels),
        [s.manifest.wheels[0].filename.clone()]
    );
}

#[test]
fn an_index_that_disagrees_with_the_pins_stops_before_any_download() {
    let mut s = setup();
    s.manifest.wheels[1].sha256 = "ab".repeat(32);
    let err = s.fetch(&CancelToken::new(), |_| false).0.unwrap_err();
    assert!(matches!(err, RuntimeError::IndexMismatch { .. }), "{err}");
    assert!(err.to_string().contains(&"ab".repeat(32)));
    assert!(s
        .server
        .requests()
        .iter()
        .all(|r| r.path.starts_with("/simple/")));
}

#[test]
fn a_cancel_keeps_the_download_and_the_next_fetch_resumes_it() {
    let s = setup();
    let path = format!("/packages/{}", s.manifest.wheels[0].filename);
    s.server.set_behaviour(
        &path,
        Behaviour {
            throttle: Some((8 * 1024, Duration::from_millis(15))),
            ..Behaviour::default()
        },
    );
    let cancel = CancelToken::new();
    let (result, _) = s.fetch(
        &cancel,
        |e| matches!(e, FetchEvent::Progress { done, .. } if *done > 50_000),
    );
    assert!(matches!(result, Err(RuntimeError::Cancelled)), "{result:?}");
    let status = runtime_status(&s.manifest, &s.options.paths);
    assert_eq!(status.state, RuntimeState::Partial);
    assert!(status.bytes_present > 0);
    assert!(!s.runtime_dir().exists());
    s.server.set_behaviour(&path, Behaviour::default());
    s.fetch(&CancelToken::new(), |_| false).0.unwrap();
    let last = s.wheel_gets(0).into_iter().last().unwrap();
    assert!(last.range.is_some_and(|r| r != "bytes=0-"), "resumed");
}

#[test]
fn too_old_a_driver_is_refused_naming_both_versions_and_nothing_is_downloaded() {
    let mut s = setup();
    s.options.driver = Some("575.57.08".into());
    let err = s.fetch(&CancelToken::new(), |_| false).0.unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("575.57.08")
            && message.contains("580")
            && message.contains("nothing was downloaded"),
        "{message}"
    );
    assert!(s.server.requests().is_empty());
    // Without any driver the runtime still installs (it loads; a GPU needs a driver later).
    s.options.driver = None;
    assert_eq!(
        s.fetch(&CancelToken::new(), |_| false).0.unwrap().state,
        RuntimeState::Installed
    );
}

#[test]
fn a_runtime_for_another_libtorch_is_refused() {
    let s = setup();
    let err = fetch_runtime(
        &s.manifest,
        "2.12.0+cu128",
        &s.options,
        &CancelToken::new(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(err, RuntimeError::WrongLibtorch { .. }), "{err}");
}
