use serde_json::{json, Value};

use super::*;
use crate::events::FailureKind;

/// A manifest as the engine writes it, in the oldest form still read (no
/// `classify_device`, `provenance`, `outcome` or `reports`).
fn manifest_json() -> Value {
    let model = |path: &str| json!({"path": path, "model_id": "m", "files": []});
    json!({
        "manifest_version": 1, "state": "partial", "started_unix": 7,
        "software": {"app": "virnucpro 0.1.0", "libtorch": "2.13.0", "cuda": "none"},
        "inputs": [{"path": "/data/a.fa", "bytes": 1, "modified_ns": 0, "xxh3": "00"}],
        "models": {"dnabert": model("/m/dnabert"), "esm": model("/m/esm.pt"),
                   "classifier": model("/m/500_model.pth")},
        "settings": {"length": 500, "shard_size": 10, "devices": ["cpu"], "threads": 1,
                     "precision": "bf16", "batch_tokens": 8},
        "plan": [{"stage": "prepare", "action": "run", "reason": "new"}],
        "stages": [{"stage": "merge", "seconds": 1.5,
                    "counts": {"done": 1, "reused": 0, "failed": 1}}],
        "failures": [{"stage": "merge", "item": "output_2", "kind": "corrupt", "message": "x"}],
        "error": null, "summary": null,
    })
}

fn load_json(
    value: &Value,
) -> (
    tempfile::TempDir,
    Result<Option<RunManifest>, RunFolderError>,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run-manifest.json");
    std::fs::write(&path, serde_json::to_vec(value).unwrap()).unwrap();
    let loaded = RunManifest::load(&path);
    (dir, loaded)
}

#[test]
fn an_older_manifest_reads_with_typed_fields_and_writes_back_the_same_values() {
    let (dir, loaded) = load_json(&manifest_json());
    let manifest = loaded.unwrap().unwrap();
    assert_eq!(manifest.state, RunState::Partial);
    assert_eq!(manifest.state, "partial");
    assert_eq!(manifest.settings.precision, Precision::Bf16);
    assert_eq!(manifest.failures[0].kind, FailureKind::Corrupt);
    assert_eq!(manifest.stages[0].outcome, StageOutcome::Complete);
    assert_eq!(manifest.models.esm.provenance, Provenance::Unverified);
    assert_eq!(manifest.reports, None);
    assert!(manifest.stages_done().is_empty(), "merge had a failed item");

    let path = dir.path().join("again.json");
    manifest.write(&path).unwrap();
    let written: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(written["state"], "partial");
    assert_eq!(written["settings"]["precision"], "bf16");
    assert_eq!(written["failures"][0]["kind"], "corrupt");
    assert_eq!(RunManifest::load(&path).unwrap(), Some(manifest));
}

/// The message of loading the manifest with `pointer` set to `value`.
fn error_with(pointer: &str, value: Value) -> String {
    let mut json = manifest_json();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = json.pointer_mut(parent).unwrap().as_object_mut().unwrap();
    parent.insert(key.to_owned(), value);
    let (_dir, loaded) = load_json(&json);
    let err = loaded.unwrap_err();
    assert!(matches!(err, RunFolderError::Json { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("run-manifest.json: "), "{message}");
    message
}

#[test]
fn an_unknown_precision_is_an_error_naming_the_file_and_the_field() {
    let message = error_with("/settings/precision", json!("fp64"));
    assert!(message.contains("settings.precision: "), "{message}");
    assert!(message.contains("fp64"), "{message}");
    // The command line's aliases are not the manifest's spelling.
    let message = error_with("/settings/precision", json!("half"));
    assert!(message.contains("settings.precision: "), "{message}");
}

#[test]
fn an_unknown_state_is_an_error_naming_the_file_and_the_field() {
    let message = error_with("/state", json!("exploded"));
    assert!(message.contains("state: "), "{message}");
    assert!(message.contains("exploded"), "{message}");
    let message = error_with("/reports", json!({"state": "somewhere"}));
    assert!(
        message.contains("reports: ") && message.contains("somewhere"),
        "{message}"
    );
    let message = error_with("/stages/0/outcome", json!("halfway"));
    assert!(
        message.contains("stages: ") && message.contains("halfway"),
        "{message}"
    );
}

#[test]
fn an_unknown_failure_kind_in_the_manifest_is_an_error() {
    let message = error_with("/failures/0/kind", json!("exploded"));
    assert!(message.contains("failures: "), "{message}");
    assert!(message.contains("exploded"), "{message}");
    let message = error_with("/failures/0/stage", json!("polish"));
    assert!(
        message.contains("failures: ") && message.contains("polish"),
        "{message}"
    );
}

#[test]
fn no_manifest_is_none_and_a_start_leaves_an_unreadable_one_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run-manifest.json");
    assert!(RunManifest::load(&path).unwrap().is_none());
    std::fs::write(&path, b"{not json").unwrap();
    assert!(RunManifest::load(&path).is_err());
    assert_eq!(RunManifest::read(&path), None);
}

#[test]
fn states_follow_the_run_status() {
    for status in [
        RunStatus::Ok,
        RunStatus::Partial,
        RunStatus::Failed,
        RunStatus::Cancelled,
    ] {
        let state = RunState::from(status);
        assert_eq!(state.status(), Some(status));
        assert_eq!(
            serde_json::to_value(state).unwrap(),
            serde_json::to_value(status).unwrap()
        );
    }
    assert_eq!(RunState::Running.status(), None);
    assert_eq!(RunState::Running.to_string(), "running");
}

/// Before prepare and merge threads were two settings, `threads` sized both: an older
/// manifest reads as both, and a new one records each under its own name.
#[test]
fn an_older_manifests_threads_are_prepare_and_merge_threads() {
    let (_dir, loaded) = load_json(&manifest_json());
    let settings = loaded.unwrap().unwrap().settings;
    assert_eq!(settings.prepare_threads, 1);
    assert_eq!(settings.merge_threads, None);
    assert_eq!(settings.merge_thread_count(), 1);

    let mut value = manifest_json();
    value["settings"]["prepare_threads"] = json!(3);
    value["settings"]["merge_threads"] = json!(2);
    value["settings"].as_object_mut().unwrap().remove("threads");
    let (_dir, loaded) = load_json(&value);
    let settings = loaded.unwrap().unwrap().settings;
    assert_eq!(
        (settings.prepare_threads, settings.merge_thread_count()),
        (3, 2)
    );
    let written = serde_json::to_value(&settings).unwrap();
    assert_eq!(written["prepare_threads"], 3);
    assert_eq!(written["merge_threads"], 2);
    assert!(written.get("threads").is_none());
}

#[test]
fn the_pairing_is_recorded_and_older_manifests_read_as_off() {
    use crate::pairs::{PairMode, Pairing};
    let (dir, loaded) = load_json(&manifest_json());
    let mut manifest = loaded.unwrap().unwrap();
    assert_eq!(manifest.settings.pairing, Pairing::off());
    manifest.settings.pairing = Pairing {
        mode: PairMode::Auto,
        explicit: vec![("/d/a.fq".into(), "/d/b.fq".into())],
    };
    let path = dir.path().join("again.json");
    manifest.write(&path).unwrap();
    let written: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        written["settings"]["pairing"],
        json!({"mode": "auto", "explicit": [["/d/a.fq", "/d/b.fq"]]})
    );
    assert_eq!(RunManifest::load(&path).unwrap(), Some(manifest));
    let message = error_with("/settings/pairing", json!({"mode": "sometimes"}));
    assert!(message.contains("settings.pairing: "), "{message}");
}
