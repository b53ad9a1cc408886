//! A run cancelled at several points resumes to the same outputs as an uninterrupted run,
//! without redoing finished work (tiny fixture models, ../shared/fixtures/e2e/a500).
use std::path::Path;

use virnucpro_core::events::{ItemCounts, RunEvent, RunStatus, Stage};
use virnucpro_core::CancelToken;
use virnucpro_engine::run::{run_prediction, RunOptions, RunSpec};
use virnucpro_testkit::fixture;

fn spec(out: &Path) -> RunSpec {
    RunSpec {
        devices: "cpu".into(),
        threads: Some(2),
        shard_size: 40,
        ..RunSpec::new(
            vec![fixture("e2e/a500/input.fa")],
            fixture("models/dnabert_s_tiny"),
            fixture("models/esm2_tiny_fairesm/esm2_t2_tiny_fixture.pt"),
            fixture("e2e/a500/classifier.pth"),
            500,
            out.to_path_buf(),
        )
    }
}

/// Run, cancelling when `stop` says so; the events seen.
fn run(out: &Path, stop: &dyn Fn(&RunEvent) -> bool) -> (RunStatus, Vec<RunEvent>) {
    let cancel = CancelToken::new();
    let mut seen = Vec::new();
    let outcome = run_prediction(&spec(out), RunOptions::default(), &cancel, &mut |e| {
        if stop(e) {
            cancel.cancel();
        }
        seen.push(e.clone());
    })
    .unwrap();
    (outcome.summary.status, seen)
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

#[test]
fn cancelled_runs_resume_to_identical_outputs() {
    let reference = tempfile::tempdir().unwrap();
    let (status, events) = run(reference.path(), &|_| false);
    assert_eq!(status, RunStatus::Ok);
    assert!(events
        .iter()
        .any(|e| matches!(e, RunEvent::DeviceThroughput { device, .. } if device == "cpu")));
    assert!(matches!(events.last(), Some(RunEvent::RunFinished(_))));

    type Point = (&'static str, fn(&RunEvent) -> bool);
    let points: [Point; 4] = [
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
    for (name, stop) in points {
        let out = tempfile::tempdir().unwrap();
        let (status, first) = run(out.path(), &stop);
        assert_eq!(status, RunStatus::Cancelled, "{name}");
        assert!(
            !out.path().join("prediction_results.txt").exists(),
            "{name}: no report from a cancelled run"
        );
        let done_before = finished(&first);
        let (status, second) = run(out.path(), &|_| false);
        assert_eq!(status, RunStatus::Ok, "{name}");
        for file in OUTPUTS {
            assert_eq!(
                std::fs::read(out.path().join(file)).unwrap(),
                std::fs::read(reference.path().join(file)).unwrap(),
                "{name}: {file}"
            );
        }
        // Whatever a stage finished before the cancel is reused, not recomputed.
        let resumed = finished(&second);
        for (stage, before) in &done_before {
            if *stage == Stage::Classify {
                continue;
            }
            let (_, after) = resumed.iter().find(|(s, _)| s == stage).unwrap();
            assert!(
                after.reused >= before.done + before.reused,
                "{name}: {stage}: {before:?} then {after:?}"
            );
        }
        eprintln!("cancelled {name}: first {done_before:?}; resumed {resumed:?}");
    }
}
