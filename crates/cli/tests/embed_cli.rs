//! `virnucpro embed` with the tiny fixture models on the original pipeline's own shards
//! (../shared/fixtures/e2e): the feature files against the `.pt` files the original wrote
//! with the same models, plus the errors a user can run into.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use virnucpro_core::features::FeatureFile;
use virnucpro_core::legacy::read_legacy_features;
use virnucpro_testkit::fixture;

fn virnucpro() -> Command {
    Command::new(env!("CARGO_BIN_EXE_virnucpro"))
}

fn dnabert() -> PathBuf {
    fixture("models/dnabert_s_tiny")
}

fn esm() -> PathBuf {
    fixture("models/esm2_tiny_fairesm/esm2_t2_tiny_fixture.pt")
}

/// Largest difference between our feature file and the original's rows, matched by ID.
/// (The original's ESM step wrote rows in its length-sorted batch order; ours keep the
/// input order. Merge pairs rows by ID, so only the set and the values matter.)
fn max_diff(ours: &Path, theirs: &Path) -> f32 {
    let ours = FeatureFile::open(ours).unwrap();
    let theirs = read_legacy_features(theirs).unwrap();
    let input_order: Vec<&str> = ours.ids().iter().map(String::as_str).collect();
    let mut ours_sorted = input_order.clone();
    ours_sorted.sort_unstable();
    let mut theirs_sorted: Vec<&str> = theirs.ids.iter().map(String::as_str).collect();
    theirs_sorted.sort_unstable();
    assert_eq!(ours_sorted, theirs_sorted, "the same rows");
    assert_eq!(ours.dim(), theirs.dim);
    let position: HashMap<&str, usize> = input_order
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, i))
        .collect();
    let mut row = vec![0f32; ours.dim()];
    let mut worst = 0f32;
    for (j, id) in theirs.ids.iter().enumerate() {
        ours.row_into(position[id.as_str()], &mut row);
        for (a, b) in row.iter().zip(theirs.row(j).unwrap()) {
            worst = worst.max((a - b).abs());
        }
    }
    worst
}

/// Our rows keep the input FASTA's order.
fn assert_input_order(features: &Path, fasta: &Path) {
    let ids: Vec<String> = virnucpro_testkit::fasta_records(fasta)
        .into_iter()
        .map(|(header, _)| header.split_whitespace().next().unwrap_or("").to_owned())
        .collect();
    assert_eq!(FeatureFile::open(features).unwrap().ids(), ids.as_slice());
}

fn embed(model: &str, weights: &Path, input: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut cmd = virnucpro();
    cmd.args(["embed", "--model", model, "--devices", "cpu", "--weights"])
        .arg(weights)
        .arg("--in")
        .arg(input)
        .arg("--out")
        .arg(out)
        .args(extra);
    cmd
}

#[test]
fn embeddings_match_the_original_pipeline() {
    for case in ["a500", "a300"] {
        let expected = fixture(&format!("e2e/{case}/expected"));
        let out = tempfile::tempdir().unwrap();
        embed(
            "dnabert-s",
            &dnabert(),
            &expected.join("input_nucleotide/output_1.fa"),
            out.path(),
            &["--batch-tokens", "2048"],
        )
        .assert()
        .success()
        .stdout(predicate::str::contains("1 files: 1 written"));
        embed(
            "esm2",
            &esm(),
            &expected.join("input_protein/output_1.fa"),
            out.path(),
            &[],
        )
        .assert()
        .success();
        let dna = max_diff(
            &out.path().join("output_1.nucleotide.safetensors"),
            &expected.join("input_nucleotide/output_1_DNABERT_S.pt"),
        );
        let protein = max_diff(
            &out.path().join("output_1.protein.safetensors"),
            &expected.join("input_protein/output_1_ESM.pt"),
        );
        assert_input_order(
            &out.path().join("output_1.protein.safetensors"),
            &expected.join("input_protein/output_1.fa"),
        );
        assert_input_order(
            &out.path().join("output_1.nucleotide.safetensors"),
            &expected.join("input_nucleotide/output_1.fa"),
        );
        eprintln!("{case}: DNABERT-S max abs diff {dna:e}, ESM-2 {protein:e}");
        // The pooled-mean tolerance of the model parity tests. The original's own code, run
        // on the machine that runs this, gives rows bit-identical to ours (our batching
        // included); what is left is the f32 rounding of the BLAS of the machine that made
        // the fixtures (docs/models.md, "Parity").
        assert!(dna <= 1e-6, "{case} DNABERT-S: {dna}");
        assert!(protein <= 1e-6, "{case} ESM-2: {protein}");

        // A second run finds both outputs up to date.
        embed(
            "dnabert-s",
            &dnabert(),
            &expected.join("input_nucleotide/output_1.fa"),
            out.path(),
            &[],
        )
        .assert()
        .success()
        .stdout(predicate::str::contains("1 up to date"));
    }
}

