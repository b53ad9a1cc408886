//! `virnucpro` is two binaries: the front runs the commands that need no model without
//! loading libtorch, and hands the others to `virnucpro-torch` (crates/cli/src/lib.rs).
//! Each test starts the real binaries. Libtorch is made unloadable by putting broken
//! `libtorch_cpu.so` and `libc10.so` first on the loader's path (LD_LIBRARY_PATH is searched
//! before a RUNPATH): a binary that needs them cannot start at all.
#![cfg(target_os = "linux")]

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use virnucpro_testkit::fixture;

const FRONT: &str = env!("CARGO_BIN_EXE_virnucpro");
const TORCH: &str = env!("CARGO_BIN_EXE_virnucpro-torch");

/// A folder of libraries named like libtorch's that the loader refuses.
fn broken_libtorch(dir: &Path) -> PathBuf {
    let lib = dir.join("broken-libtorch");
    fs::create_dir_all(&lib).unwrap();
    for name in ["libtorch_cpu.so", "libc10.so", "libtorch.so"] {
        fs::write(lib.join(name), b"not a shared object").unwrap();
    }
    lib
}

fn without_libtorch(program: &str, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env("LD_LIBRARY_PATH", broken_libtorch(dir));
    cmd
}

#[test]
fn prepare_merge_summarize_and_models_run_without_libtorch() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("prepared");
    without_libtorch(FRONT, dir.path())
        .arg("prepare")
        .arg(fixture("reference/test_with_orfs.fa"))
        .args(["--length", "500", "--out"])
        .arg(&out)
        .assert()
        .success();
    assert!(out.join("prepare.json").is_file());
    without_libtorch(FRONT, dir.path())
        .args(["models", "--json"])
        .env("HOME", dir.path())
        .env("HF_HUB_CACHE", dir.path().join("hub"))
        .env("TORCH_HOME", dir.path().join("torch"))
        .assert()
        .success();
    for args in [
        &["--version"][..],
        &["merge", "--help"],
        &["summarize", "--help"],
    ] {
        without_libtorch(FRONT, dir.path())
            .args(args)
            .assert()
            .success();
    }
}

/// The method above detects a binary that needs libtorch: the model commands' binary
/// cannot even start with it, through the front or directly.
#[test]
fn the_model_commands_need_libtorch_and_go_to_virnucpro_torch() {
    let dir = tempfile::tempdir().unwrap();
    for program in [FRONT, TORCH] {
        without_libtorch(program, dir.path())
            .arg("devices")
            .assert()
            .failure()
            .stderr(
                predicate::str::contains("libtorch_cpu.so")
                    .or(predicate::str::contains("libc10.so")),
            );
    }
    // With libtorch loadable, the front hands the command over with its arguments, and
    // the help and usage name `virnucpro`, not the helper binary.
    Command::new(FRONT)
        .args(["devices", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"backend\""));
    Command::new(FRONT)
        .args(["-q", "predict", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Usage: virnucpro predict"));
    Command::new(FRONT)
        .args(["help", "classify"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Usage: virnucpro classify"));
    // A usage error of a model command is the helper's, with its exit code (1).
    Command::new(FRONT)
        .args(["classify", "--no-such-option"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("Usage: virnucpro classify"));
}

/// Installed as the packages lay it out (only `virnucpro` on the PATH, the helper in
/// `lib/virnucpro/`), and without the helper: a clear error, no crash.
#[test]
fn the_helper_is_found_in_the_package_layout_and_its_absence_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    let lib = dir.path().join("lib/virnucpro");
    fs::create_dir_all(&bin).unwrap();
    fs::create_dir_all(&lib).unwrap();
    let front = bin.join("virnucpro");
    fs::copy(FRONT, &front).unwrap();
    Command::new(&front)
        .args(["embed", "--help"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("virnucpro-torch is missing")
                .and(predicate::str::contains("embed"))
                .and(predicate::str::contains("reinstall")),
        );
    // The commands without a model do not need it.
    Command::new(&front).arg("--help").assert().success();
    fs::copy(TORCH, lib.join("virnucpro-torch")).unwrap();
    Command::new(&front)
        .args(["embed", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Usage: virnucpro embed"));
}
