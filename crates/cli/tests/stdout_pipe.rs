//! A reader that stops reading (`virnucpro models | head -n 3`) or a standard output that
//! cannot be written: the commands used to panic there (`println!`), exit 101 and print a
//! Rust backtrace hint. Each test starts the real binaries with stdout a pipe whose reading
//! end is already closed, so that every write fails, deterministically.
#![cfg(target_os = "linux")]

use std::path::Path;
use std::process::{Command, Output, Stdio};

use virnucpro_testkit::fixture;

const FRONT: &str = env!("CARGO_BIN_EXE_virnucpro");

/// `cmd` run with its stdout a pipe nobody reads (the reading end closed before it starts).
fn into_closed_pipe(mut cmd: Command) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    cmd.stdout(writer).stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    // The parent's copy of the writing end went with `cmd`'s Stdio when it was spawned.
    drop(cmd);
    child.wait_with_output().unwrap()
}

/// A command with a home of its own, so that nothing of this machine is listed.
fn virnucpro(home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(FRONT);
    cmd.args(args)
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("HF_HUB_CACHE", home.join("hub"))
        .env("TORCH_HOME", home.join("torch"))
        .env("VIRNUCPRO_RUNTIME_DIR", home.join("runtime"));
    cmd
}

fn assert_quiet_success(output: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert!(!stderr.contains("Broken pipe"), "{what}: {stderr}");
    assert_eq!(output.status.code(), Some(0), "{what}: {stderr}");
}

#[test]
fn a_closed_pipe_ends_no_command_with_a_panic() {
    let home = tempfile::tempdir().unwrap();
    // The front's own commands, and `runtime`, which runs in `virnucpro-torch`.
    for args in [&["models"][..], &["models", "--json"], &["runtime"]] {
        let output = into_closed_pipe(virnucpro(home.path(), args));
        assert_quiet_success(&output, &args.join(" "));
    }
}

#[test]
fn the_work_goes_on_when_its_output_is_not_read() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("prepared");
    let reads = fixture("reference/test_with_orfs.fa");
    let mut cmd = virnucpro(home.path(), &["prepare", "--length", "500", "--out"]);
    cmd.arg(&out).arg(&reads);
    let output = into_closed_pipe(cmd);
    assert_quiet_success(&output, "prepare");
    // The shards were written in full: the same prepare.json as a run whose output is read.
    let again = home.path().join("again");
    let mut cmd = virnucpro(home.path(), &["prepare", "--length", "500", "--out"]);
    let read = cmd.arg(&again).arg(&reads).output().unwrap();
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    assert!(!read.stdout.is_empty(), "prepare prints a summary");
    let shards = |dir: &Path| {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    assert_eq!(shards(&out), shards(&again));
    assert!(!shards(&out).is_empty());
}

#[test]
fn an_output_that_cannot_be_written_is_said_and_fails_the_command() {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = virnucpro(home.path(), &["models"]);
    cmd.stdout(std::fs::File::create("/dev/full").unwrap());
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("error: cannot write to standard output: "),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("cannot write to standard output").count(),
        1,
        "said once: {stderr}"
    );
    assert_eq!(output.status.code(), Some(5), "{stderr}");
}
