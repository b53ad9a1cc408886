//! `virnucpro classify` on the original pipeline's own merged features and classifier
//! (../shared/fixtures/e2e): the two reports against the files the original wrote.
use std::fs;

use assert_cmd::Command;
use predicates::prelude::*;
use virnucpro_testkit::{fixture, prediction_rows as rows};

fn virnucpro() -> Command {
    Command::new(env!("CARGO_BIN_EXE_virnucpro"))
}

fn check_e2e(name: &str) {
    let expected = fixture(&format!("e2e/{name}/expected/input_merged"));
    let out = tempfile::tempdir().unwrap();
    virnucpro()
        .arg("classify")
        .arg(expected.join("output_1_merged.pt"))
        .arg("--classifier")
        .arg(fixture(&format!("e2e/{name}/classifier.pth")))
        .arg("--out")
        .arg(out.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("classify finished"));

    let ours = rows(&out.path().join("prediction_results.txt"));
    let theirs = rows(&expected.join("prediction_results.txt"));
    assert_eq!(ours.len(), theirs.len());
    let mut max_diff = 0f32;
    for (a, b) in ours.iter().zip(&theirs) {
        assert_eq!(
            (&a.0, &a.1),
            (&b.0, &b.1),
            "same IDs, same order, same labels"
        );
        max_diff = max_diff.max((a.2 - b.2).abs()).max((a.3 - b.3).abs());
    }
    assert!(max_diff <= 1e-6, "{name}: max score difference {max_diff}");

    let (identical, total) = virnucpro_testkit::identical_lines(
        &out.path().join("prediction_results.txt"),
        &expected.join("prediction_results.txt"),
    );
    eprintln!("{name}: {identical} of {total} lines of prediction_results.txt byte-identical, max |Δscore| {max_diff:e}");
    assert_eq!(identical, total, "{name}: every line byte-identical");
    assert_eq!(
        fs::read(out.path().join("prediction_results_highestscore.csv")).unwrap(),
        fs::read(expected.join("prediction_results_highestscore.csv")).unwrap(),
        "{name}: consensus file byte-identical"
    );
}

#[test]
fn e2e_a500_reports_match_the_original() {
    check_e2e("a500");
}

#[test]
fn e2e_a300_reports_match_the_original() {
    check_e2e("a300");
}

