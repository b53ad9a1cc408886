//! Per-stage bookkeeping of a pipelined run: when each stage started, its counts and
//! progress, and its end.
//!
//! Stages overlap, so their events interleave, but each stage still has exactly one
//! `stage_started` before its progress and one `stage_finished` after it, and the
//! `stage_finished` events come in stage order (prepare, embed_dna, embed_protein, merge,
//! classify): a stage is over only when every shard has been through it, and no shard
//! goes through a stage before the ones before it.
use std::time::{Duration, Instant};

use virnucpro_core::events::{ItemCounts, RunEvent, Stage, StageClock};

use super::emitter::Emitter;
use super::manifest::StageRecord;

const THROUGHPUT_EVERY: Duration = Duration::from_secs(1);

#[derive(Default)]
struct StageState {
    clock: Option<StageClock>,
    /// The stage's work is complete (its `stage_finished` may still wait for earlier ones).
    complete: bool,
    finished: bool,
    counts: ItemCounts,
    /// Progress units done, and their total once known.
    done: u64,
    total: Option<u64>,
}

/// Per-device totals of one embedding stage, for the throughput events.
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

pub(super) struct StageBook {
    stages: [StageState; 5],
    /// In first-seen order per stage, so the final events come in a stable order.
    devices: Vec<((Stage, String), DeviceTally)>,
    /// What the manifest records of each finished stage, in the order they finished.
    pub records: Vec<StageRecord>,
}

fn index(stage: Stage) -> usize {
    Stage::ALL.iter().position(|&s| s == stage).unwrap_or(0)
}

impl StageBook {
    pub fn new() -> Self {
        Self {
            stages: Default::default(),
            devices: Vec::new(),
            records: Vec::new(),
        }
    }

    fn state(&mut self, stage: Stage) -> &mut StageState {
        &mut self.stages[index(stage)]
    }

    pub fn is_complete(&self, stage: Stage) -> bool {
        self.stages[index(stage)].complete
    }

    /// Announce the stage, once, when its first work item is handed out.
    pub fn start(&mut self, stage: Stage, events: &mut Emitter) {
        let state = self.state(stage);
        if state.clock.is_some() {
            return;
        }
        state.clock = Some(StageClock::start());
        let total = state.total;
        events.emit(RunEvent::StageStarted {
            stage,
            total,
            unit: stage.unit().into(),
        });
    }

    /// Progress units done so far.
    pub fn done(&self, stage: Stage) -> u64 {
        self.stages[index(stage)].done
    }

    pub fn counts(&mut self, stage: Stage) -> &mut ItemCounts {
        &mut self.state(stage).counts
    }

    pub fn set_total(&mut self, stage: Stage, total: u64) {
        self.state(stage).total = Some(total);
    }

    /// `units` more done; a progress event unless one went out very recently.
    pub fn advance(&mut self, stage: Stage, units: u64, events: &mut Emitter, force: bool) {
        let state = self.state(stage);
        state.done += units;
        let (done, total) = (state.done, state.total);
        if let Some(clock) = &self.stages[index(stage)].clock {
            events.progress(clock, stage, done, total, stage.unit(), force);
        }
    }

    /// Progress of an embedding batch on `device`.
    pub fn batch(
        &mut self,
        stage: Stage,
        device: &str,
        (sequences, tokens, seconds): (u64, u64, f64),
        events: &mut Emitter,
    ) {
        self.advance(stage, sequences, events, false);
        let key = (stage, device.to_owned());
        let at = match self.devices.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                self.devices.push((key, DeviceTally::default()));
                self.devices.len() - 1
            }
        };
        let tally = &mut self.devices[at].1;
        tally.sequences += sequences;
        tally.tokens += tokens;
        tally.seconds += seconds;
        if tally
            .last_sent
            .is_none_or(|t| t.elapsed() >= THROUGHPUT_EVERY)
        {
            tally.last_sent = Some(Instant::now());
            events.emit(tally.event(stage, device));
        }
    }

    /// The stage's work is done: announce its end, and that of later stages already
    /// complete, as soon as every earlier stage has ended.
    pub fn complete(&mut self, stage: Stage, events: &mut Emitter) {
        self.state(stage).complete = true;
        for stage in Stage::ALL {
            let state = &self.stages[index(stage)];
            if state.finished {
                continue;
            }
            if !state.complete {
                break;
            }
            self.finish(stage, events);
        }
    }

    /// End every stage that started and did not end (a cancelled run), in stage order,
    /// with what it completed.
    pub fn close_started(&mut self, events: &mut Emitter) {
        for stage in Stage::ALL {
            let state = &self.stages[index(stage)];
            if state.clock.is_some() && !state.finished {
                self.finish(stage, events);
            }
        }
    }

    fn finish(&mut self, stage: Stage, events: &mut Emitter) {
        self.start(stage, events);
        for ((s, device), tally) in &self.devices {
            if *s == stage {
                events.emit(tally.event(stage, device));
            }
        }
        let state = self.state(stage);
        state.finished = true;
        let (counts, done, total) = (state.counts, state.done, state.total);
        let seconds = state
            .clock
            .as_ref()
            .map_or(0.0, |c| c.elapsed().as_secs_f64());
        // The last progress event may have been thinned out: the final count goes out.
        if let (Some(clock), true) = (&self.stages[index(stage)].clock, done > 0) {
            events.progress(clock, stage, done, total, stage.unit(), true);
        }
        events.stage_finished(stage, counts, seconds);
        self.records.push(StageRecord {
            stage,
            seconds,
            counts,
        });
    }
}
