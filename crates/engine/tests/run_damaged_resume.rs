//! Never lose a result: a feature file (kept with `keep_features`) or a shard's scores file
//! damaged after a finished run is found on resume and made again, and a resume that cannot
//! complete keeps the earlier reports and writes its own beside them (tiny fixture models, ../shared/fixtures/e2e/a500: 329 frames in 9
//! shards of 40; the last shard has 9).
use std::path::Path;

use tch::{Device, Tensor};
use virnucpro_core::events::{ItemCounts, RunEvent, RunStatus, Stage};
use virnucpro_core::features::{DataCheck, FeatureFile};
use virnucpro_engine::embed::{EmbedError, Encode, EncoderFactory};
use virnucpro_engine::run::RunSpec;

mod common;

const SHARDS: u64 = 9;
const LAST_SHARD_ROWS: usize = 9;
const OUTPUTS: [&str; 3] = [
    "prediction_results.txt",
    "prediction_results_highestscore.csv",
    "read_summary.tsv",
];
const PARTIAL_OUTPUTS: [&str; 3] = [
    "prediction_results.partial.txt",
    "prediction_results_highestscore.partial.csv",
    "read_summary.partial.tsv",
];

fn spec(out: &Path) -> RunSpec {
    RunSpec {
        // Every shard file is one batch, so a shard can be told by its batch size.
        batch_tokens: Some(1 << 20),
        // Most tests damage the feature and merged files, which only this keeps.
        keep_features: true,
        ..common::a500_spec(out)
    }
}

/// The ESM-2 encoder, except that the last shard's batch fails.
struct FailsLastShard(Box<dyn Encode>);

impl Encode for FailsLastShard {
    fn dim(&self) -> usize {
        self.0.dim()
    }

    fn embed(&self, ids: &Tensor, lengths: &[i64]) -> Result<Tensor, tch::TchError> {
        if lengths.len() == LAST_SHARD_ROWS {
            return Err(tch::TchError::Torch("injected failure".into()));
        }
        self.0.embed(ids, lengths)
    }
}

struct FailsLastShardFactory(Box<dyn EncoderFactory>);

impl EncoderFactory for FailsLastShardFactory {
    fn load(&self, device: Device) -> Result<Box<dyn Encode>, EmbedError> {
        Ok(Box::new(FailsLastShard(self.0.load(device)?)))
    }
}

/// Run (with ESM-2 failing on the last shard when `fail_last_shard`); status and events.
fn run(out: &Path, fail_last_shard: bool) -> (RunStatus, Vec<RunEvent>) {
    run_spec(&spec(out), fail_last_shard)
}

fn run_spec(spec: &RunSpec, fail_last_shard: bool) -> (RunStatus, Vec<RunEvent>) {
    common::run_with_esm(spec, |inner| {
        if fail_last_shard {
            Box::new(FailsLastShardFactory(inner))
        } else {
            inner
        }
    })
}

fn counts(events: &[RunEvent], stage: Stage) -> ItemCounts {
    events
        .iter()
        .find_map(|e| match e {
            RunEvent::StageFinished {
                stage: s, counts, ..
            } if *s == stage => Some(*counts),
            _ => None,
        })
        .unwrap()
}

