//! Thins a run's events for the web view: a progress bar needs a few updates a second, not
//! one per batch, but no failure, stage change or the end of the run may be lost.
//!
//! Rules (docs/desktop-api.md, "Rules the shell enforces"):
//! - `stage_progress` (per stage) and `device_throughput` (per stage and device) go out at
//!   most once per [`INTERVAL`] per key; in between only the latest is kept.
//! - Every other event goes out at once, after whatever progress is still held back, so
//!   the UI never sees progress of a stage after the stage's end.
//! - What goes out is a subsequence of what came in, in the same order.
//! - Nothing goes out after the last `run_finished`: a run of samples has one per sample
//!   (each sample's run ends with its own), so the throttler is told how many to expect
//!   ([`Throttler::for_runs`]); the shell closes it at the end of the whole run anyway.
//!
//! Time is passed in, so that tests can drive it.
use std::collections::HashMap;
use std::time::{Duration, Instant};

use virnucpro_core::events::{RunEvent, Stage};

use crate::api::ShellEvent;

/// 8 updates a second per key at most.
pub const INTERVAL: Duration = Duration::from_millis(125);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Stage(Stage),
    Device(Stage, String),
}

fn progress_key(event: &ShellEvent) -> Option<Key> {
    match event {
        ShellEvent::Run(RunEvent::StageProgress { stage, .. }) => Some(Key::Stage(*stage)),
        ShellEvent::Run(RunEvent::DeviceThroughput { stage, device, .. }) => {
            Some(Key::Device(*stage, device.clone()))
        }
        _ => None,
    }
}

pub struct Throttler<S: FnMut(ShellEvent)> {
    sink: S,
    interval: Duration,
    last_sent: HashMap<Key, Instant>,
    /// Held-back progress, one per key, in the order their latest value arrived.
    pending: Vec<(Key, ShellEvent)>,
    /// The `run_finished` events still to come before the end.
    runs_left: usize,
    finished: bool,
}

impl<S: FnMut(ShellEvent)> Throttler<S> {
    pub fn new(sink: S) -> Self {
        Self::with_interval(sink, INTERVAL)
    }

    /// A throttler for a run of `runs` samples: it ends after the `runs`-th `run_finished`
    /// (a sample that could not run sends none; then [`close`](Self::close) ends it).
    pub fn for_runs(sink: S, runs: usize) -> Self {
        Self {
            runs_left: runs.max(1),
            ..Self::new(sink)
        }
    }

    pub fn with_interval(sink: S, interval: Duration) -> Self {
        Self {
            sink,
            interval,
            last_sent: HashMap::new(),
            pending: Vec::new(),
            runs_left: 1,
            finished: false,
        }
    }

    /// Whether the last `run_finished` went out (everything after it is dropped).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    pub fn push(&mut self, event: ShellEvent, now: Instant) {
        if self.finished {
            return;
        }
        let Some(key) = progress_key(&event) else {
            self.flush_all(now);
            if matches!(event, ShellEvent::Run(RunEvent::RunFinished(_))) {
                self.runs_left = self.runs_left.saturating_sub(1);
            }
            (self.sink)(event);
            self.finished = self.runs_left == 0;
            return;
        };
        // The latest value replaces the held one and moves to the back: the output stays
        // in input order.
        self.pending.retain(|(k, _)| *k != key);
        self.pending.push((key, event));
        self.tick(now);
    }

    /// Send the held-back progress that is due, from the front, stopping at the first that
    /// is not (later ones wait rather than overtake it). Call it a few times per interval.
    pub fn tick(&mut self, now: Instant) {
        while let Some((key, _)) = self.pending.first() {
            let due = self
                .last_sent
                .get(key)
                .is_none_or(|t| now.saturating_duration_since(*t) >= self.interval);
            if !due {
                break;
            }
            self.send_first(now);
        }
    }

    /// The end of the whole run, also without (every) `run_finished` (the engine returned
    /// an error, a sample could not run, a run of samples was cancelled): what is held back
    /// goes out, nothing after it.
    pub fn close(&mut self, now: Instant) {
        if !self.finished {
            self.flush_all(now);
            self.finished = true;
        }
    }

    fn flush_all(&mut self, now: Instant) {
        while !self.pending.is_empty() {
            self.send_first(now);
        }
    }

    fn send_first(&mut self, now: Instant) {
        let (key, event) = self.pending.remove(0);
        self.last_sent.insert(key, now);
        (self.sink)(event);
    }
}

#[cfg(test)]
mod tests;
