//! `virnucpro models` on fake caches in temporary folders (HF_HUB_CACHE, TORCH_HOME point
//! there), with the tiny fixtures (../shared/fixtures/models) standing in for real weights.
use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use virnucpro_testkit::fixture;

const DNABERT_ST_SHA256: &str = "ce124763c8cbf4fd7484f31528942f88022237770265d22d8a8290a7bf4a3559";

/// `virnucpro models` seeing only the caches under `home`.
fn models(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_virnucpro"));
    cmd.arg("models")
        .env("HOME", home)
        .env("HF_HUB_CACHE", home.join("hub"))
        .env("TORCH_HOME", home.join("torch"))
        .env_remove("RUST_LOG");
    cmd
}

/// A hub cache entry for DNABERT-S, files linked into blobs/ like huggingface_hub does;
/// `tokenizer` false leaves tokenizer.json out.
fn hub_dnabert(home: &Path, tokenizer: bool) {
    let repo = home.join("hub/models--zhihan1996--DNABERT-S");
    let snapshot = repo.join("snapshots/rev1");
    fs::create_dir_all(&snapshot).unwrap();
    fs::create_dir_all(repo.join("blobs")).unwrap();
    let src = fixture("models/dnabert_s_tiny");
    let mut files = vec![
        ("config.json", "1".repeat(40)),
        ("model.safetensors", DNABERT_ST_SHA256.to_string()),
    ];
    if tokenizer {
        files.push(("tokenizer.json", "2".repeat(40)));
    }
    for (name, blob) in files {
        fs::copy(src.join(name), repo.join("blobs").join(&blob)).unwrap();
        symlink(format!("../../blobs/{blob}"), snapshot.join(name)).unwrap();
    }
}

fn torch_esm(home: &Path) {
    let checkpoints = home.join("torch/hub/checkpoints");
    fs::create_dir_all(&checkpoints).unwrap();
    fs::copy(
        fixture("models/esm2_tiny_fairesm/esm2_t2_tiny_fixture.pt"),
        checkpoints.join("esm2_t2_tiny_fixture.pt"),
    )
    .unwrap();
}

#[test]
fn nothing_found_says_so_and_where_it_looked() {
    let home = tempfile::tempdir().unwrap();
    models(home.path())
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "No DNABERT-S or ESM-2 weights found",
        ))
        .stdout(predicate::str::contains(
            home.path().join("hub").display().to_string(),
        ))
        .stdout(predicate::str::contains(
            home.path()
                .join("torch/hub/checkpoints")
                .display()
                .to_string(),
        ))
        .stdout(predicate::str::contains("(not present)"))
        .stdout(predicate::str::contains("--dir"));
}

#[test]
fn json_lists_the_hub_and_torch_hub_models() {
    let home = tempfile::tempdir().unwrap();
    hub_dnabert(home.path(), true);
    torch_esm(home.path());
    let output = models(home.path()).arg("--json").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    let found = json["models"].as_array().unwrap();
    assert_eq!(found.len(), 2, "{json:#}");
    let dnabert = &found[0];
    assert_eq!(dnabert["kind"], "dnabert-s");
    assert_eq!(dnabert["name"], "DNABERT-S");
    assert_eq!(dnabert["source"], "hf-hub");
    assert_eq!(dnabert["revision"], "rev1");
    assert_eq!(dnabert["layout"], "hf-safetensors");
    assert_eq!(dnabert["size_bytes"], 2_211_280);
    assert_eq!(dnabert["problems"], serde_json::json!([]));
    assert!(dnabert["path"]
        .as_str()
        .unwrap()
        .ends_with("snapshots/rev1"));
    let esm = &found[1];
    assert_eq!(esm["kind"], "esm2");
    assert_eq!(esm["name"], "esm2_t2_tiny_fixture");
    assert_eq!(esm["source"], "torch-hub");
    assert_eq!(esm["layout"], "fair-esm-pt");
    assert_eq!(esm["size_bytes"], 232_543);
    assert_eq!(esm["files"][0]["sha256"], serde_json::Value::Null);

    let searched = json["searched"].as_array().unwrap();
    assert_eq!(searched.len(), 2);
    assert_eq!(searched[0]["source"], "hf-hub");
    assert_eq!(searched[1]["source"], "torch-hub");
    assert!(searched.iter().all(|p| p["present"] == true));
}

#[test]
fn text_shows_problems_and_hashes() {
    let home = tempfile::tempdir().unwrap();
    hub_dnabert(home.path(), false);
    models(home.path())
        .arg("--sha256")
        .assert()
        .success()
        .stdout(predicate::str::contains("Found 1 model(s), 0 complete"))
        .stdout(predicate::str::contains("DNABERT-S"))
        .stdout(predicate::str::contains("hf-safetensors"))
        .stdout(predicate::str::contains("2.1 MiB"))
        .stdout(predicate::str::contains("1 problem"))
        .stdout(predicate::str::contains(
            "problem: tokenizer.json is missing",
        ))
        .stdout(predicate::str::contains(format!(
            "sha256:  {DNABERT_ST_SHA256}  model.safetensors"
        )));
}

#[test]
fn dir_adds_user_folders() {
    let home = tempfile::tempdir().unwrap();
    let output = models(home.path())
        .arg("--dir")
        .arg(fixture("models"))
        .arg("--dir")
        .arg(fixture("models/esm2_tiny_fairesm"))
        .arg("--json")
        .output()
        .unwrap();
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let names: Vec<&str> = json["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["dnabert_s_tiny", "esm2_t2_tiny_fixture", "esm2_tiny_hf"]
    );
    assert_eq!(json["searched"].as_array().unwrap().len(), 4);
    assert_eq!(json["searched"][2]["source"], "folder");
}

#[test]
fn a_missing_dir_exits_4() {
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("typo");
    models(home.path())
        .arg("--dir")
        .arg(&missing)
        .assert()
        .code(4)
        .stderr(predicate::str::contains(format!(
            "{}: no such file or folder",
            missing.display()
        )));
}
