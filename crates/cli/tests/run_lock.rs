//! One run per output folder: a second `predict` on a folder in use is refused (exit 5),
//! naming the run that holds it; a holder that is killed leaves no stale lock.
use std::path::Path;
use std::process::{Command as Process, Stdio};

use assert_cmd::Command;
use predicates::prelude::*;
use virnucpro_core::run_folder::lock::{lock_run_folder, LOCK_FILE};
use virnucpro_testkit::fixture;

fn predict(out: &Path) -> Command {
    let path = |p: &Path| p.to_str().expect("utf-8 path").to_owned();
    let mut cmd = Command::cargo_bin("virnucpro").expect("the binary");
    cmd.args(["predict", &path(&fixture("e2e/a500/input.fa"))])
        .args(["--length", "500", "--devices", "cpu"])
        .args(["--dnabert", &path(&fixture("models/dnabert_s_tiny"))])
        .args([
            "--esm",
            &path(&fixture("models/esm2_tiny_fairesm/esm2_t2_tiny_fixture.pt")),
        ])
        .args(["--classifier", &path(&fixture("e2e/a500/classifier.pth"))])
        .args(["--out", &path(out)]);
    cmd
}

#[test]
fn a_second_run_on_a_folder_in_use_is_refused_naming_the_first() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    std::fs::create_dir(&out).unwrap();
    let holder = "virnucpro-desktop, process 4242, started 2026-12-02T10:00:00Z";
    let held = lock_run_folder(&out, holder).unwrap();
    predict(&out)
        .assert()
        .code(5)
        .stderr(predicate::str::contains(
            "another run is using this output folder",
        ))
        .stderr(predicate::str::contains(holder));
    assert!(
        !out.join("run-manifest.json").exists(),
        "the refused run wrote nothing"
    );
    drop(held);
    predict(&out).assert().code(0);
    let text = std::fs::read_to_string(out.join(LOCK_FILE)).unwrap();
    assert!(text.starts_with("virnucpro, process "), "{text}");
}

#[test]
fn a_killed_holder_leaves_no_stale_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    std::fs::create_dir(&out).unwrap();
    // util-linux's flock(1) takes the same OS lock (flock(2)) in another process.
    // `-o`: the lock stays with flock itself, not with the command it starts.
    let mut other = Process::new("flock")
        .arg("-o")
        .arg(out.join(LOCK_FILE))
        .args(["sleep", "60"])
        .stdout(Stdio::null())
        .spawn()
        .expect("flock(1) from util-linux");
    // Wait until the other process holds the lock.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while lock_run_folder(&out, "probe").is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "flock never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    predict(&out).assert().code(5);
    other.kill().unwrap(); // SIGKILL: no chance to clean up
    other.wait().unwrap();
    let lock = lock_run_folder(&out, "after the kill");
    assert!(lock.is_ok(), "the kernel released the dead holder's lock");
}
