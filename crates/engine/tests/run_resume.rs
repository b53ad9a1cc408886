//! A run cancelled at several points resumes to the same outputs as an uninterrupted run,
//! without redoing finished work; its stages overlap; an unchanged resume keeps the reports
//! (tiny fixture models, ../shared/fixtures/e2e/a500: 329 frames in 9 shards of 40).
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tch::{Device, Tensor};
use virnucpro_core::events::{ItemCounts, RunEvent, RunStatus, Stage};
use virnucpro_core::CancelToken;
use virnucpro_engine::embed::{EmbedError, Encode, EncoderFactory};
use virnucpro_engine::run::{run_validated, validate, RunOptions, RunSpec};

mod common;
use common::a500_spec as spec;

const SHARDS: u64 = 9;
/// Records of the last shard (329 = 8 × 40 + 9): the only batch of that many rows when
/// every shard is one batch.
const LAST_SHARD_ROWS: usize = 9;

/// Run, cancelling when `stop` says so; the events seen.
fn run(out: &Path, stop: &dyn Fn(&RunEvent) -> bool) -> (RunStatus, Vec<RunEvent>) {
    common::run_until(&spec(out), stop)
}

/// `run`, keeping the feature and merged files or not.
fn run_keeping(
    out: &Path,
    keep_features: bool,
    stop: &dyn Fn(&RunEvent) -> bool,
) -> (RunStatus, Vec<RunEvent>) {
    let spec = RunSpec {
        keep_features,
        ..spec(out)
    };
    common::run_until(&spec, stop)
}

fn finished(events: &[RunEvent]) -> Vec<(Stage, ItemCounts)> {
    events
        .iter()
        .filter_map(|e| match e {
            RunEvent::StageFinished { stage, counts, .. } => Some((*stage, *counts)),
            _ => None,
        })
        .collect()
}

const OUTPUTS: [&str; 3] = [
    "prediction_results.txt",
    "prediction_results_highestscore.csv",
    "read_summary.tsv",
];

fn same_outputs(a: &Path, b: &Path, what: &str) {
    for file in OUTPUTS {
        assert_eq!(
            std::fs::read(a.join(file)).unwrap(),
            std::fs::read(b.join(file)).unwrap(),
            "{what}: {file}"
        );
    }
}

type Point = (&'static str, fn(&RunEvent) -> bool);

/// Where the cancel tests stop a run.
const POINTS: [Point; 4] = [
    ("after prepare", |e| {
        matches!(
            e,
            RunEvent::StageFinished {
                stage: Stage::Prepare,
                ..
            }
        )
    }),
    (
        "during DNABERT-S",
        |e| matches!(e, RunEvent::StageProgress { stage: Stage::EmbedDna, done, .. } if *done >= 80),
    ),
    (
        "during ESM-2",
        |e| matches!(e, RunEvent::StageProgress { stage: Stage::EmbedProtein, done, .. } if *done >= 120),
    ),
    ("before classify", |e| {
        matches!(
            e,
            RunEvent::StageStarted {
                stage: Stage::Classify,
                ..
            }
        )
    }),
];

#[test]
fn cancelled_runs_resume_to_identical_outputs() {
    let reference = tempfile::tempdir().unwrap();
    let (status, events) = run(reference.path(), &|_| false);
    assert_eq!(status, RunStatus::Ok);
    assert!(events
        .iter()
        .any(|e| matches!(e, RunEvent::DeviceThroughput { device, .. } if device == "cpu")));
    assert!(matches!(events.last(), Some(RunEvent::RunFinished(_))));
    for keep_features in [false, true] {
        for (name, stop) in POINTS {
            let name = format!("{name}, keep_features {keep_features}");
            cancel_and_resume(reference.path(), keep_features, &name, stop);
        }
    }
}

/// Cancel a run at `stop`, resume it, and compare its reports with `reference`'s; what the
/// first run finished is reused (kept features by stage; otherwise the shards it scored).
fn cancel_and_resume(reference: &Path, keep: bool, name: &str, stop: fn(&RunEvent) -> bool) {
    let out = tempfile::tempdir().unwrap();
    let (status, first) = run_keeping(out.path(), keep, &stop);
    assert_eq!(status, RunStatus::Cancelled, "{name}");
    assert!(
        !out.path().join("prediction_results.txt").exists(),
        "{name}: no report from a cancelled run"
    );
    let done_before = finished(&first);
    let (status, second) = run_keeping(out.path(), keep, &|_| false);
    assert_eq!(status, RunStatus::Ok, "{name}");
    same_outputs(out.path(), reference, name);
    assert_eq!(out.path().join("features").exists(), keep, "{name}");
    assert_eq!(out.path().join("merged").exists(), keep, "{name}");
    let resumed = finished(&second);
    let scored_before = done_before
        .iter()
        .find(|(s, _)| *s == Stage::Classify)
        .map_or(0, |(_, c)| c.done + c.reused);
    for (stage, before) in &done_before {
        if *stage == Stage::Classify {
            continue;
        }
        let (_, after) = resumed.iter().find(|(s, _)| s == stage).unwrap();
        let kept = if keep {
            before.done + before.reused
        } else {
            scored_before
        };
        assert!(
            after.reused >= kept,
            "{name}: {stage}: {before:?} then {after:?}"
        );
    }
    eprintln!("cancelled {name}: first {done_before:?}; resumed {resumed:?}");
}

/// Opened once classify has scored rows; remembers whether it was.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }

    /// Whether the gate opened before the guard ran out. The guard only keeps a broken
    /// (sequential) runner from hanging the test; it is no timing assumption.
    fn wait(&self) -> bool {
        let open = self.open.lock().unwrap();
        let (open, _) = self
            .opened
            .wait_timeout_while(open, Duration::from_secs(120), |open| !*open)
            .unwrap();
        *open
    }
}

