//! The merge stage of a run: the shards whose two feature files exist, merged on a pool
//! of threads; progress comes back over a channel to the caller's thread (the event
//! callback is not `Send`).
use crossbeam_channel::unbounded;
use virnucpro_core::events::{ItemCounts, RunEvent, Stage, StageClock};
use virnucpro_core::features::FeatureKind;
use virnucpro_core::merge::{merge_pairs, MergeOptions, PairOutcome, PairReport, PairSpec};
use virnucpro_core::CancelToken;

use super::embed_stage::StageResult;
use super::emitter::Emitter;
use super::layout::RunLayout;
use super::prepared::ShardInfo;
use super::RunError;

pub fn run_merge(
    layout: &RunLayout,
    shards: &[ShardInfo],
    wanted: &[bool],
    threads: usize,
    cancel: &CancelToken,
    events: &mut Emitter,
) -> Result<StageResult, RunError> {
    let stage = Stage::Merge;
    let chosen: Vec<usize> = (0..shards.len()).filter(|&i| wanted[i]).collect();
    // Explicit pairs from the shard list, never a folder listing: a feature file left by
    // an earlier run with more shards is not merged.
    let pairs: Vec<PairSpec> = chosen
        .iter()
        .map(|&i| {
            let shard = shards[i].name();
            PairSpec {
                nucleotide: vec![layout.feature_file(&shard, FeatureKind::Nucleotide)],
                protein: vec![layout.feature_file(&shard, FeatureKind::Protein)],
                output: layout.feature_file(&shard, FeatureKind::Merged),
                shard,
            }
        })
        .collect();
    std::fs::create_dir_all(layout.merged()).map_err(|source| RunError::Io {
        path: layout.merged(),
        source,
    })?;
    events.emit(RunEvent::StageStarted {
        stage,
        total: Some(pairs.len() as u64),
        unit: "shards".into(),
    });
    let clock = StageClock::start();
    let options = MergeOptions {
        threads: Some(threads),
        cancel: cancel.clone(),
        ..MergeOptions::default()
    };
    let (tx, rx) = unbounded::<PairReport>();
    let report = std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let tx = tx;
            merge_pairs(&pairs, &options, &|p| {
                let _ = tx.send(p.pair.clone());
            })
        });
        let mut done = 0u64;
        for pair in &rx {
            done += 1;
            events.progress(
                &clock,
                stage,
                done,
                Some(pairs.len() as u64),
                "shards",
                true,
            );
            if let PairOutcome::Failed(f) = &pair.outcome {
                if f.kind != virnucpro_core::merge::FailureKind::Cancelled {
                    events.failure(stage, &pair.shard, f.kind.name(), f.to_string());
                }
            }
        }
        worker.join()
    });
    let report = match report {
        Ok(r) => r?,
        Err(_) => return Err(RunError::Worker("the merge thread panicked".into())),
    };
    let mut ok = vec![false; shards.len()];
    let mut counts = ItemCounts::default();
    for (pair, &i) in report.pairs.iter().zip(&chosen) {
        match &pair.outcome {
            PairOutcome::Merged { .. } => {
                counts.done += 1;
                ok[i] = true;
            }
            PairOutcome::Skipped { .. } => {
                counts.reused += 1;
                ok[i] = true;
            }
            PairOutcome::Failed(f) if f.kind == virnucpro_core::merge::FailureKind::Cancelled => {}
            PairOutcome::Failed(_) => counts.failed += 1,
        }
    }
    events.stage_finished(stage, counts, clock.elapsed().as_secs_f64());
    Ok(StageResult {
        ok,
        counts,
        cancelled: cancel.is_cancelled(),
    })
}
