//! Every command's exit codes, as docs/cli.md's tables give them, each produced for real
//! (no GPU needed): the one mapping in `exit.rs` is what every command exits with.
//! 0 on success is asserted here where the other tests of a command do not already.
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use virnucpro_testkit::fixture;

fn virnucpro() -> Command {
    Command::new(env!("CARGO_BIN_EXE_virnucpro"))
}

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, content).unwrap();
    path
}

/// An output path under a plain file: no folder can be made there, whoever runs the test
/// (permissions do not stop root).
fn unwritable(dir: &Path) -> PathBuf {
    write(dir, "a-file", b"x").join("out")
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

// ---------------------------------------------------------------------------- predict

fn predict(input: &Path, out: &Path) -> Command {
    predict_with(input, out, "500", "cpu")
}

fn predict_with(input: &Path, out: &Path, length: &str, devices: &str) -> Command {
    let mut cmd = virnucpro();
    cmd.args([
        "predict",
        s(input),
        "--length",
        length,
        "--devices",
        devices,
    ])
    .args(["--dnabert", s(&fixture("models/dnabert_s_tiny"))])
    .args([
        "--esm",
        s(&fixture("models/esm2_tiny_fairesm/esm2_t2_tiny_fixture.pt")),
    ])
    .args(["--classifier", s(&fixture("e2e/a500/classifier.pth"))])
    .args(["--out", s(out)]);
    cmd
}

#[test]
fn predict_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let reads = fixture("e2e/a500/input.fa");
    let out = tmp.path().join("run");
    // 1: bad arguments, by the parser and by the settings check.
    predict_with(&reads, &out, "500", "gpu")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("'gpu' is not a device"));
    predict_with(&reads, &out, "400", "cpu")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--length: 400"));
    // 3: not FASTA.
    let text = write(tmp.path(), "notes.fa", b"this is not a FASTA file\n");
    predict(&text, &out).assert().code(3);
    // 4: a missing input.
    predict(&tmp.path().join("missing.fa"), &out)
        .assert()
        .code(4);
    // 5: the output folder cannot be made.
    predict(&reads, &unwritable(tmp.path()))
        .assert()
        .code(5)
        .stderr(predicate::str::contains("--out:"));
}

// ---------------------------------------------------------------------------- prepare

fn prepare(input: &Path, out: &Path) -> Command {
    let mut cmd = virnucpro();
    cmd.args(["prepare", s(input), "--length", "500", "--out", s(out)]);
    cmd
}

#[test]
fn prepare_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let good = write(tmp.path(), "good.fa", b">r1\nACGTACGTACGTACGT\n");
    let bad = write(tmp.path(), "bad.fa", b">r1\nACGTACGT\n>r2\nACGXQQ\n");
    let out = tmp.path().join("out");
    prepare(&good, &out).assert().code(0);
    prepare(&good, &out).arg("--no-such-flag").assert().code(1);
    prepare(&bad, &out)
        .arg("--skip-bad-records")
        .assert()
        .code(2);
    prepare(&bad, &out).assert().code(3);
    prepare(&tmp.path().join("missing.fa"), &out)
        .assert()
        .code(4);
    prepare(&good, &unwritable(tmp.path())).assert().code(5);
}

// ------------------------------------------------------------------------------ merge

#[test]
fn merge_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let merge = |nucleotide: &Path, out: &Path| {
        let mut cmd = virnucpro();
        cmd.args(["merge", "--nucleotide", s(nucleotide)]).args([
            "--protein",
            s(nucleotide),
            "--out",
            s(out),
        ]);
        cmd
    };
    let out = tmp.path().join("out");
    merge(&empty, &out)
        .arg("--threads")
        .arg("0")
        .assert()
        .code(1);
    merge(&empty, &out).assert().code(1);
    merge(&tmp.path().join("missing"), &out).assert().code(4);
    merge(&empty, &unwritable(tmp.path())).assert().code(5);
}

// --------------------------------------------------------------------------- classify

#[test]
fn classify_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let classifier = fixture("e2e/a500/classifier.pth");
    let merged = fixture("e2e/a500/expected/input_merged");
    let classify = |input: &Path, out: &Path| {
        let mut cmd = virnucpro();
        cmd.args(["classify", s(input), "--classifier", s(&classifier)])
            .args(["--out", s(out)]);
        cmd
    };
    let out = tmp.path().join("out");
    classify(&merged, &out)
        .arg("--no-such-flag")
        .assert()
        .code(1);
    let not_merged = write(
        tmp.path(),
        "output_0.merged.safetensors",
        b"not safetensors",
    );
    classify(&not_merged, &out).assert().code(3);
    classify(&tmp.path().join("missing"), &out).assert().code(4);
    classify(&merged, &out)
        .args(["--prepared", s(&tmp.path().join("no-prepare"))])
        .assert()
        .code(4);
    classify(&merged, &unwritable(tmp.path())).assert().code(5);
}

// ------------------------------------------------------------------------------ embed

fn embed(model: &str, weights: &Path, inputs: &[&Path], out: &Path) -> Command {
    embed_on("cpu", model, weights, inputs, out)
}

fn embed_on(devices: &str, model: &str, weights: &Path, inputs: &[&Path], out: &Path) -> Command {
    let mut cmd = virnucpro();
    cmd.args(["embed", "--model", model, "--devices", devices])
        .args(["--weights", s(weights), "--out", s(out)]);
    for input in inputs {
        cmd.args(["--in", s(input)]);
    }
    cmd
}

