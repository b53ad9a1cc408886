//! The GPU support panel's logic against a package index on 127.0.0.1 serving one
//! stand-in torch wheel (a zip archive laid out like the real one); no network, no GPU.
use std::path::PathBuf;
use std::time::Duration;

use virnucpro_models::checksum::sha256_file;
use virnucpro_models::runtime::{DriverCheck, RuntimeManifest, RuntimePaths, RuntimeState, Wheel};
use virnucpro_testkit::archive::{noise, zip_archive};
use virnucpro_testkit::http::{Behaviour, TestServer};

use super::*;

const WHEEL: &str = "torch-2.13.0-cp311-cp311-manylinux_2_28_x86_64.whl";
const LIBRARY_BYTES: usize = 400_000;

struct World {
    server: TestServer,
    runtime: GpuRuntime,
    dir: tempfile::TempDir,
}

/// A wheel whose `torch/lib/libtorch_cuda.so` is 400 kB of bytes that do not compress.
fn wheel_bytes() -> Vec<u8> {
    let library = noise(LIBRARY_BYTES, 7);
    zip_archive(
        &[
            ("torch/lib/libtorch_cuda.so", &library),
            ("torch/__init__.py", b""),
        ],
        false,
    )
}

fn world(driver: Option<&str>) -> World {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let wheel = wheel_bytes();
    let file = dir.path().join(WHEEL);
    std::fs::write(&file, &wheel).unwrap();
    let sha256 = sha256_file(&file).unwrap();
    server.serve(&format!("/files/{WHEEL}"), wheel.clone());
    let page = serde_json::json!({ "files": [
        { "filename": WHEEL, "url": server.url(&format!("/files/{WHEEL}")),
          "hashes": { "sha256": sha256 }, "size": wheel.len() }
    ]});
    server.serve("/simple/torch/", page.to_string().into_bytes());
    let manifest = RuntimeManifest {
        libtorch: LIBTORCH_VERSION.into(),
        cuda: "13.0".into(),
        min_driver: 580,
        index: format!("{}/simple", server.base_url()),
        wheels: vec![Wheel {
            project: "torch".into(),
            version: "2.13.0".into(),
            filename: WHEEL.into(),
            size: wheel.len() as u64,
            sha256,
            unpacked: LIBRARY_BYTES as u64,
            extract: vec!["torch/lib/libtorch_cuda.so".into()],
        }],
    };
    let paths = RuntimePaths {
        install: dir.path().join("data/runtime"),
        wheels: dir.path().join("cache/wheels"),
    };
    let runtime =
        GpuRuntime::new(manifest, paths, driver.map(String::from)).with_retry(RetryPolicy {
            attempts: 2,
            first_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(10),
            timeout: Duration::from_secs(10),
        });
    World {
        server,
        runtime,
        dir,
    }
}

/// This process as it starts on a machine without the runtime.
fn cpu_only() -> Backend {
    Backend {
        libtorch_version: LIBTORCH_VERSION,
        cuda: CudaBackend::Unavailable {
            reason: "libtorch_cuda.so: cannot open shared object file".into(),
        },
    }
}

impl World {
    fn runtime_dir(&self) -> PathBuf {
        self.dir
            .path()
            .join(format!("data/runtime/libtorch-{LIBTORCH_VERSION}"))
    }

    /// Fetch on this thread; every event sent, and `stop(event)` cancels when true.
    fn fetch(
        &self,
        mut stop: impl FnMut(&FetchEvent) -> bool,
    ) -> (CommandResult<GpuRuntimeStatus>, Vec<FetchEvent>) {
        let slot = self.runtime.begin().unwrap();
        let mut events = Vec::new();
        let cancel = slot.cancel.clone();
        let result = self.runtime.fetch(&slot, &cpu_only(), |event| {
            if stop(&event) {
                cancel.cancel();
            }
            events.push(event);
        });
        (result, events)
    }
}

#[test]
fn a_fresh_machine_has_it_missing_with_its_sizes_and_says_why_cuda_is_not_used() {
    let w = world(Some("580.65.06"));
    let status = w.runtime.status(&cpu_only());
    assert_eq!(status.runtime.state, RuntimeState::Missing);
    assert_eq!(status.runtime.libtorch, LIBTORCH_VERSION);
    assert_eq!(status.runtime.cuda, "13.0");
    assert_eq!(status.runtime.path, w.runtime_dir());
    assert_eq!(status.runtime.unpacked_bytes, LIBRARY_BYTES as u64);
    assert!(status.runtime.download_bytes > LIBRARY_BYTES as u64);
    assert!(matches!(status.driver, DriverCheck::Ok { .. }));
    assert!(status.driver_message.contains("580.65.06"));
    assert!(status.backend.contains("CPU only"), "{}", status.backend);
    assert!(status.why_not_cuda.unwrap().contains("not installed"));
    assert!(!status.restart_needed);
    assert!(!status.busy);
    let json = serde_json::to_value(w.runtime.status(&cpu_only())).unwrap();
    assert_eq!(json["runtime"]["state"], "missing");
    assert_eq!(json["driver"]["state"], "ok");
    assert!(
        w.server.requests().is_empty(),
        "status asks nothing of the index"
    );
}

