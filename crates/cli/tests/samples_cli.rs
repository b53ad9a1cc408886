//! `virnucpro predict --sample NAME=PATH[,PATH]`: one run folder per sample under --out
//! and the table across samples (tiny fixture models, ../shared/fixtures/e2e/a500).
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use virnucpro_testkit::fixture;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_virnucpro")
}

fn path(p: PathBuf) -> String {
    p.to_string_lossy().into_owned()
}

/// `predict` with the tiny models on the CPU into `out`, plus `args`.
fn predict(out: &Path, args: &[String]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(["predict", "--length", "500", "--devices", "cpu"])
        .args(["--dnabert", &path(fixture("models/dnabert_s_tiny"))])
        .args([
            "--esm",
            &path(fixture("models/esm2_tiny_fairesm/esm2_t2_tiny_fixture.pt")),
        ])
        .args(["--classifier", &path(fixture("e2e/a500/classifier.pth"))])
        .args(["--out", &path(out.to_path_buf())])
        .args(args);
    cmd
}

#[test]
fn each_sample_gets_its_folder_and_the_run_a_table_across_them() {
    let out = tempfile::tempdir().unwrap();
    let reads = path(fixture("e2e/a500/input.fa"));
    let args = [
        "--sample".to_string(),
        format!("gut={reads}"),
        "--sample".to_string(),
        format!("soil={reads}"),
    ];
    let output = predict(out.path(), &args).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    for sample in ["gut", "soil"] {
        assert!(
            stdout.contains(&format!("sample {sample}: finished")),
            "{stdout}"
        );
        let folder = out.path().join(sample);
        for file in [
            "prediction_results.txt",
            "read_summary.tsv",
            "run-manifest.json",
        ] {
            assert!(folder.join(file).is_file(), "{sample}/{file}");
        }
    }
    assert!(stdout.contains("samples in one table"), "{stdout}");
    let summary = std::fs::read_to_string(out.path().join("summary.tsv")).unwrap();
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(lines.len(), 3, "{summary}");
    // The same reads: the same totals.
    assert_eq!(lines[1].strip_prefix("gut"), lines[2].strip_prefix("soil"));
}

#[test]
fn samples_and_input_files_do_not_mix_and_bad_samples_are_refused() {
    let out = tempfile::tempdir().unwrap();
    let reads = path(fixture("e2e/a500/input.fa"));
    let mixed = [reads.clone(), "--sample".into(), format!("a={reads}")];
    // Bad arguments exit 1 (docs/cli.md, exit codes).
    predict(out.path(), &mixed).assert().code(1);
    let bad_name = ["--sample".to_string(), format!("a b={reads}")];
    let output = predict(out.path(), &bad_name).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "bad arguments");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("sample name \"a b\""), "{stderr}");
    let twice = [
        "--sample".to_string(),
        format!("a={reads}"),
        "--sample".to_string(),
        format!("a={reads}"),
    ];
    let output = predict(out.path(), &twice).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("sample \"a\" is given twice"), "{stderr}");
    assert!(!output.status.success());
    assert!(!out.path().join("a").exists(), "nothing ran");
}