#[test]
fn bad_inputs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // A DNABERT feature file is not merged features.
    let dnabert = fixture("e2e/a500/expected/input_nucleotide/output_1_DNABERT_S.pt");
    virnucpro()
        .arg("classify")
        .arg(&dnabert)
        .arg("--classifier")
        .arg(fixture("e2e/a500/classifier.pth"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("not a merged feature file"));
    // A model file that is not a classifier.
    virnucpro()
        .arg("classify")
        .arg(fixture("e2e/a500/expected/input_merged/output_1_merged.pt"))
        .arg("--classifier")
        .arg(fixture("models/dnabert_s_tiny_ordereddict.bin"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("dnabert_s_tiny_ordereddict.bin"));
    // The 3328-wide released-size classifier on 160-wide tiny features.
    virnucpro()
        .arg("classify")
        .arg(fixture("e2e/a500/expected/input_merged/output_1_merged.pt"))
        .arg("--classifier")
        .arg(fixture("classifier/mlp_3328x512_cpu.pth"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("width 160").and(predicate::str::contains("3328")));
    assert!(!out.join("prediction_results.txt").exists());
    // An output folder that cannot be created: exit 5, naming it.
    let blocker = dir.path().join("blocker");
    fs::write(&blocker, b"a file where the output folder should be").unwrap();
    virnucpro()
        .arg("classify")
        .arg(fixture("e2e/a500/expected/input_merged/output_1_merged.pt"))
        .arg("--classifier")
        .arg(fixture("e2e/a500/classifier.pth"))
        .arg("--out")
        .arg(&blocker)
        .assert()
        .code(5)
        .stderr(predicate::str::contains("blocker"));
    virnucpro()
        .args([
            "classify",
            "missing_merged/",
            "--classifier",
            "x.pth",
            "--out",
        ])
        .arg(&out)
        .assert()
        .code(4);
}

/// The original's per-model feature files through our merge (safetensors) and classify:
/// the reports must still be the original's, byte for byte.
#[test]
fn legacy_features_through_merge_and_classify() {
    for name in ["a500", "a300"] {
        let expected = fixture(&format!("e2e/{name}/expected"));
        let dir = tempfile::tempdir().unwrap();
        let merged = dir.path().join("merged");
        virnucpro()
            .arg("merge")
            .arg("--nucleotide")
            .arg(expected.join("input_nucleotide"))
            .arg("--protein")
            .arg(expected.join("input_protein"))
            .arg("--out")
            .arg(&merged)
            .assert()
            .success();
        assert!(merged.join("output_1.merged.safetensors").exists());
        let reports = dir.path().join("reports");
        virnucpro()
            .arg("classify")
            .arg(&merged)
            .arg("--classifier")
            .arg(fixture(&format!("e2e/{name}/classifier.pth")))
            .arg("--out")
            .arg(&reports)
            .assert()
            .success();
        for file in [
            "prediction_results.txt",
            "prediction_results_highestscore.csv",
        ] {
            assert_eq!(
                fs::read(reports.join(file)).unwrap(),
                fs::read(expected.join("input_merged").join(file)).unwrap(),
                "{name}: {file}"
            );
        }
    }
}

/// With `--prepared`, classify also writes `read_summary.tsv`: every read of the prepare,
/// in input order, its call following the chunk verdicts of the highest-score report.
#[test]
fn prepared_folder_gives_the_read_summary() {
    let dir = tempfile::tempdir().unwrap();
    let prepared = dir.path().join("prepared");
    virnucpro()
        .arg("prepare")
        .arg(fixture("e2e/a500/input.fa"))
        .args(["--length", "500", "--out"])
        .arg(&prepared)
        .assert()
        .success();
    let out = dir.path().join("out");
    let classify = |prepared: &std::path::Path| {
        let mut cmd = virnucpro();
        cmd.arg("classify")
            .arg(fixture("e2e/a500/expected/input_merged/output_1_merged.pt"))
            .arg("--classifier")
            .arg(fixture("e2e/a500/classifier.pth"))
            .arg("--prepared")
            .arg(prepared)
            .arg("--out")
            .arg(&out);
        cmd
    };
    // A pair summary left from paired reads goes: these reads are single-end.
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("pair_summary.tsv"), "stale").unwrap();
    classify(&prepared)
        .assert()
        .success()
        .stdout(predicate::str::contains("read_summary.tsv"))
        .stdout(predicate::str::contains("pair_summary").not());
    assert!(!out.join("pair_summary.tsv").exists());
    let summary = fs::read_to_string(out.join("read_summary.tsv")).unwrap();
    let reads: Vec<&str> = summary.lines().skip(1).collect();
    let input_ids: Vec<String> = virnucpro_testkit::fasta_records(&fixture("e2e/a500/input.fa"))
        .into_iter()
        .map(|(header, _)| header.split_whitespace().next().unwrap().to_string())
        .collect();
    let listed: Vec<&str> = reads
        .iter()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(listed, input_ids, "every read, in input order");
    let verdicts = fs::read_to_string(out.join("prediction_results_highestscore.csv")).unwrap();
    for line in &reads {
        let fields: Vec<&str> = line.split('\t').collect();
        let virus_chunk = verdicts.lines().any(|v| {
            v.strip_suffix("\tTrue")
                .and_then(|id| id.rsplit_once("_chunk_"))
                .is_some_and(|(read, _)| read == fields[0])
        });
        let call = match (virus_chunk, fields[2]) {
            (true, _) => "virus",
            (false, "0") => "none",
            (false, _) => "others",
        };
        assert_eq!(fields[5], call, "{line}");
    }
    // A folder without a finished prepare: exit 4, naming its prepare.json.
    classify(&dir.path().join("nothing"))
        .assert()
        .code(4)
        .stderr(predicate::str::contains("prepare.json"));
}
