//! `virnucpro models fetch | verify | import` and `predict` without model paths, against a
//! real HTTP server on 127.0.0.1 serving the tiny models under the real sources' paths.
//! A kill -9 mid-download, and a file system too small for the model (a real tmpfs).
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;
use virnucpro_testkit::fixture;
use virnucpro_testkit::http::{Behaviour, TestServer};
use virnucpro_testkit::tiny_models::{self, dnabert_path, TinyModels};

const BIN: &str = env!("CARGO_BIN_EXE_virnucpro");

/// The server, its catalogue on disk, and an empty cache folder.
struct Setup {
    server: TestServer,
    dir: tempfile::TempDir,
    catalogue: PathBuf,
}

fn setup() -> Setup {
    let server = TestServer::start();
    let tiny: TinyModels = tiny_models::serve(&server);
    let dir = tempfile::tempdir().unwrap();
    let catalogue = tiny.write_catalogue(dir.path());
    Setup {
        server,
        dir,
        catalogue,
    }
}

impl Setup {
    fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    /// `virnucpro ARGS`, seeing only this catalogue, cache and server.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        self.configure(&mut cmd);
        cmd.args(args);
        cmd
    }

    fn configure<C: CommandEnv>(&self, cmd: &mut C) {
        cmd.set("VIRNUCPRO_CATALOGUE", self.catalogue.as_os_str());
        cmd.set("VIRNUCPRO_MODEL_BASE_URL", self.server.base_url().as_ref());
        cmd.set("XDG_CACHE_HOME", self.cache().as_os_str());
        cmd.set("HOME", self.dir.path().as_os_str());
        for var in [
            "HF_HOME",
            "HF_HUB_CACHE",
            "HUGGINGFACE_HUB_CACHE",
            "TORCH_HOME",
            "VIRNUCPRO_CACHE",
            "HF_ENDPOINT",
            "RUST_LOG",
        ] {
            cmd.unset(var);
        }
    }

    /// `predict` on the a500 reads on the CPU into `out`, models from `extra` or installed.
    fn predict_a500(&self, out: &Path, extra: &[&str]) -> Command {
        let input = fixture("e2e/a500/input.fa");
        let mut cmd = self.cmd(&["predict", input.to_str().unwrap(), "--length", "500"]);
        cmd.args(["--devices", "cpu", "--out", out.to_str().unwrap()])
            .args(extra);
        cmd
    }

    fn fetch(&self, names: &[&str]) -> Command {
        let mut args = vec!["models", "fetch", "--tries", "2"];
        args.extend(names);
        self.cmd(&args)
    }

    fn listing(&self) -> serde_json::Value {
        let out = self.cmd(&["models", "--json"]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn state(&self, id: &str) -> String {
        let listing = self.listing();
        let model = listing["catalogue"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .unwrap()
            .clone();
        model["state"].as_str().unwrap().to_string()
    }

    fn hub_repo(&self) -> PathBuf {
        self.cache()
            .join("huggingface/hub/models--zhihan1996--DNABERT-S")
    }

    fn weights_partial(&self) -> PathBuf {
        let sha = virnucpro_models::checksum::sha256_file(&fixture(
            "models/dnabert_s_tiny/pytorch_model.bin",
        ))
        .unwrap();
        self.hub_repo()
            .join("blobs")
            .join(format!("{sha}.incomplete"))
    }
}

/// Environment setting on both `assert_cmd` and std commands.
trait CommandEnv {
    fn set(&mut self, key: &str, value: &std::ffi::OsStr);
    fn unset(&mut self, key: &str);
}

impl CommandEnv for Command {
    fn set(&mut self, key: &str, value: &std::ffi::OsStr) {
        self.env(key, value);
    }
    fn unset(&mut self, key: &str) {
        self.env_remove(key);
    }
}

impl CommandEnv for Process {
    fn set(&mut self, key: &str, value: &std::ffi::OsStr) {
        self.env(key, value);
    }
    fn unset(&mut self, key: &str) {
        self.env_remove(key);
    }
}

fn reports(out: &Path) -> Vec<Vec<u8>> {
    [
        "prediction_results.txt",
        "prediction_results_highestscore.csv",
    ]
    .iter()
    .map(|name| fs::read(out.join(name)).unwrap())
    .collect()
}

#[test]
fn fetched_models_are_what_predict_uses_without_paths() {
    let s = setup();
    assert_eq!(s.state("dnabert-s"), "missing");
    s.fetch(&[])
        .assert()
        .success()
        .stdout(predicate::str::contains("dnabert-s: verified"))
        .stdout(predicate::str::contains("classifier-500: verified"));
    for id in ["dnabert-s", "esm2-3b", "classifier-300", "classifier-500"] {
        assert_eq!(s.state(id), "verified", "{id}");
    }
    let out = s.dir.path().join("run");
    s.predict_a500(&out, &[]).assert().success();
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("run-manifest.json")).unwrap()).unwrap();
    for (role, id) in [
        ("dnabert", "dnabert-s"),
        ("esm", "esm2-3b"),
        ("classifier", "classifier-500"),
    ] {
        let record = &manifest["models"][role];
        assert_eq!(
            record["provenance"],
            serde_json::json!({"state": "verified", "model": id}),
            "{role}"
        );
        assert!(record["path"]
            .as_str()
            .unwrap()
            .starts_with(s.cache().to_str().unwrap()));
    }
    // The same results as the fixture models given by path (the hub copy holds
    // pytorch_model.bin where the fixture folder also has model.safetensors).
    let by_path = s.dir.path().join("by-path");
    let copy = s.dir.path().join("esm-copy.pt");
    fs::copy(
        fixture("models/esm2_tiny_fairesm/esm2_t2_tiny_fixture.pt"),
        &copy,
    )
    .unwrap();
    s.predict_a500(
        &by_path,
        &[
            "--dnabert",
            fixture("models/dnabert_s_tiny").to_str().unwrap(),
            "--esm",
            copy.to_str().unwrap(),
            "--classifier",
            fixture("e2e/a500/classifier.pth").to_str().unwrap(),
        ],
    )
    .assert()
    .success();
    assert_eq!(reports(&out), reports(&by_path));
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(by_path.join("run-manifest.json")).unwrap()).unwrap();
    // Never imported nor verified: a run may use it, and says so.
    assert_eq!(
        manifest["models"]["esm"]["provenance"],
        serde_json::json!({"state": "unverified"})
    );
}

