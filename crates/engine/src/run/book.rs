//! Per-stage bookkeeping of a pipelined run: when each stage started, its counts and
//! progress, and its end.
//!
//! Stages overlap, so their events interleave, but each stage still has exactly one
//! `stage_started` before its progress and one `stage_finished` after it, and the
//! `stage_finished` events come in stage order (prepare, embed_dna, embed_protein, merge,
//! classify): a stage is over only when every shard has been through it, and no shard
//! goes through a stage before the ones before it.
use std::time::{Duration, Instant};

use virnucpro_core::events::{ItemCounts, RunEvent, Stage, StageClock, StageOutcome};

use super::emitter::Emitter;
use virnucpro_core::run_folder::manifest::StageRecord;

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
    /// An embedding stage's tokens, for its time left.
    tokens: TokenTally,
}

/// Sequences and tokens of an embedding stage: those tokenized so far (known before they
/// are embedded) and those embedded.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct TokenTally {
    queued_sequences: u64,
    queued_tokens: u64,
    embedded_sequences: u64,
    embedded_tokens: u64,
}

/// Seconds left of an embedding stage: the tokens that remain over the devices' speed on
/// it (tokens per second of forward time, summed over devices). Not the stage's average
/// since it started: an ESM-2 stage starts with the first shard but its devices mostly
/// embed DNA first, so that average would be far too slow. Tokens of sequences not yet
/// tokenized are estimated at the mean of those that are.
fn embed_seconds_left(
    tally: &TokenTally,
    sequences_left: u64,
    tokens_per_second: f64,
) -> Option<f64> {
    if tokens_per_second <= 0.0 || tally.queued_sequences == 0 {
        return None;
    }
    let queued_left = tally
        .queued_sequences
        .saturating_sub(tally.embedded_sequences);
    let queued_tokens_left = tally.queued_tokens.saturating_sub(tally.embedded_tokens);
    let mean_tokens = tally.queued_tokens as f64 / tally.queued_sequences as f64;
    let not_queued = sequences_left.saturating_sub(queued_left);
    let tokens_left = queued_tokens_left as f64 + not_queued as f64 * mean_tokens;
    Some(tokens_left / tokens_per_second)
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
    fn tokens_per_second(&self) -> f64 {
        self.tokens as f64 / self.seconds.max(1e-9)
    }

    fn event(&self, stage: Stage, device: &str, elapsed_seconds: f64) -> RunEvent {
        RunEvent::DeviceThroughput {
            stage,
            device: device.to_owned(),
            sequences: self.sequences,
            tokens: self.tokens,
            tokens_per_second: self.tokens_per_second(),
            elapsed_seconds,
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

    /// An embedding file of `stage` was tokenized: its sequences and tokens are known.
    pub fn queued(&mut self, stage: Stage, sequences: u64, tokens: u64) {
        let tokens_tally = &mut self.state(stage).tokens;
        tokens_tally.queued_sequences += sequences;
        tokens_tally.queued_tokens += tokens;
    }

    /// `units` more done; a progress event unless one went out very recently.
    pub fn advance(&mut self, stage: Stage, units: u64, events: &mut Emitter, force: bool) {
        self.state(stage).done += units;
        events.progress(stage, force, || self.progress_event(stage));
    }

    /// The stage's progress now; `None` before it started.
    fn progress_event(&self, stage: Stage) -> Option<RunEvent> {
        let state = &self.stages[index(stage)];
        let mut event =
            state
                .clock
                .as_ref()?
                .progress(stage, state.done, state.total, stage.unit());
        if let (RunEvent::StageProgress { eta_seconds, .. }, Some(total)) =
            (&mut event, state.total)
        {
            if matches!(stage, Stage::EmbedDna | Stage::EmbedProtein) {
                let speed: f64 = self
                    .devices
                    .iter()
                    .filter(|((s, _), _)| *s == stage)
                    .map(|(_, tally)| tally.tokens_per_second())
                    .sum();
                let left = total.saturating_sub(state.done);
                *eta_seconds = embed_seconds_left(&state.tokens, left, speed);
            }
        }
        Some(event)
    }

    /// Progress of an embedding batch on `device`.
    pub fn batch(
        &mut self,
        stage: Stage,
        device: &str,
        (sequences, tokens, seconds): (u64, u64, f64),
        events: &mut Emitter,
    ) {
        let tokens_tally = &mut self.state(stage).tokens;
        tokens_tally.embedded_sequences += sequences;
        tokens_tally.embedded_tokens += tokens;
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
        // After the device's tally, so the time left uses its latest speed.
        self.advance(stage, sequences, events, false);
        let elapsed = self.elapsed(stage);
        let tally = &mut self.devices[at].1;
        if tally
            .last_sent
            .is_none_or(|t| t.elapsed() >= THROUGHPUT_EVERY)
        {
            tally.last_sent = Some(Instant::now());
            events.emit(tally.event(stage, device, elapsed));
        }
    }

    fn elapsed(&self, stage: Stage) -> f64 {
        self.stages[index(stage)]
            .clock
            .as_ref()
            .map_or(0.0, |c| c.elapsed().as_secs_f64())
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
            self.finish(stage, StageOutcome::Complete, events);
        }
    }

    /// End every stage that started and did not end (a cancelled run), in stage order,
    /// with what it completed: `stopped`, unless its work was all done and it only waited
    /// for an earlier stage to end.
    pub fn close_started(&mut self, events: &mut Emitter) {
        for stage in Stage::ALL {
            let state = &self.stages[index(stage)];
            if state.clock.is_some() && !state.finished {
                let outcome = if state.complete {
                    StageOutcome::Complete
                } else {
                    StageOutcome::Stopped
                };
                self.finish(stage, outcome, events);
            }
        }
    }

    fn finish(&mut self, stage: Stage, outcome: StageOutcome, events: &mut Emitter) {
        self.start(stage, events);
        // One time for the stage's end and its devices' last reports: their clocks stop
        // together.
        let seconds = self.elapsed(stage);
        for ((s, device), tally) in &self.devices {
            if *s == stage {
                events.emit(tally.event(stage, device, seconds));
            }
        }
        let state = self.state(stage);
        state.finished = true;
        let (counts, done) = (state.counts, state.done);
        // The last progress event may have been thinned out: the final count goes out.
        if done > 0 {
            events.progress(stage, true, || self.progress_event(stage));
        }
        events.stage_finished(stage, counts, seconds, outcome);
        self.records.push(StageRecord {
            stage,
            seconds,
            counts,
            outcome,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedding_time_left_comes_from_the_tokens_that_remain() {
        // 100 of 300 sequences tokenized (20,000 tokens), 50 of them embedded (8,000
        // tokens), at 4,000 tokens per second of the devices.
        let tally = TokenTally {
            queued_sequences: 100,
            queued_tokens: 20_000,
            embedded_sequences: 50,
            embedded_tokens: 8_000,
        };
        // 12,000 tokens queued and not embedded, and 200 sequences not tokenized yet at
        // the mean of 200 tokens: 52,000 tokens, 13 s. However long the stage has been
        // open (an ESM-2 stage waits for DNA work), the estimate does not change.
        let left = embed_seconds_left(&tally, 250, 4_000.0).unwrap();
        assert!((left - 13.0).abs() < 1e-9, "{left}");
        assert_eq!(embed_seconds_left(&tally, 250, 0.0), None);
        assert_eq!(
            embed_seconds_left(&TokenTally::default(), 250, 4_000.0),
            None
        );
        // Nothing left once every sequence is embedded.
        let all = TokenTally {
            embedded_sequences: 100,
            embedded_tokens: 20_000,
            ..tally
        };
        assert_eq!(embed_seconds_left(&all, 0, 4_000.0), Some(0.0));
    }
}