/// The real encoder, except that the last shard's batch waits for the gate.
struct Gated {
    inner: Box<dyn Encode>,
    gate: Arc<Gate>,
    passed: Arc<Mutex<Option<bool>>>,
}

impl Encode for Gated {
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    fn embed(&self, ids: &Tensor, lengths: &[i64]) -> Result<Tensor, tch::TchError> {
        if lengths.len() == LAST_SHARD_ROWS {
            *self.passed.lock().unwrap() = Some(self.gate.wait());
        }
        self.inner.embed(ids, lengths)
    }
}

struct GatedFactory {
    inner: Box<dyn EncoderFactory>,
    gate: Arc<Gate>,
    passed: Arc<Mutex<Option<bool>>>,
}

impl EncoderFactory for GatedFactory {
    fn load(&self, device: Device) -> Result<Box<dyn Encode>, EmbedError> {
        Ok(Box::new(Gated {
            inner: self.inner.load(device)?,
            gate: Arc::clone(&self.gate),
            passed: Arc::clone(&self.passed),
        }))
    }
}

/// The devices never wait for merge and classify: the last shard's ESM-2 batch is held
/// until classify has scored earlier shards, which a runner that classifies only after
/// every embedding would never do.
#[test]
fn early_shards_are_classified_while_the_last_is_embedded() {
    let reference = tempfile::tempdir().unwrap();
    run(reference.path(), &|_| false);

    let out = tempfile::tempdir().unwrap();
    let spec = RunSpec {
        // Every shard file is one batch.
        batch_tokens: Some(1 << 20),
        ..spec(out.path())
    };
    let mut validated = validate(&spec).unwrap();
    let gate = Arc::new(Gate::default());
    let passed = Arc::new(Mutex::new(None));
    let placeholder: Box<dyn EncoderFactory> =
        Box::new(|_: Device| -> Result<Box<dyn Encode>, EmbedError> {
            Err(EmbedError::Settings("placeholder".into()))
        });
    let inner = std::mem::replace(&mut validated.esm.factory, placeholder);
    validated.esm.factory = Box::new(GatedFactory {
        inner,
        gate: Arc::clone(&gate),
        passed: Arc::clone(&passed),
    });
    let mut seen = Vec::new();
    let outcome = run_validated(
        &mut validated,
        RunOptions::default(),
        &CancelToken::new(),
        &mut |e| {
            if matches!(e, RunEvent::StageProgress { stage: Stage::Classify, done, .. } if *done > 0)
            {
                gate.open();
            }
            seen.push(e.clone());
        },
    )
    .unwrap();
    assert_eq!(outcome.summary.status, RunStatus::Ok);
    assert_eq!(
        *passed.lock().unwrap(),
        Some(true),
        "the last shard was embedded after classify had scored earlier shards"
    );
    // Each stage starts before its progress and ends once, in stage order.
    let order: Vec<Stage> = finished(&seen).into_iter().map(|(s, _)| s).collect();
    assert_eq!(order, Stage::ALL);
    for stage in Stage::ALL {
        let started = seen
            .iter()
            .position(|e| matches!(e, RunEvent::StageStarted { stage: s, .. } if *s == stage))
            .unwrap();
        let first_progress = seen
            .iter()
            .position(|e| matches!(e, RunEvent::StageProgress { stage: s, .. } if *s == stage));
        assert!(first_progress.is_none_or(|p| p > started), "{stage}");
    }
    same_outputs(out.path(), reference.path(), "pipelined");
}

/// A run that must end well; its events.
fn run_ok(out: &Path) -> Vec<RunEvent> {
    let (status, events) = run(out, &|_| false);
    assert_eq!(status, RunStatus::Ok);
    events
}