#[test]
fn a_model_that_is_not_installed_names_the_command_that_fetches_it() {
    let s = setup();
    s.fetch(&["dnabert-s", "classifier-500"]).assert().success();
    let out = s.dir.path().join("run");
    s.predict_a500(&out, &[])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("ESM-2 (tiny) is missing"))
        .stderr(predicate::str::contains("`virnucpro models fetch esm2-3b`"))
        .stderr(predicate::str::contains("--esm PATH"));
    assert!(!out.exists(), "nothing is started without the models");
}

#[test]
fn a_download_killed_with_sigkill_resumes_where_it_stopped() {
    let s = setup();
    let path = dnabert_path("pytorch_model.bin");
    s.server.set_behaviour(
        &path,
        Behaviour {
            throttle: Some((8 * 1024, Duration::from_millis(25))),
            ..Behaviour::default()
        },
    );
    let mut child = Process::new(BIN);
    s.configure(&mut child);
    let mut child = child
        .args(["models", "fetch", "dnabert-s"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let partial = s.weights_partial();
    let deadline = Instant::now() + Duration::from_secs(60);
    while fs::metadata(&partial).map_or(0, |m| m.len()) < 100_000 {
        assert!(Instant::now() < deadline, "the download never got going");
        assert!(
            child.try_wait().unwrap().is_none(),
            "fetch ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let kept = fs::metadata(&partial).unwrap().len();
    assert!(kept >= 100_000);

    s.server.set_behaviour(&path, Behaviour::default());
    s.fetch(&["dnabert-s"]).assert().success();
    assert_eq!(s.state("dnabert-s"), "verified");
    let resumed = s.server.requests_for(&path).into_iter().last().unwrap();
    let from: u64 = resumed
        .range
        .as_deref()
        .unwrap()
        .trim_start_matches("bytes=")
        .trim_end_matches('-')
        .parse()
        .unwrap();
    // The kill may land after bytes reached the file but before the size was read.
    assert!(from >= kept, "resumed from {from}, {kept} were kept");
    assert_eq!(resumed.status, 206);
    assert!(!partial.exists());
}

#[test]
fn a_file_system_too_small_is_refused_before_the_first_byte() {
    let s = setup();
    let small = s.dir.path().join("small");
    fs::create_dir(&small).unwrap();
    // A real 1 MiB tmpfs, in a mount namespace of its own (as root or as a user).
    let script = format!(
        "mount -t tmpfs -o size=1m tmpfs '{dir}' && exec '{BIN}' models fetch dnabert-s --cache-dir '{dir}'",
        dir = small.display()
    );
    let mut cmd = Process::new("unshare");
    s.configure(&mut cmd);
    let out = cmd.args(["-rm", "sh", "-c", &script]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("not enough free space in"), "{stderr}");
    assert!(
        stderr.contains("DNABERT-S") || stderr.contains("dnabert-s"),
        "{stderr}"
    );
    assert!(
        stderr.contains("2.4 MB more") && stderr.contains("free"),
        "{stderr}"
    );
    assert!(
        s.server.requests().iter().all(|r| r.method != "GET"),
        "no byte was downloaded: {:?}",
        s.server.requests()
    );
}

#[test]
fn a_missing_file_on_the_server_is_a_clear_error() {
    let s = setup();
    s.server.set_behaviour(
        &dnabert_path("config.json"),
        Behaviour {
            status: Some(404),
            ..Behaviour::default()
        },
    );
    s.fetch(&["dnabert-s"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("config.json"))
        .stderr(predicate::str::contains("404"));
    s.fetch(&["no-such-model"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "no model \"no-such-model\" in the catalogue",
        ));
}

#[test]
fn verify_finds_a_damaged_file_and_import_installs_a_copied_one() {
    let s = setup();
    s.fetch(&["esm2-3b"]).assert().success();
    let installed = s
        .cache()
        .join("torch/hub/checkpoints")
        .join(tiny_models::ESM_NAME);
    let mut bytes = fs::read(&installed).unwrap();
    bytes[777] ^= 0x10;
    fs::write(&installed, &bytes).unwrap();
    s.cmd(&["models", "verify", "esm2-3b"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("esm2-3b: damaged"))
        .stdout(predicate::str::contains(
            "does not match the catalogue's checksum",
        ));
    fs::remove_file(&installed).unwrap();

    let usb = s.dir.path().join("usb");
    fs::create_dir(&usb).unwrap();
    fs::copy(
        fixture("models/esm2_tiny_fairesm").join(tiny_models::ESM_NAME),
        usb.join(tiny_models::ESM_NAME),
    )
    .unwrap();
    fs::write(usb.join("README"), b"weights from the old workstation").unwrap();
    s.cmd(&["models", "import", usb.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains("esm2-3b esm2_t2_tiny_fixture.pt"))
        .stdout(predicate::str::contains(
            "README: matches no catalogue checksum",
        ))
        .stdout(predicate::str::contains("1 of 2 file(s) matched"));
    s.cmd(&["models", "verify", "esm2-3b"])
        .assert()
        .success()
        .stdout(predicate::str::contains("esm2-3b: verified"));
    let requests = s.server.requests().len();
    s.cmd(&["models", "import", "/no/such/folder"])
        .assert()
        .code(4);
    assert_eq!(s.server.requests().len(), requests);
}

#[test]
fn downloads_go_through_the_proxy_the_environment_names() {
    let s = setup();
    // The catalogue's own hosts, unreachable from here; the test server plays the proxy.
    let mut cmd = s.cmd(&["models", "fetch", "--tries", "1", "classifier-500"]);
    cmd.env_remove("VIRNUCPRO_MODEL_BASE_URL")
        .env("HTTP_PROXY", s.server.base_url())
        .env("http_proxy", s.server.base_url())
        .env_remove("NO_PROXY")
        .env_remove("no_proxy");
    // Plain http for the catalogue's host, as an institute mirror behind a proxy would be.
    let catalogue = fs::read_to_string(&s.catalogue).unwrap().replace(
        "https://raw.githubusercontent.com",
        "http://raw.githubusercontent.com",
    );
    fs::write(&s.catalogue, catalogue).unwrap();
    cmd.assert().success();
    let request = s
        .server
        .requests()
        .into_iter()
        .find(|r| r.method == "GET")
        .unwrap();
    assert_eq!(
        request.proxied_host.as_deref(),
        Some("raw.githubusercontent.com")
    );
    assert!(request.path.ends_with("/500_model.pth"));
    assert_eq!(s.state("classifier-500"), "verified");
}
