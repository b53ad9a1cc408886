//! `virnucpro prepare` as a user runs it: exit codes, messages that name the file and the
//! record, and no half-written output after a failure.
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use virnucpro_testkit::fixture;

fn virnucpro() -> Command {
    Command::new(env!("CARGO_BIN_EXE_virnucpro"))
}

fn prepare(inputs: &[&Path], out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    let mut cmd = virnucpro();
    cmd.arg("prepare")
        .args(inputs)
        .args(["--length", "500", "--out"])
        .arg(out)
        .args(extra);
    cmd.assert()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

/// Nothing but what was there before: no outputs, no staging folder.
fn assert_no_outputs(out: &Path) {
    if out.exists() {
        let left: Vec<_> = fs::read_dir(out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(
            left.is_empty(),
            "left behind in {}: {left:?}",
            out.display()
        );
    }
}

#[test]
fn help_and_version() {
    virnucpro()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("prepare"));
    virnucpro()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains("libtorch 2.13."));
    virnucpro()
        .args(["prepare", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--shard-size"));
}

#[test]
fn bad_arguments_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    virnucpro()
        .args(["prepare", "x.fa", "--length", "400", "--out"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("possible values: 300, 500"));
    virnucpro().arg("prepare").assert().code(1);
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "empty.fa", b"");
    let out = dir.path().join("out");
    prepare(&[&input], &out, &[])
        .code(3)
        .stderr(predicate::str::contains("empty.fa: the file is empty"));
    assert_no_outputs(&out);
}

#[test]
fn text_that_is_not_fasta() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "notes.fa",
        b"Dear reviewer,\nplease find attached\n",
    );
    let out = dir.path().join("out");
    prepare(&[&input], &out, &[])
        .code(3)
        .stderr(predicate::str::contains("notes.fa: not a FASTA file"));
    assert_no_outputs(&out);
}

#[test]
fn binary_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let input = write(dir.path(), "garbage.fa", &garbage);
    let out = dir.path().join("out");
    prepare(&[&input], &out, &[])
        .code(3)
        .stderr(predicate::str::contains("garbage.fa"));
    assert_no_outputs(&out);

    // Binary behind a plausible first byte: caught as a bad record, with its number.
    let mut tricky = b">read1\nACGT\n>".to_vec();
    tricky.extend_from_slice(&[0xff, 0xfe, 0x00, 0x12, b'\n', 0x00, 0x01, b'\n']);
    let input = write(dir.path(), "tricky.fa", &tricky);
    prepare(&[&input], &out, &[])
        .code(3)
        .stderr(predicate::str::contains("tricky.fa: record 2"));
    assert_no_outputs(&out);
}

#[test]
fn truncated_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let plain = fs::read(fixture("e2e/a500/input.fa")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    let gz = gz.finish().unwrap();
    let input = write(dir.path(), "reads.fa.gz", &gz[..gz.len() / 2]);
    let out = dir.path().join("out");
    prepare(&[&input], &out, &[])
        .code(3)
        .stderr(predicate::str::contains(
            "reads.fa.gz: the data ends abruptly after record",
        ));
    assert_no_outputs(&out);
}

#[test]
fn header_without_sequence_is_skipped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "reads.fa",
        b">r1\nATGGCCATTGTAATG\n>lonely header\n>r3\nATGAAACCC\n",
    );
    let out = dir.path().join("out");
    prepare(&[&input], &out, &[])
        .code(0)
        .stderr(predicate::str::contains(
            "reads.fa: record 2 ('lonely', line 3): header without a sequence",
        ))
        .stdout(predicate::str::contains("2 reads"))
        .stdout(predicate::str::contains("header without a sequence: 1"));
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("prepare.json")).unwrap()).unwrap();
    assert_eq!(manifest["skipped"][0]["location"]["id"], "lonely");
    assert_eq!(manifest["skipped"][0]["problem"]["kind"], "empty_sequence");
}

#[test]
fn duplicate_ids() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "dups.fa",
        b">a\nACGTACGT\n>b\nACGT\n>a second\nTTTT\n",
    );
    let out = dir.path().join("out");
    prepare(&[&input], &out, &[])
        .code(3)
        .stderr(predicate::str::contains(
            "dups.fa: record 3 ('a', line 5): the ID is used by an earlier record",
        ));
    assert_no_outputs(&out);
    // Duplicates across files are duplicates too; --skip-bad-records keeps going (exit 2).
    let other = write(dir.path(), "other.fa", b">b\nACGT\n>c\nACGT\n");
    let ok = write(dir.path(), "ok.fa", b">a\nACGT\n>b\nACGT\n");
    prepare(&[&ok, &other], &out, &["--skip-bad-records"])
        .code(2)
        .stdout(predicate::str::contains("other.fa: record 1 ('b', line 1)"));
    assert!(out.join("prepare.json").exists());
}

#[test]
fn characters_outside_acgt() {
    let dir = tempfile::tempdir().unwrap();
    // IUPAC codes and N are accepted (the original translates around them)...
    let iupac = write(dir.path(), "iupac.fa", b">r1\nATGNNNRYKMSWBDHVacgt-GCC\n");
    let out = dir.path().join("out");
    prepare(&[&iupac], &out, &[]).code(0);
    // ...anything else is named with its position (M, K and V are IUPAC codes; L is not).
    let bad = write(dir.path(), "bad.fa", b">r1\nACGT\n>r2 protein?\nMKVLE\n");
    let out2 = dir.path().join("out2");
    prepare(&[&bad], &out2, &[])
        .code(3)
        .stderr(predicate::str::contains(
            "bad.fa: record 2 ('r2', line 3): character 'L' at position 4",
        ));
    assert_no_outputs(&out2);
}