#[test]
fn an_unchanged_resume_keeps_the_reports_and_a_changed_one_does_not() {
    let out = tempfile::tempdir().unwrap();
    let first = run_ok(out.path());
    let classify = |events: &[RunEvent]| {
        finished(events)
            .into_iter()
            .find(|(s, _)| *s == Stage::Classify)
            .unwrap()
            .1
    };
    assert_eq!(classify(&first).done, SHARDS);
    let reference = tempfile::tempdir().unwrap();
    for file in OUTPUTS {
        std::fs::copy(out.path().join(file), reference.path().join(file)).unwrap();
    }

    // Nothing changed: reused, not recomputed.
    let second = run_ok(out.path());
    assert_eq!(
        classify(&second),
        ItemCounts {
            done: 0,
            reused: SHARDS,
            failed: 0
        }
    );
    let RunEvent::RunStarted { plan, .. } = &second[0] else {
        panic!("the run starts with its plan");
    };
    assert_eq!(
        serde_json::to_value(plan[4].action).unwrap(),
        serde_json::json!("resume")
    );
    same_outputs(out.path(), reference.path(), "unchanged");
    let summary = |events: &[RunEvent]| match events.last() {
        Some(RunEvent::RunFinished(s)) => (s.frames_scored, s.virus_chunks, s.virus_reads),
        _ => panic!("the run ends with its summary"),
    };
    assert_eq!(summary(&second), summary(&first));

    // A report changed by hand is not trusted: the reports are rebuilt from the shards'
    // scores, which are current, so none is classified again.
    let rebuilt = ItemCounts {
        done: 0,
        reused: SHARDS,
        failed: 0,
    };
    let results = out.path().join("prediction_results.txt");
    let mut text = std::fs::read(&results).unwrap();
    text.extend_from_slice(b"extra\n");
    std::fs::write(&results, text).unwrap();
    assert_eq!(classify(&run_ok(out.path())), rebuilt);
    same_outputs(out.path(), reference.path(), "report edited");

    // A merged shard other than the one the reports were made from (the stamp is edited:
    // the models are deterministic, so a real change would need other inputs) means
    // classifying again, the shards checked before it included.
    let stamp_path = out.path().join("reports-inputs.json");
    let mut stamp: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&stamp_path).unwrap()).unwrap();
    stamp["scored"][1]["xxh3"] = serde_json::json!("0000000000000000");
    std::fs::write(&stamp_path, serde_json::to_vec(&stamp).unwrap()).unwrap();
    let third = run_ok(out.path());
    assert_eq!(classify(&third), rebuilt);
    same_outputs(out.path(), reference.path(), "shard scores changed");
    // A shard whose scores file is gone is embedded, merged and classified again; the
    // reports come out the same.
    std::fs::remove_file(out.path().join("scores/output_2.scores.safetensors")).unwrap();
    let fourth = run_ok(out.path());
    let one_redone = ItemCounts {
        done: 1,
        reused: SHARDS - 1,
        failed: 0,
    };
    assert_eq!(classify(&fourth), one_redone);
    same_outputs(out.path(), reference.path(), "scores file remade");
}

/// The names of the entries of `dir`, sorted (empty when it does not exist).
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn reports_are_the_same_with_and_without_kept_features() {
    let kept = tempfile::tempdir().unwrap();
    let (status, _) = run_keeping(kept.path(), true, &|_| false);
    assert_eq!(status, RunStatus::Ok);
    let in_memory = tempfile::tempdir().unwrap();
    let (status, _) = run_keeping(in_memory.path(), false, &|_| false);
    assert_eq!(status, RunStatus::Ok);
    same_outputs(in_memory.path(), kept.path(), "kept features or not");

    let scores: Vec<String> = (1..=SHARDS)
        .map(|i| format!("output_{i}.scores.safetensors"))
        .collect();
    let mut sorted = scores.clone();
    sorted.sort();
    for out in [kept.path(), in_memory.path()] {
        assert_eq!(names_in(&out.join("scores")), sorted);
    }
    // Without them, the folder holds no feature or merged file at all.
    assert!(!in_memory.path().join("features").exists());
    assert!(!in_memory.path().join("merged").exists());
    assert_eq!(
        names_in(&kept.path().join("features")).len(),
        2 * SHARDS as usize
    );
    assert_eq!(names_in(&kept.path().join("merged")).len(), SHARDS as usize);
    let manifest = |out: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(out.join("run-manifest.json")).unwrap()).unwrap()
    };
    assert_eq!(manifest(kept.path())["settings"]["keep_features"], true);
    assert_eq!(
        manifest(in_memory.path())["settings"]["keep_features"],
        false
    );
}