/// A NaN over the first value of a feature file's data; its header stays valid.
fn damage(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let mut len = [0u8; 8];
    len.copy_from_slice(&bytes[..8]);
    let start = 8 + u64::from_le_bytes(len) as usize;
    bytes[start..start + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(path, bytes).unwrap();
    assert!(FeatureFile::validate_header(path).is_ok());
}

fn copy_reports(from: &Path, to: &Path) {
    for file in OUTPUTS {
        std::fs::copy(from.join(file), to.join(file)).unwrap();
    }
}

fn same_reports(a: &Path, b: &Path, what: &str) {
    for file in OUTPUTS {
        assert_eq!(
            std::fs::read(a.join(file)).unwrap(),
            std::fs::read(b.join(file)).unwrap(),
            "{what}: {file}"
        );
    }
}

fn manifest_reports(out: &Path) -> serde_json::Value {
    let bytes = std::fs::read(out.join("run-manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    manifest["reports"].clone()
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).unwrap().lines().count()
}

#[test]
fn a_damaged_feature_file_is_embedded_again_and_the_reports_stay() {
    let out = tempfile::tempdir().unwrap();
    let (status, _) = run(out.path(), false);
    assert_eq!(status, RunStatus::Ok);
    let reference = tempfile::tempdir().unwrap();
    copy_reports(out.path(), reference.path());
    assert_eq!(lines(&reference.path().join(OUTPUTS[0])), 330);

    let protein = out.path().join("features/output_1.protein.safetensors");
    damage(&protein);
    let (status, events) = run(out.path(), false);
    assert_eq!(status, RunStatus::Ok, "the damaged shard is recomputed");
    let embedded = counts(&events, Stage::EmbedProtein);
    assert_eq!((embedded.done, embedded.reused), (1, SHARDS - 1));
    assert_eq!(counts(&events, Stage::EmbedDna).reused, SHARDS);
    assert_eq!(
        FeatureFile::open(&protein).unwrap().verify_data().unwrap(),
        DataCheck::Checksum
    );
    same_reports(out.path(), reference.path(), "after the damaged resume");
    assert_eq!(manifest_reports(out.path())["state"], "complete");
    assert!(PARTIAL_OUTPUTS.iter().all(|f| !out.path().join(f).exists()));
}

#[test]
fn a_resume_that_fails_keeps_the_earlier_reports_and_writes_partial_ones_beside() {
    let out = tempfile::tempdir().unwrap();
    assert_eq!(run(out.path(), false).0, RunStatus::Ok);
    let reference = tempfile::tempdir().unwrap();
    copy_reports(out.path(), reference.path());

    // The last shard's protein features are damaged, and embedding them again fails.
    damage(&out.path().join("features/output_9.protein.safetensors"));
    let (status, events) = run(out.path(), true);
    assert_eq!(status, RunStatus::Partial);
    assert_eq!(counts(&events, Stage::EmbedProtein).failed, 1);
    same_reports(out.path(), reference.path(), "the failed resume");
    let record = manifest_reports(out.path());
    assert_eq!(record["state"], "earlier");
    assert_eq!(record["partial_files"], serde_json::json!(PARTIAL_OUTPUTS));
    // This run's own reports, without the failed shard's 9 frames.
    let partial = out.path().join(PARTIAL_OUTPUTS[0]);
    assert_eq!(lines(&partial), 330 - LAST_SHARD_ROWS);
    let full = std::fs::read_to_string(reference.path().join(OUTPUTS[0])).unwrap();
    assert!(full.starts_with(&std::fs::read_to_string(&partial).unwrap()));
    assert!(!out.path().join(".reports-new").exists());

    // Fixed: the next resume embeds the shard, completes, and its reports are the usual
    // ones again; the partial ones are gone.
    let (status, events) = run(out.path(), false);
    assert_eq!(status, RunStatus::Ok);
    assert_eq!(counts(&events, Stage::EmbedProtein).done, 1);
    same_reports(out.path(), reference.path(), "the fixed resume");
    assert_eq!(manifest_reports(out.path())["state"], "complete");
    assert!(PARTIAL_OUTPUTS.iter().all(|f| !out.path().join(f).exists()));
}

#[test]
fn a_damaged_merged_file_is_merged_again() {
    let out = tempfile::tempdir().unwrap();
    assert_eq!(run(out.path(), false).0, RunStatus::Ok);
    let reference = tempfile::tempdir().unwrap();
    copy_reports(out.path(), reference.path());

    damage(&out.path().join("merged/output_3.merged.safetensors"));
    let (status, events) = run(out.path(), false);
    assert_eq!(status, RunStatus::Ok);
    let merged = counts(&events, Stage::Merge);
    assert_eq!((merged.done, merged.reused), (1, SHARDS - 1));
    same_reports(
        out.path(),
        reference.path(),
        "after the damaged merged file",
    );
    assert_eq!(manifest_reports(out.path())["state"], "complete");
}

#[test]
fn a_damaged_scores_file_is_made_again_when_features_are_not_kept() {
    let out = tempfile::tempdir().unwrap();
    let spec = RunSpec {
        keep_features: false,
        ..spec(out.path())
    };
    assert_eq!(run_spec(&spec, false).0, RunStatus::Ok);
    assert!(!out.path().join("features").exists());
    assert!(!out.path().join("merged").exists());
    let reference = tempfile::tempdir().unwrap();
    copy_reports(out.path(), reference.path());

    damage(&out.path().join("scores/output_4.scores.safetensors"));
    let (status, events) = run_spec(&spec, false);
    assert_eq!(status, RunStatus::Ok);
    for stage in [
        Stage::EmbedDna,
        Stage::EmbedProtein,
        Stage::Merge,
        Stage::Classify,
    ] {
        let c = counts(&events, stage);
        assert_eq!((c.done, c.reused), (1, SHARDS - 1), "{stage}");
    }
    same_reports(
        out.path(),
        reference.path(),
        "after the damaged scores file",
    );
    assert_eq!(manifest_reports(out.path())["state"], "complete");
    let scores = out.path().join("scores/output_4.scores.safetensors");
    assert_eq!(
        FeatureFile::open(&scores).unwrap().verify_data().unwrap(),
        DataCheck::Checksum
    );
}