#[test]
fn json_output_reports_every_file() {
    let expected = fixture("e2e/a500/expected");
    let out = tempfile::tempdir().unwrap();
    let output = embed(
        "esm2",
        &fixture("models/esm2_tiny_hf"),
        &expected.join("input_protein"),
        out.path(),
        &["--json", "--threads", "1"],
    )
    .output()
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["exit_code"], 0);
    assert_eq!(json["written"], 1);
    assert_eq!(json["model"], "esm2 esm2_tiny_hf fp32");
    assert_eq!(json["report"]["files"][0]["status"]["status"], "written");
    assert_eq!(json["report"]["files"][0]["sequences"], 329);
}

#[test]
fn a_bad_record_fails_its_file_and_the_others_are_written() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("output_1.fa"), ">p1\nMKTAYIAKQR\n").unwrap();
    std::fs::write(tmp.path().join("output_2.fa"), ">p1\nMKT\n>p2\nMK*V\n").unwrap();
    let out = tmp.path().join("out");
    embed("esm2", &esm(), tmp.path(), &out, &[])
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "1 written, 0 up to date, 1 failed",
        ))
        .stdout(predicate::str::contains("bad_record (1):"))
        .stdout(predicate::str::contains("output_2.fa: record 2 ('p2'): "))
        .stdout(predicate::str::contains("'*'"));
    assert!(out.join("output_1.protein.safetensors").exists());
    assert!(!out.join("output_2.protein.safetensors").exists());
}

#[test]
fn unusable_models_and_settings_are_clear_errors() {
    let input = fixture("e2e/a500/expected/input_protein/output_1.fa");
    let out = tempfile::tempdir().unwrap();
    // Missing weights: exit 4, naming the path.
    embed(
        "esm2",
        Path::new("/no/such/esm2.pt"),
        &input,
        out.path(),
        &[],
    )
    .assert()
    .code(4)
    .stderr(predicate::str::contains("/no/such/esm2.pt"));
    // DNABERT-S weights given as ESM-2: exit 3, naming the file and the problem.
    embed("esm2", &dnabert(), &input, out.path(), &[])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("dnabert_s_tiny"));
    // An ESM-2 folder given as DNABERT-S: its config.json names it, before the missing
    // tokenizer.json would.
    embed(
        "dnabert-s",
        &fixture("models/esm2_tiny_hf"),
        &input,
        out.path(),
        &[],
    )
    .assert()
    .code(3)
    .stderr(predicate::str::contains(
        "not a DNABERT-S (MosaicBERT) checkpoint: model_type is \"esm\"",
    ));
    // A DNABERT-S folder without tokenizer.json.
    let models = tempfile::tempdir().unwrap();
    let no_tokenizer = models.path().join("dnabert_no_tokenizer");
    std::fs::create_dir(&no_tokenizer).unwrap();
    for name in ["config.json", "model.safetensors"] {
        std::fs::copy(dnabert().join(name), no_tokenizer.join(name)).unwrap();
    }
    embed("dnabert-s", &no_tokenizer, &input, out.path(), &[])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("tokenizer.json"));
    // Half precision on the CPU, and a CUDA device that does not exist here.
    embed("esm2", &esm(), &input, out.path(), &["--precision", "fp16"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "precision fp16 needs a CUDA device",
        ));
    virnucpro()
        .args(["embed", "--model", "esm2", "--devices", "7", "--weights"])
        .arg(esm())
        .arg("--in")
        .arg(&input)
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cuda:7 does not exist"));
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

/// The issue-17 file: `model.safetensors` written by Python's `safetensors` with a header
/// length whose low byte is 0x80 (`80 13 00 00 00 00 00 00 7b`). It was refused as a
/// pre-1.6 torch pickle; it embeds exactly as the fixture it was written from.
#[test]
fn a_safetensors_file_whose_header_length_ends_in_0x80_embeds() {
    let expected = fixture("e2e/a500/expected");
    let src = fixture("models/esm2_tiny_hf");
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join("esm2_python_0x80");
    std::fs::create_dir(&folder).unwrap();
    for name in ["config.json", "vocab.txt", "tokenizer_config.json"] {
        std::fs::copy(src.join(name), folder.join(name)).unwrap();
    }
    std::fs::copy(
        virnucpro_testkit::format_fixture("esm2_tiny_hdr80.safetensors"),
        folder.join("model.safetensors"),
    )
    .unwrap();
    let input = expected.join("input_protein");
    for (weights, out) in [(&src, "original"), (&folder, "python_0x80")] {
        embed(
            "esm2",
            weights,
            &input,
            &tmp.path().join(out),
            &["--threads", "1"],
        )
        .assert()
        .success();
    }
    let rows = |out: &str| {
        let dir = tmp.path().join(out);
        let file = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap();
        FeatureFile::open(&file.path()).unwrap().to_vec()
    };
    assert!(rows("python_0x80") == rows("original"));
}
