//! What a run's events and manifest say about its stages: a cancelled run does not claim
//! work it did not do, a device's clock stops with its stage, a reused prepare counts its
//! reads, and the plan is worded for the person running it (tiny fixture models,
//! ../shared/fixtures/e2e/a500: 329 frames in 9 shards of 40).
use std::path::Path;

use virnucpro_core::events::{RunEvent, RunStatus, Stage, StageOutcome};
use virnucpro_core::run_folder::layout::RunLayout;
use virnucpro_core::run_folder::manifest::RunManifest;

mod common;
use common::a500_spec as spec;

/// Run, cancelling when `stop` says so; the status and the events seen.
fn run(out: &Path, stop: &dyn Fn(&RunEvent) -> bool) -> (RunStatus, Vec<RunEvent>) {
    common::run_until(&spec(out), stop)
}

/// `(done, total)` of a progress event.
type Count = (u64, Option<u64>);

/// Each stage's end: its outcome, and the last progress it reported before it.
fn ends(events: &[RunEvent]) -> Vec<(Stage, StageOutcome, Option<Count>)> {
    let mut last = std::collections::HashMap::new();
    let mut out = Vec::new();
    for event in events {
        match event {
            RunEvent::StageProgress {
                stage, done, total, ..
            } => {
                last.insert(*stage, (*done, *total));
            }
            RunEvent::StageFinished { stage, outcome, .. } => {
                out.push((*stage, *outcome, last.get(stage).copied()));
            }
            _ => {}
        }
    }
    out
}

#[test]
fn a_cancelled_run_does_not_claim_work_it_did_not_do() {
    let out = tempfile::tempdir().unwrap();
    // Cancelled at DNABERT-S's first batch: early, as a user pressing Cancel at 2 %.
    let (status, events) = run(
        out.path(),
        &|e| matches!(e, RunEvent::StageProgress { stage: Stage::EmbedDna, done, .. } if *done > 0),
    );
    assert_eq!(status, RunStatus::Cancelled);
    let ends = ends(&events);
    let dna = ends.iter().find(|(s, ..)| *s == Stage::EmbedDna).unwrap();
    assert_eq!(dna.1, StageOutcome::Stopped, "{ends:?}");
    for (stage, outcome, last) in &ends {
        if *stage == Stage::Prepare {
            continue;
        }
        assert_eq!(*outcome, StageOutcome::Stopped, "{stage}: {ends:?}");
        // The last count is what was done, never the total it did not reach.
        if let Some((done, Some(total))) = last {
            assert!(done < total, "{stage}: {done} of {total}");
        }
    }
    let manifest = RunManifest::read(&RunLayout::new(out.path()).manifest()).unwrap();
    assert_eq!(manifest.state, "cancelled");
    let recorded = manifest
        .stages
        .iter()
        .find(|s| s.stage == Stage::EmbedDna)
        .unwrap();
    assert_eq!(recorded.outcome, StageOutcome::Stopped);
    for stage in &manifest.stages {
        if stage.outcome == StageOutcome::Complete {
            assert_eq!(stage.stage, Stage::Prepare, "{:?}", manifest.stages);
        }
    }
}

#[test]
fn a_finished_run_ends_every_stage_complete_and_device_clocks_with_their_stage() {
    let out = tempfile::tempdir().unwrap();
    let (status, events) = run(out.path(), &|_| false);
    assert_eq!(status, RunStatus::Ok);
    let ends = ends(&events);
    assert_eq!(ends.len(), 5);
    assert!(ends.iter().all(|(_, o, _)| *o == StageOutcome::Complete));
    // Each device's last report of an embedding stage comes at the stage's end and carries
    // the stage's own time: the device's elapsed time stops with its stage.
    for stage in [Stage::EmbedDna, Stage::EmbedProtein] {
        let seconds = events
            .iter()
            .find_map(|e| match e {
                RunEvent::StageFinished {
                    stage: s, seconds, ..
                } if *s == stage => Some(*seconds),
                _ => None,
            })
            .unwrap();
        let last_device = events
            .iter()
            .rev()
            .find_map(|e| match e {
                RunEvent::DeviceThroughput {
                    stage: s,
                    elapsed_seconds,
                    ..
                } if *s == stage => Some(*elapsed_seconds),
                _ => None,
            })
            .unwrap();
        assert_eq!(last_device, seconds, "{stage}");
    }
    // The manifest records what the device did: both models' loads, in the order they were
    // in, and its sequences (both stages' 329 frames), tokens and clocks.
    let manifest = RunManifest::read(&RunLayout::new(out.path()).manifest()).unwrap();
    let [cpu] = manifest.devices.as_slice() else {
        panic!("one device: {:?}", manifest.devices)
    };
    assert_eq!(cpu.device, "cpu");
    let loads: Vec<&str> = cpu.loads.iter().map(|l| l.model.as_str()).collect();
    assert_eq!(loads.len(), 2, "{loads:?}");
    assert!(
        loads[0].starts_with("dnabert-s") && loads[1].starts_with("esm2"),
        "{loads:?}"
    );
    assert!(
        cpu.loads.iter().all(|l| l.seconds >= 0.0),
        "{:?}",
        cpu.loads
    );
    assert_eq!(cpu.sequences, 2 * 329);
    assert!(cpu.tokens > cpu.sequences, "{cpu:?}");
    assert!(
        cpu.forward_seconds > 0.0 && cpu.idle_seconds >= 0.0,
        "{cpu:?}"
    );
}

#[test]
fn a_reused_prepare_counts_its_reads() {
    let out = tempfile::tempdir().unwrap();
    let (status, _) = run(out.path(), &|_| false);
    assert_eq!(status, RunStatus::Ok);
    let (status, events) = run(out.path(), &|_| false);
    assert_eq!(status, RunStatus::Ok);
    let reads = events
        .iter()
        .find_map(|e| match e {
            RunEvent::RunFinished(summary) => Some(summary.reads),
            _ => None,
        })
        .unwrap();
    assert!(reads > 0);
    let prepare = ends(&events)
        .into_iter()
        .find(|(s, ..)| *s == Stage::Prepare)
        .unwrap();
    assert_eq!(prepare.2, Some((reads, Some(reads))), "not \"0 reads\"");
    // Every shard's scores were reused: no model was loaded, no device worked.
    let manifest = RunManifest::read(&RunLayout::new(out.path()).manifest()).unwrap();
    assert!(manifest.devices.is_empty(), "{:?}", manifest.devices);
}

#[test]
fn the_plan_of_a_first_run_is_worded_for_a_scientist() {
    let out = tempfile::tempdir().unwrap();
    let (_, events) = run(out.path(), &|e| matches!(e, RunEvent::RunStarted { .. }));
    let plan = events
        .iter()
        .find_map(|e| match e {
            RunEvent::RunStarted { plan, .. } => Some(plan.clone()),
            _ => None,
        })
        .unwrap();
    let reasons: Vec<&str> = plan.iter().map(|p| p.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "the reads have not been prepared in this folder yet",
            "no embeddings made yet; they stay in memory (--keep-features keeps them)",
            "no embeddings made yet; they stay in memory (--keep-features keeps them)",
            "nothing merged yet; merged in memory",
            "no reports from this classifier and these settings yet",
        ]
    );
    for reason in reasons {
        for internal in ["shard", "earlier prepare", "verified", "feature files"] {
            assert!(!reason.contains(internal), "{reason}");
        }
    }
}