#[test]
fn a_fetch_installs_it_with_events_and_asks_for_a_restart() {
    let w = world(None);
    let (result, events) = w.fetch(|_| false);
    let status = result.unwrap();
    assert_eq!(status.runtime.state, RuntimeState::Installed);
    assert_eq!(status.runtime.bytes_present, LIBRARY_BYTES as u64);
    assert!(w.runtime_dir().join("torch/lib/libtorch_cuda.so").is_file());
    // Installed, but this process's backend loaded without it.
    assert!(status.restart_needed);
    assert!(!status.busy);
    assert!(matches!(status.driver, DriverCheck::NoDriver { .. }));
    let names: Vec<&str> = events
        .iter()
        .map(|e| match e {
            FetchEvent::Started { .. } => "started",
            FetchEvent::FileStarted { .. } => "file-started",
            FetchEvent::Progress { .. } => "progress",
            FetchEvent::Unpacking { .. } => "unpacking",
            FetchEvent::FileInstalled { .. } => "file-installed",
            FetchEvent::Finished { .. } => "finished",
            _ => "other",
        })
        .collect();
    assert_eq!(names.first(), Some(&"started"), "{names:?}");
    assert_eq!(names.last(), Some(&"finished"), "{names:?}");
    for wanted in ["file-started", "progress", "unpacking"] {
        assert!(names.contains(&wanted), "no {wanted}: {names:?}");
    }
    let json = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(json["event"], "started");
    // Once the slot is given back, another fetch may start (and has nothing to do).
    let (again, _) = w.fetch(|_| false);
    assert_eq!(again.unwrap().runtime.state, RuntimeState::Installed);
    // A process whose backend loaded (from this runtime) needs no restart.
    let loaded = Backend {
        libtorch_version: LIBTORCH_VERSION,
        cuda: CudaBackend::NoDevice,
    };
    assert!(!w.runtime.status(&loaded).restart_needed);
}

#[test]
fn one_download_at_a_time_and_a_cancel_keeps_what_was_downloaded_for_a_resume() {
    let w = world(Some("590.1"));
    w.server.set_behaviour(
        &format!("/files/{WHEEL}"),
        Behaviour {
            throttle: Some((16 * 1024, Duration::from_millis(10))),
            ..Behaviour::default()
        },
    );
    let slot = w.runtime.begin().unwrap();
    assert_eq!(w.runtime.begin().err().unwrap().kind, ErrorKind::Busy);
    assert_eq!(
        w.runtime.remove(&cpu_only()).err().unwrap().kind,
        ErrorKind::Busy
    );
    assert!(w.runtime.status(&cpu_only()).busy);
    drop(slot);
    assert!(!w.runtime.cancel(), "nothing to cancel");

    let (result, events) = w.fetch(|e| matches!(e, FetchEvent::Progress { done, .. } if *done > 0));
    let status = result.expect("a cancel resolves with the state");
    assert_eq!(status.runtime.state, RuntimeState::Partial, "{events:?}");
    assert!(status.runtime.bytes_present > 0);
    assert!(!status.restart_needed);
    assert!(!w.runtime.status(&cpu_only()).busy);

    w.server
        .set_behaviour(&format!("/files/{WHEEL}"), Behaviour::default());
    let (result, _) = w.fetch(|_| false);
    assert_eq!(result.unwrap().runtime.state, RuntimeState::Installed);
    let last = w
        .server
        .requests_for(&format!("/files/{WHEEL}"))
        .into_iter()
        .last()
        .unwrap();
    assert!(
        last.range.is_some_and(|r| r != "bytes=0-"),
        "the second fetch resumed"
    );
}

#[test]
fn remove_deletes_it_and_the_wheels() {
    let w = world(Some("580.65.06"));
    w.fetch(|_| false).0.unwrap();
    let status = w.runtime.remove(&cpu_only()).unwrap();
    assert_eq!(status.runtime.state, RuntimeState::Missing);
    assert!(!w.runtime_dir().exists());
    assert!(!status.restart_needed);
    // Removing nothing is fine.
    w.runtime.remove(&cpu_only()).unwrap();
}

#[test]
fn too_old_a_driver_is_an_error_naming_both_versions_and_nothing_is_downloaded() {
    let w = world(Some("575.57.08"));
    let status = w.runtime.status(&cpu_only());
    assert!(matches!(status.driver, DriverCheck::TooOld { .. }));
    assert!(
        status.driver_message.contains("575.57.08") && status.driver_message.contains("580"),
        "{}",
        status.driver_message
    );
    let (result, events) = w.fetch(|_| false);
    let err = result.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert!(
        err.message.contains("575.57.08") && err.message.contains("580"),
        "{}",
        err.message
    );
    assert!(events.is_empty());
    assert!(w.server.requests().is_empty());
    assert_eq!(
        w.runtime.status(&cpu_only()).runtime.state,
        RuntimeState::Missing
    );
}

#[test]
fn a_wheel_the_index_does_not_list_is_not_found() {
    let w = world(Some("580.65.06"));
    w.server
        .serve("/simple/torch/", br#"{"files": []}"#.to_vec());
    let (result, _) = w.fetch(|_| false);
    let err = result.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert!(err.message.contains(WHEEL), "{}", err.message);
}
