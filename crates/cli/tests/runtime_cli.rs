//! `virnucpro runtime` against a package index on 127.0.0.1 serving stand-in wheels: fetch,
//! status, what `devices` then says, a file system too small (a real tmpfs), and remove.
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use predicates::prelude::*;
use sha2::{Digest, Sha256};
use virnucpro_testkit::archive::zip_archive;
use virnucpro_testkit::http::TestServer;

const BIN: &str = env!("CARGO_BIN_EXE_virnucpro");
const WHEEL: &str = "torch-2.13.0-cp311-cp311-manylinux_2_28_x86_64.whl";

struct Setup {
    server: TestServer,
    dir: tempfile::TempDir,
    manifest: PathBuf,
}

/// One stand-in torch wheel of ~1.5 MB whose "libtorch_cuda.so" is not a real library.
fn setup() -> Setup {
    let server = TestServer::start();
    let library = vec![0x7f; 1_500_000];
    let wheel = zip_archive(
        &[
            ("torch/lib/libtorch_cuda.so", &library),
            ("torch/__init__.py", b""),
        ],
        false,
    );
    let sha256: String = Sha256::digest(&wheel)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    server.serve(&format!("/files/{WHEEL}"), wheel.clone());
    let page = serde_json::json!({"files": [{"filename": WHEEL, "url": format!("{}/files/{WHEEL}", server.base_url()), "hashes": {"sha256": sha256}}]});
    server.serve("/simple/torch/", page.to_string().into_bytes());
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("runtime.json");
    let text = serde_json::json!({
        "libtorch": virnucpro_engine_version(), "cuda": "13.0", "min_driver": 580,
        "index": format!("{}/simple", server.base_url()),
        "wheels": [{"project": "torch", "version": "2.13.0", "filename": WHEEL, "size": wheel.len(),
                    "sha256": sha256, "unpacked": 1_500_000, "extract": ["torch/lib/libtorch_cuda.so"]}]
    });
    std::fs::write(&manifest, text.to_string()).unwrap();
    Setup {
        server,
        dir,
        manifest,
    }
}

/// The libtorch version of the binary, as `virnucpro --version` prints it.
fn virnucpro_engine_version() -> String {
    let out = Process::new(BIN).arg("--version").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.split("(libtorch ")
        .nth(1)
        .unwrap()
        .trim_end()
        .trim_end_matches(')')
        .to_string()
}

impl Setup {
    fn runtime_dir(&self) -> PathBuf {
        self.dir.path().join("runtime")
    }

    fn configure(&self, cmd: &mut Process) {
        cmd.env("VIRNUCPRO_RUNTIME_MANIFEST", &self.manifest)
            .env("VIRNUCPRO_RUNTIME_DIR", self.runtime_dir())
            .env("XDG_CACHE_HOME", self.dir.path().join("cache"))
            .env("HOME", self.dir.path())
            .env_remove("PIP_INDEX_URL")
            .env_remove("RUST_LOG");
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Process::new(BIN);
        self.configure(&mut cmd);
        cmd.args(args);
        Command::from_std(cmd)
    }

    fn status(&self) -> serde_json::Value {
        let out = self.cmd(&["runtime", "status", "--json"]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

#[test]
fn fetch_installs_where_the_backend_loader_looks_and_remove_takes_it_away() {
    let s = setup();
    assert_eq!(s.status()["runtime"]["state"], "missing");
    s.cmd(&["runtime", "fetch"])
        .assert()
        .success()
        .stdout(predicate::str::contains("GPU runtime installed"));
    let status = s.status();
    assert_eq!(status["runtime"]["state"], "installed");
    assert_eq!(status["runtime"]["bytes_present"], 1_500_000);
    let version = virnucpro_engine_version();
    let lib = s
        .runtime_dir()
        .join(format!("libtorch-{version}/torch/lib/libtorch_cuda.so"));
    assert!(lib.is_file());
    // The stand-in is no library: the loader tried it, and says so.
    let out = s.cmd(&["devices", "--json"]).output().unwrap();
    let devices: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reason = devices["backend"]["cuda_unavailable_reason"]
        .as_str()
        .unwrap();
    assert!(reason.contains(lib.to_str().unwrap()), "{reason}");
    s.cmd(&["runtime", "remove"])
        .assert()
        .success()
        .stdout(predicate::str::contains("1.4 MiB freed"));
    assert!(!lib.exists());
    assert_eq!(s.status()["runtime"]["state"], "missing");
}

#[test]
fn a_file_system_too_small_is_refused_before_the_first_byte() {
    let s = setup();
    let small = s.dir.path().join("small");
    std::fs::create_dir(&small).unwrap();
    let script = format!(
        "mount -t tmpfs -o size=1m tmpfs '{dir}' && exec '{BIN}' runtime fetch",
        dir = small.display()
    );
    let mut cmd = Process::new("unshare");
    s.configure(&mut cmd);
    cmd.env("VIRNUCPRO_RUNTIME_DIR", small.join("runtime"))
        .env("XDG_CACHE_HOME", small.join("cache"));
    let out = cmd.args(["-rm", "sh", "-c", &script]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains("not enough free space in") && stderr.contains("the GPU runtime needs"),
        "{stderr}"
    );
    assert!(
        s.server
            .requests()
            .iter()
            .all(|r| !r.path.starts_with("/files/")),
        "no wheel byte was downloaded: {:?}",
        s.server.requests()
    );
    assert!(!Path::new(&small.join("runtime")).join("libtorch").exists());
}