#[test]
fn a_50_mbp_record_is_processed_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let len = 50_000_000usize;
    let mut data = Vec::with_capacity(len + len / 60 + 32);
    data.extend_from_slice(b">chr_like long contig\n");
    let pattern = b"ACGTTGCAAGGCTTAACCGGTTAAC";
    for i in 0..len {
        data.push(pattern[(i * 7 + i / 13) % pattern.len()]);
        if i % 60 == 59 {
            data.push(b'\n');
        }
    }
    let input = write(dir.path(), "contig.fa", &data);
    drop(data);
    let out = dir.path().join("out");
    prepare(&[&input], &out, &["--json"])
        .code(0)
        .stderr(predicate::str::contains("contig.fa: record 1 ('chr_like', line 1): 50000000 bp is far longer than a sequencing read"))
        .stdout(predicate::str::contains("\"chunks\": 100000"));
    // The limit is configurable, and exceeding it is a clear error.
    prepare(
        &[&input],
        &dir.path().join("out2"),
        &["--max-record-length", "1000000"],
    )
    .code(3)
    .stderr(predicate::str::contains(
        "50000000 bp is longer than the maximum of 1000000 bp",
    ));
}

#[test]
fn missing_path_and_missing_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    prepare(&[&dir.path().join("nope.fa")], &out, &[])
        .code(4)
        .stderr(predicate::str::contains("nope.fa: no such file or folder"));
    prepare(&[&dir.path().join("no_folder/")], &out, &[])
        .code(4)
        .stderr(predicate::str::contains("no_folder"));
    let empty = dir.path().join("empty_folder");
    fs::create_dir(&empty).unwrap();
    prepare(&[&empty], &out, &[])
        .code(4)
        .stderr(predicate::str::contains("holds no FASTA files"));
    assert_no_outputs(&out);
}

#[test]
fn output_that_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = write(
        dir.path(),
        "out",
        b"a file where the output folder should be",
    );
    prepare(&[&fixture("reference/test_with_orfs.fa")], &blocker, &[])
        .code(5)
        .stderr(predicate::str::contains("cannot write"));
}

#[test]
fn a_failed_rerun_keeps_the_previous_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    prepare(&[&fixture("e2e/a500/input.fa")], &out, &[]).code(0);
    let before = fs::read(out.join("nucleotide/output_1.fa")).unwrap();
    let bad = write(dir.path(), "bad.fa", b">x\nACGT\n>x\nACGT\n");
    prepare(&[&bad], &out, &[]).code(3);
    assert_eq!(
        fs::read(out.join("nucleotide/output_1.fa")).unwrap(),
        before
    );
    assert!(out.join("prepare.json").exists());
    let names: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with(".prepare-staging")),
        "{names:?}"
    );
}

#[test]
fn folder_input_and_output_inside_it() {
    let dir = tempfile::tempdir().unwrap();
    let reads = dir.path().join("reads");
    fs::create_dir(&reads).unwrap();
    fs::copy(fixture("e2e/a500/input.fa"), reads.join("a.fa")).unwrap();
    let out = reads.join("out");
    prepare(&[&reads], &out, &[])
        .code(0)
        .stdout(predicate::str::contains("1 file, 120 reads"));
    // Re-running must not read its own output files back in.
    prepare(&[&reads], &out, &[])
        .code(0)
        .stdout(predicate::str::contains("1 file, 120 reads"));
    assert_eq!(
        fs::read(out.join("nucleotide/output_1.fa")).unwrap(),
        fs::read(fixture("e2e/a500/expected/input_nucleotide/output_1.fa")).unwrap()
    );
}

/// Every command's `--threads` follows one rule (`core::threads`): a whole number from 1 to
/// the cores. 9999 on a small machine was obeyed; "1.5" and "" are refused too.
#[test]
fn threads_must_be_a_whole_number_up_to_the_cores() {
    let cores = std::thread::available_parallelism().unwrap().get();
    let tmp = tempfile::tempdir().unwrap();
    let input = write(tmp.path(), "r.fa", b">r1\nACGTACGTACGT\n");
    let input = input.to_str().unwrap();
    let out = tmp.path().join("out");
    let out = out.to_str().unwrap();
    let dir = tmp.path().to_str().unwrap();
    let commands: [&[&str]; 4] = [
        &["prepare", input, "--length", "500", "--out", out],
        &["merge", "--nucleotide", dir, "--protein", dir, "--out", out],
        &[
            "predict",
            input,
            "--length",
            "500",
            "--dnabert",
            dir,
            "--esm",
            dir,
            "--classifier",
            input,
            "--out",
            out,
        ],
        &[
            "embed",
            "--model",
            "esm2",
            "--weights",
            dir,
            "--in",
            input,
            "--out",
            out,
        ],
    ];
    let too_many = (cores + 1).to_string();
    let cases = [
        ("9999", "must be between 1 and".to_string()),
        (
            too_many.as_str(),
            format!("the CPU cores of this machine (got {too_many})"),
        ),
        ("0", "must be between 1 and".to_string()),
        ("1.5", "must be a whole number from 1 to".to_string()),
        ("", "must be a whole number from 1 to".to_string()),
    ];
    for (given, says) in &cases {
        for command in commands {
            virnucpro()
                .args(command)
                .args(["--threads", given])
                .assert()
                .code(1)
                .stderr(predicate::str::contains("--threads"))
                .stderr(predicate::str::contains(says.as_str()));
        }
    }
    assert!(!tmp.path().join("out").exists());
    let ok = tmp.path().join("ok");
    prepare(&[Path::new(input)], &ok, &["--threads", &cores.to_string()]).code(0);
}
