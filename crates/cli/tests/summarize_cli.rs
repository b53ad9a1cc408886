//! `virnucpro summarize`: one line per sample from the samples' read summaries.
use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

const HEADER: &str = "read_id\tchunks\tframes\tvirus_chunks\tbest_virus_score\tcall\n";

fn virnucpro() -> Command {
    Command::new(env!("CARGO_BIN_EXE_virnucpro"))
}

fn sample(root: &Path, name: &str, body: &str) {
    fs::create_dir_all(root.join(name)).unwrap();
    fs::write(
        root.join(name).join("read_summary.tsv"),
        format!("{HEADER}{body}"),
    )
    .unwrap();
}

#[test]
fn one_line_per_sample_to_stdout_or_a_file() {
    let dir = tempfile::tempdir().unwrap();
    sample(
        dir.path(),
        "gut",
        "r1\t2\t4\t1\t0.95\tvirus\nr2\t1\t0\t0\t\tnone\nr3\t1\t1\t0\t0.2\tothers\n",
    );
    sample(dir.path(), "soil", "s1\t3\t6\t2\t0.99\tvirus\n");
    let expected =
        "sample\treads\tvirus_reads\tothers_reads\tunscored_reads\tchunks\tvirus_chunks\tframes\n\
                    gut\t3\t1\t1\t1\t4\t1\t5\nsoil\t1\t1\t0\t0\t3\t2\t6\n";
    // A folder, or the read summary file itself (named after its folder).
    virnucpro()
        .arg("summarize")
        .arg(dir.path().join("gut"))
        .arg(dir.path().join("soil/read_summary.tsv"))
        .assert()
        .success()
        .stdout(expected);
    let out = dir.path().join("summary.tsv");
    virnucpro()
        .arg("summarize")
        .arg(dir.path().join("gut"))
        .arg(dir.path().join("soil"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "2 samples, 4 reads, 2 with a virus call",
        ));
    assert_eq!(fs::read_to_string(&out).unwrap(), expected);
    virnucpro()
        .current_dir(dir.path().join("gut"))
        .args(["summarize", ".", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"sample\": \"gut\""));
}

#[test]
fn bad_inputs_are_named_with_their_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    // Missing: 4.
    virnucpro()
        .arg("summarize")
        .arg(dir.path().join("absent"))
        .assert()
        .code(4)
        .stderr(predicate::str::contains("absent"));
    // Not a read summary: 3, with the file and line.
    sample(dir.path(), "odd", "r1\t2\t4\t1\t0.95\tmaybe\n");
    virnucpro()
        .arg("summarize")
        .arg(dir.path().join("odd"))
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("read_summary.tsv:2").and(predicate::str::contains("maybe")),
        );
    // Two samples of one name: 1.
    sample(dir.path(), "a/run", "r1\t1\t1\t0\t0.1\tothers\n");
    sample(dir.path(), "b/run", "r1\t1\t1\t0\t0.1\tothers\n");
    virnucpro()
        .arg("summarize")
        .arg(dir.path().join("a/run"))
        .arg(dir.path().join("b/run"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unique"));
}
