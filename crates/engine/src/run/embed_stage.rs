//! One embedding stage of a run (DNABERT-S on the nucleotide shards, or ESM-2 on the
//! protein shards), with the runner's events turned into run events.
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use virnucpro_core::events::{ItemCounts, RunEvent, Stage, StageClock};
use virnucpro_core::CancelToken;

use super::emitter::Emitter;
use super::prepared::ShardInfo;
use super::RunError;
use crate::embed::{embed_files, EmbedEvent, EmbedOptions, FileStatus, ModelSetup};

const THROUGHPUT_EVERY: Duration = Duration::from_secs(1);

/// Which shards came out of a stage with a usable output.
pub struct StageResult {
    /// Per shard, in shard order.
    pub ok: Vec<bool>,
    pub counts: ItemCounts,
    pub cancelled: bool,
}

/// Per-device totals for the throughput events.
#[derive(Default)]
struct DeviceTally {
    sequences: u64,
    tokens: u64,
    seconds: f64,
    last_sent: Option<Instant>,
}

impl DeviceTally {
    fn event(&self, stage: Stage, device: &str) -> RunEvent {
        RunEvent::DeviceThroughput {
            stage,
            device: device.to_owned(),
            sequences: self.sequences,
            tokens: self.tokens,
            tokens_per_second: self.tokens as f64 / self.seconds.max(1e-9),
        }
    }
}

/// Embed the shards marked in `wanted` (inputs under `prepared`), into the features folder.
#[allow(clippy::too_many_arguments)]
pub fn run_embed(
    stage: Stage,
    setup: &ModelSetup,
    prepared: &std::path::Path,
    features: PathBuf,
    shards: &[ShardInfo],
    wanted: &[bool],
    options: &EmbedOptions,
    cancel: &CancelToken,
    events: &mut Emitter,
) -> Result<StageResult, RunError> {
    let protein = stage == Stage::EmbedProtein;
    let chosen: Vec<usize> = (0..shards.len()).filter(|&i| wanted[i]).collect();
    let inputs: Vec<PathBuf> = chosen
        .iter()
        .map(|&i| {
            let shard = &shards[i];
            prepared.join(if protein {
                &shard.protein
            } else {
                &shard.nucleotide
            })
        })
        .collect();
    let by_input: HashMap<PathBuf, usize> =
        inputs.iter().cloned().zip(chosen.iter().copied()).collect();
    let total: u64 = chosen.iter().map(|&i| shards[i].records as u64).sum();
    events.emit(RunEvent::StageStarted {
        stage,
        total: Some(total),
        unit: "sequences".into(),
    });
    let clock = StageClock::start();
    let job = setup.job(inputs, features);
    let mut ok = vec![false; shards.len()];
    let mut counts = ItemCounts::default();
    let mut done = 0u64;
    let mut devices: HashMap<String, DeviceTally> = HashMap::new();
    let report = embed_files(&job, options, cancel, &mut |event| match event {
        EmbedEvent::BatchDone {
            device,
            sequences,
            tokens,
            seconds,
        } => {
            done += *sequences as u64;
            events.progress(&clock, stage, done, Some(total), "sequences", false);
            let tally = devices.entry(device.clone()).or_default();
            tally.sequences += *sequences as u64;
            tally.tokens += *tokens as u64;
            tally.seconds += seconds;
            if tally
                .last_sent
                .is_none_or(|t| t.elapsed() >= THROUGHPUT_EVERY)
            {
                tally.last_sent = Some(Instant::now());
                events.emit(tally.event(stage, device));
            }
        }
        EmbedEvent::BudgetHalved { device, parts } => events.warning(
            Some(stage),
            format!("{device}: out of memory; batches now run in {parts} pieces"),
        ),
        EmbedEvent::FileDone(outcome) => {
            let Some(&shard) = by_input.get(&outcome.input) else {
                return;
            };
            match &outcome.status {
                FileStatus::Written => {
                    counts.done += 1;
                    ok[shard] = true;
                }
                FileStatus::UpToDate => {
                    counts.reused += 1;
                    done += shards[shard].records as u64;
                    ok[shard] = true;
                }
                FileStatus::Failed(f) if f.kind == crate::embed::FailureKind::Cancelled => {}
                FileStatus::Failed(f) => {
                    counts.failed += 1;
                    let name = shards[shard].name();
                    events.failure(stage, &name, f.kind.as_str(), f.message.clone());
                }
            }
            events.progress(&clock, stage, done, Some(total), "sequences", true);
        }
        EmbedEvent::WorkerReady {
            device,
            load_seconds,
            ..
        } => tracing::info!("{stage}: model loaded on {device} in {load_seconds:.1} s"),
        EmbedEvent::FileQueued { .. } => {}
    })?;
    for (device, tally) in &devices {
        events.emit(tally.event(stage, device));
    }
    events.stage_finished(stage, counts, clock.elapsed().as_secs_f64());
    Ok(StageResult {
        ok,
        counts,
        cancelled: report.cancelled,
    })
}
