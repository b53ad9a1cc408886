//! `virnucpro compare`: two runs of the e2e fixture (tiny models, CPU) batched differently,
//! the original tool's folder, a changed copy with `--min-agreement`, and folders that are not
//! runs.
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use virnucpro_testkit::fixture;

fn virnucpro() -> Command {
    Command::new(env!("CARGO_BIN_EXE_virnucpro"))
}

/// `predict` of the a500 case on the CPU in batches of `batch_tokens`, keeping the
/// features, into `out`.
fn predict(out: &Path, batch_tokens: &str) {
    virnucpro()
        .arg("-q")
        .arg("predict")
        .arg(fixture("e2e/a500/input.fa"))
        .args(["--length", "500", "--devices", "cpu", "--keep-features"])
        .args(["--batch-tokens", batch_tokens])
        .arg("--dnabert")
        .arg(fixture("models/dnabert_s_tiny"))
        .arg("--esm")
        .arg(fixture("models/esm2_tiny_fairesm/esm2_t2_tiny_fixture.pt"))
        .arg("--classifier")
        .arg(fixture("e2e/a500/classifier.pth"))
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

fn compare_json(a: &Path, b: &Path) -> serde_json::Value {
    let out = virnucpro()
        .arg("compare")
        .arg(a)
        .arg(b)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

fn report<'a>(cmp: &'a serde_json::Value, file: &str) -> &'a serde_json::Value {
    let reports = cmp["reports"].as_array().unwrap();
    reports
        .iter()
        .find(|r| r["file"] == file)
        .unwrap_or_else(|| panic!("{file} not compared: {cmp}"))
}

struct Runs {
    _tmp: tempfile::TempDir,
    big: PathBuf,
    small: PathBuf,
}

fn runs() -> Runs {
    let tmp = tempfile::tempdir().unwrap();
    let (big, small) = (tmp.path().join("big"), tmp.path().join("small"));
    predict(&big, "8192");
    predict(&small, "600");
    Runs {
        _tmp: tmp,
        big,
        small,
    }
}

#[test]
fn runs_batched_differently_and_the_original_tool() {
    let runs = runs();
    let cmp = compare_json(&runs.big, &runs.small);
    assert_eq!(
        (
            cmp["a"]["precision"].as_str(),
            cmp["b"]["precision"].as_str()
        ),
        (Some("fp32"), Some("fp32"))
    );
    assert_eq!(cmp["a"]["devices"], serde_json::json!(["cpu"]));
    // Every report of a run, and every feature kind (both kept them).
    for file in [
        "prediction_results.txt",
        "prediction_results_highestscore.csv",
        "read_summary.tsv",
    ] {
        let r = report(&cmp, file);
        assert_eq!(r["rows_a"], r["matched"], "{r}");
        assert_eq!(r["rows_b"], r["matched"], "{r}");
        assert_eq!(r["agreement_percent"], 100.0, "{r}");
    }
    let features = cmp["features"].as_array().unwrap();
    assert_eq!(features.len(), 3, "{cmp}");
    for f in features {
        let stats = &f["stats"];
        // Other batches pad differently: fp32 sums may round apart, by no more than that.
        let (diff, cosine) = (
            stats["max_abs_diff"].as_f64().unwrap(),
            stats["min_cosine"].as_f64().unwrap(),
        );
        assert!(diff < 1e-4, "{f}");
        assert!(cosine > 0.99999, "{f}");
        assert_eq!(
            f["rows"],
            report(&cmp, "prediction_results.txt")["rows_a"],
            "{f}"
        );
    }
    assert_eq!(cmp["features_only_in_one"], serde_json::json!([]));

    // The human form names both runs and each report.
    virnucpro()
        .arg("compare")
        .arg(&runs.big)
        .arg(&runs.small)
        .assert()
        .success()
        .stdout(predicate::str::contains("(run, ok, fp32 on cpu)"))
        .stdout(predicate::str::contains(
            "prediction_results.txt: 329 rows in A, 329 in B, 329 matched",
        ))
        .stdout(predicate::str::contains(
            "protein features: 1 shard, 329 rows of 64 values matched",
        ))
        .stdout(predicate::str::contains("lowest label agreement: 100"));

    // Against the original tool's folder: the same frames and labels as the original
    // (its features are its `.pt` files beside the reports); read_summary.tsv is ours only.
    let original = fixture("e2e/a500/expected/input_merged");
    let cmp = compare_json(&runs.big, &original);
    assert_eq!(cmp["b"]["kind"], "reports");
    let frames = report(&cmp, "prediction_results.txt");
    assert_eq!(frames["matched"], 329);
    assert_eq!(frames["agreement_percent"], 100.0, "{frames}");
    assert_eq!(cmp["reports_only_in_one"][0]["file"], "read_summary.tsv");
    assert_eq!(cmp["reports_only_in_one"][0]["only_in"], "a");
    let merged = &cmp["features"].as_array().unwrap()[2];
    assert_eq!(merged["kind"], "merged");
    assert!(
        merged["stats"]["max_abs_diff"].as_f64().unwrap() < 1e-4,
        "{merged}"
    );
    virnucpro()
        .arg("compare")
        .arg(&runs.big)
        .arg(&original)
        .args(["--min-agreement", "100"])
        .assert()
        .success();
}

/// A copy of `run`'s reports in which the first virus frame is called `others`.
fn with_a_flipped_label(run: &Path, to: &Path) -> String {
    fs::create_dir_all(to).unwrap();
    for file in [
        "prediction_results.txt",
        "prediction_results_highestscore.csv",
    ] {
        fs::copy(run.join(file), to.join(file)).unwrap();
    }
    let path = to.join("prediction_results.txt");
    let text = fs::read_to_string(&path).unwrap();
    let line = text.lines().find(|l| l.contains("\tvirus\t")).unwrap();
    let id = line.split('\t').next().unwrap().to_owned();
    fs::write(
        &path,
        text.replacen(line, &format!("{id}\tothers\t0.75\t0.25"), 1),
    )
    .unwrap();
    id
}

#[test]
fn min_agreement_fails_the_command_and_names_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let original = fixture("e2e/a500/expected/input_merged");
    let changed = tmp.path().join("changed_merged");
    let id = with_a_flipped_label(&original, &changed);
    virnucpro()
        .arg("compare")
        .arg(&original)
        .arg(&changed)
        .args(["--min-agreement", "99.9"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!("  {id}: virus (")))
        .stdout(predicate::str::contains("others (0.25) in B"))
        .stderr(predicate::str::contains(
            "prediction_results.txt: labels agree on 99.696 % of the rows, below --min-agreement 99.9 %",
        ));
    // 328 of 329 is above 99.6 %.
    virnucpro()
        .arg("compare")
        .arg(&original)
        .arg(&changed)
        .args(["--min-agreement", "99.6%"])
        .assert()
        .success();
    virnucpro()
        .arg("compare")
        .arg(&original)
        .arg(&changed)
        .args(["--min-agreement", "101"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not a percentage from 0 to 100"));
}

#[test]
fn folders_that_are_not_runs_get_the_input_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let original = fixture("e2e/a500/expected/input_merged");
    let missing = tmp.path().join("nowhere");
    virnucpro()
        .arg("compare")
        .arg(&original)
        .arg(&missing)
        .assert()
        .code(4)
        .stderr(predicate::str::contains(format!(
            "{}: no such folder",
            missing.display()
        )));
    virnucpro()
        .arg("compare")
        .arg(tmp.path())
        .arg(&original)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("not a run folder"));
}