#[test]
fn embed_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let esm = fixture("models/esm2_tiny_fairesm/esm2_t2_tiny_fixture.pt");
    let dnabert = fixture("models/dnabert_s_tiny");
    let good = write(
        tmp.path(),
        "good.faa",
        b">p1\nMKTAYIAKQR\n>p2\nMSTNPKPQRK\n",
    );
    // fair-esm has no token for `J`: this file fails (bad_record), the other goes on.
    let bad = write(tmp.path(), "bad.faa", b">p1\nMKJJ\n");
    let out = tmp.path().join("out");
    embed("esm2", &esm, &[&good], &out).assert().code(0);
    embed("esm2", &esm, &[&good, &bad], &tmp.path().join("out2"))
        .assert()
        .code(2);
    embed("esm2", &esm, &[&bad], &tmp.path().join("out3"))
        .assert()
        .code(1);
    embed_on("cuda:99", "esm2", &esm, &[&good], &out)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cuda:99 does not exist"));
    // The DNABERT-S folder given as ESM-2: not the model asked for.
    embed("esm2", &dnabert, &[&good], &out).assert().code(3);
    embed("esm2", &tmp.path().join("missing.pt"), &[&good], &out)
        .assert()
        .code(4);
    embed("esm2", &esm, &[&tmp.path().join("missing.faa")], &out)
        .assert()
        .code(4);
    // A folder without any FASTA file: an unreadable input, as for the other commands.
    let empty = tmp.path().join("no-fasta");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("notes.txt"), "not reads").unwrap();
    embed("esm2", &esm, &[&empty], &out).assert().code(4);
    embed("esm2", &esm, &[&good], &unwritable(tmp.path()))
        .assert()
        .code(5);
}

// -------------------------------------------------------------------------- summarize

#[test]
fn summarize_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let sample = |name: &str, content: &[u8]| {
        let dir = tmp.path().join(name);
        fs::create_dir_all(&dir).unwrap();
        write(&dir, "read_summary.tsv", content);
        dir
    };
    let header = b"read_id\tchunks\tframes\tvirus_chunks\tbest_virus_score\tcall\n";
    let good = sample("a", &[&header[..], b"r1\t1\t2\t1\t0.9\tvirus\n"].concat());
    let bad = sample("b", b"not a read summary\n");
    let twin = sample("other/a", header);
    let summarize = |runs: &[&Path]| {
        let mut cmd = virnucpro();
        cmd.arg("summarize").args(runs.iter().map(|p| s(p)));
        cmd
    };
    summarize(&[&good]).assert().code(0);
    summarize(&[&good, &twin]).assert().code(1);
    summarize(&[&bad]).assert().code(3);
    summarize(&[&tmp.path().join("missing")]).assert().code(4);
    summarize(&[&good])
        .args(["--out", s(&unwritable(tmp.path()))])
        .assert()
        .code(5);
}

// ---------------------------------------------------------------- devices and models

#[test]
fn devices_exits_0() {
    virnucpro().arg("devices").assert().code(0);
    virnucpro().args(["devices", "--json"]).assert().code(0);
}

#[test]
fn models_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let models = |args: &[&str]| {
        let mut cmd = virnucpro();
        cmd.arg("models")
            .args(args)
            .args(["--cache-dir", s(&cache)]);
        cmd
    };
    models(&[]).assert().code(0);
    models(&["--no-such-flag"]).assert().code(1);
    models(&["--dir", s(&tmp.path().join("missing"))])
        .assert()
        .code(4);
    // Nothing is downloaded for a name the catalogue does not have.
    models(&["fetch", "no-such-model"]).assert().code(1);
    models(&["verify", "dnabert-s"]).assert().code(1);
    models(&["import", s(&tmp.path().join("missing"))])
        .assert()
        .code(4);
    let stray = tmp.path().join("stray");
    fs::create_dir(&stray).unwrap();
    write(&stray, "notes.txt", b"matches nothing in the catalogue");
    models(&["import", s(&stray)]).assert().code(1);
}

// ------------------------------------------------------------------- thread settings

/// Thread settings are named for what they size; `--threads`, the older name, is still
/// taken (and cannot be given with the new name of the same setting).
#[test]
fn thread_settings_and_their_older_name() {
    let tmp = tempfile::tempdir().unwrap();
    let good = write(tmp.path(), "good.fa", b">r1\nACGTACGTACGTACGT\n");
    let out = tmp.path().join("out");
    prepare(&good, &out)
        .args(["--prepare-threads", "1"])
        .assert()
        .code(0);
    prepare(&good, &out)
        .args(["--threads", "1"])
        .assert()
        .code(0);
    prepare(&good, &out)
        .args(["--threads", "1", "--prepare-threads", "1"])
        .assert()
        .code(1);
    predict(&fixture("e2e/a500/input.fa"), &tmp.path().join("run"))
        .args(["--merge-threads", "0", "--prepare-threads", "0"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("2 problem(s)"))
        .stderr(predicate::str::contains(
            "--prepare-threads: must be between 1 and",
        ))
        .stderr(predicate::str::contains(
            "--merge-threads: must be between 1 and",
        ));
}
