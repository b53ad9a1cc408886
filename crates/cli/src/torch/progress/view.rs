//! What the progress bars show, worked out from the run's events; kept apart from the
//! drawing so that it can be tested without a terminal.
use virnucpro_core::events::{ItemCounts, RunEvent, Stage, StageOutcome};

/// One stage's bar.
#[derive(Debug, Clone, PartialEq)]
pub struct StageBar {
    pub stage: Stage,
    pub done: u64,
    pub total: Option<u64>,
    pub unit: String,
    /// Units per second since the stage started, and the seconds left at that rate.
    pub rate: f64,
    pub eta_seconds: Option<f64>,
    /// `(device, tokens per second)` of an embedding stage, in first-seen order.
    pub devices: Vec<(String, f64)>,
    /// Counts, seconds and how it ended, once the stage has ended.
    pub finished: Option<(ItemCounts, f64, StageOutcome)>,
}

impl StageBar {
    fn new(stage: Stage, total: Option<u64>, unit: &str) -> Self {
        Self {
            stage,
            done: 0,
            total,
            unit: unit.to_owned(),
            rate: 0.0,
            eta_seconds: None,
            devices: Vec::new(),
            finished: None,
        }
    }

    /// The text beside the bar: rate and time left, then each device's throughput; at the
    /// end, what the stage did.
    pub fn message(&self) -> String {
        if let Some((c, seconds, outcome)) = self.finished {
            let ended = match outcome {
                StageOutcome::Complete => "done in",
                StageOutcome::Stopped => "stopped after",
            };
            return format!(
                "{ended} {}: {} computed, {} reused, {} failed",
                duration(seconds),
                c.done,
                c.reused,
                c.failed
            );
        }
        let mut parts = vec![format!("{} {}/s", count(self.rate), self.unit)];
        if let Some(eta) = self.eta_seconds {
            parts.push(format!("{} left", duration(eta)));
        }
        let mut text = parts.join(", ");
        for (device, tokens_per_second) in &self.devices {
            text.push_str(&format!(
                " · {device} {} tokens/s",
                count(*tokens_per_second)
            ));
        }
        text
    }
}

/// What an event changed.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A bar appeared (index into [`View::bars`]).
    Added(usize),
    Updated(usize),
    Finished(usize),
    /// A line to print above the bars.
    Line(String),
    /// A new sample starts: the earlier bars are done with, and indices count from 0 again.
    Reset,
}

/// Every stage's bar, in the order the stages started.
#[derive(Debug, Default)]
pub struct View {
    pub bars: Vec<StageBar>,
}

impl View {
    fn find(&self, stage: Stage) -> Option<usize> {
        self.bars.iter().position(|b| b.stage == stage)
    }

    /// The bar of `stage`, added when an event comes before its `stage_started`.
    fn bar(&mut self, stage: Stage, changes: &mut Vec<Change>) -> usize {
        match self.find(stage) {
            Some(i) => i,
            None => {
                self.bars.push(StageBar::new(stage, None, stage.unit()));
                changes.push(Change::Added(self.bars.len() - 1));
                self.bars.len() - 1
            }
        }
    }

    pub fn apply(&mut self, event: &RunEvent) -> Vec<Change> {
        let mut changes = Vec::new();
        match event {
            RunEvent::SampleStarted { .. } => {
                self.bars.clear();
                changes.push(Change::Reset);
                changes.extend(super::sample_line(event).map(Change::Line));
            }
            RunEvent::RunStarted { out_dir, plan } => {
                let lines = super::plan_lines(out_dir, plan);
                changes.extend(lines.into_iter().map(Change::Line));
            }
            RunEvent::StageStarted { stage, total, unit } => match self.find(*stage) {
                Some(i) => changes.push(Change::Updated(i)),
                None => {
                    self.bars.push(StageBar::new(*stage, *total, unit));
                    changes.push(Change::Added(self.bars.len() - 1));
                }
            },
            RunEvent::StageProgress {
                stage,
                done,
                total,
                rate,
                eta_seconds,
                ..
            } => {
                let i = self.bar(*stage, &mut changes);
                let bar = &mut self.bars[i];
                bar.done = *done;
                bar.total = total.or(bar.total);
                bar.rate = *rate;
                bar.eta_seconds = *eta_seconds;
                changes.push(Change::Updated(i));
            }
            RunEvent::DeviceThroughput {
                stage,
                device,
                tokens_per_second,
                ..
            } => {
                let i = self.bar(*stage, &mut changes);
                let devices = &mut self.bars[i].devices;
                match devices.iter_mut().find(|(d, _)| d == device) {
                    Some(entry) => entry.1 = *tokens_per_second,
                    None => devices.push((device.clone(), *tokens_per_second)),
                }
                changes.push(Change::Updated(i));
            }
            RunEvent::Warning { message, .. } => {
                changes.push(Change::Line(format!("warning: {message}")))
            }
            RunEvent::Failure(f) => changes.push(Change::Line(super::failure_line(f))),
            RunEvent::StageFinished {
                stage,
                counts,
                seconds,
                outcome,
            } => {
                let i = self.bar(*stage, &mut changes);
                let bar = &mut self.bars[i];
                bar.finished = Some((*counts, *seconds, *outcome));
                // A stage that reused everything made no progress of its own; a stopped
                // one keeps the count it reached.
                if let (Some(total), StageOutcome::Complete) = (bar.total, outcome) {
                    bar.done = bar.done.max(total);
                }
                changes.push(Change::Finished(i));
            }
            RunEvent::RunFinished(_) => {}
        }
        changes
    }
}

/// `950`, `12.3k`, `4.56M`: a count or rate at a glance.
pub fn count(value: f64) -> String {
    let value = value.max(0.0);
    if value < 1_000.0 {
        format!("{value:.0}")
    } else if value < 1_000_000.0 {
        format!("{:.1}k", value / 1_000.0)
    } else {
        format!("{:.2}M", value / 1_000_000.0)
    }
}

/// `42s`, `3m 07s`, `2h 05m`.
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "?".into();
    }
    if seconds < 10.0 {
        return format!("{seconds:.1}s");
    }
    // Display only: whole seconds are enough, and run times fit a u64 many times over.
    let s = seconds.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(stage: Stage, done: u64, total: Option<u64>) -> RunEvent {
        RunEvent::StageProgress {
            stage,
            done,
            total,
            unit: "sequences".into(),
            rate: 1500.0,
            eta_seconds: Some(75.0),
        }
    }

    #[test]
    fn bars_follow_interleaved_stages() {
        let mut view = View::default();
        let started = |stage, total| RunEvent::StageStarted {
            stage,
            total,
            unit: "sequences".into(),
        };
        assert_eq!(
            view.apply(&started(Stage::EmbedDna, None)),
            vec![Change::Added(0)]
        );
        assert_eq!(
            view.apply(&started(Stage::EmbedProtein, None)),
            vec![Change::Added(1)]
        );
        // The total becomes known once prepare has written every shard.
        view.apply(&progress(Stage::EmbedDna, 40, Some(329)));
        let changes = view.apply(&RunEvent::DeviceThroughput {
            stage: Stage::EmbedDna,
            device: "cuda:0".into(),
            sequences: 40,
            tokens: 5000,
            tokens_per_second: 68_400.0,
            elapsed_seconds: 3.0,
        });
        assert_eq!(changes, vec![Change::Updated(0)]);
        let dna = &view.bars[0];
        assert_eq!((dna.done, dna.total), (40, Some(329)));
        assert_eq!(
            dna.message(),
            "1.5k sequences/s, 1m 15s left · cuda:0 68.4k tokens/s"
        );
        assert_eq!(view.bars[1].total, None);
        // A progress event before its stage_started still gets a bar.
        assert_eq!(
            view.apply(&progress(Stage::Merge, 1, Some(9))),
            vec![Change::Added(2), Change::Updated(2)]
        );
        let finished = view.apply(&RunEvent::StageFinished {
            stage: Stage::EmbedDna,
            counts: ItemCounts {
                done: 7,
                reused: 2,
                failed: 0,
            },
            seconds: 12.34,
            outcome: StageOutcome::Complete,
        });
        assert_eq!(finished, vec![Change::Finished(0)]);
        assert_eq!(view.bars[0].done, 329);
        assert_eq!(
            view.bars[0].message(),
            "done in 12s: 7 computed, 2 reused, 0 failed"
        );
    }

    #[test]
    fn a_stopped_stage_keeps_its_count() {
        let mut view = View::default();
        view.apply(&RunEvent::StageStarted {
            stage: Stage::EmbedDna,
            total: Some(12_061),
            unit: "sequences".into(),
        });
        view.apply(&RunEvent::StageProgress {
            stage: Stage::EmbedDna,
            done: 240,
            total: Some(12_061),
            unit: "sequences".into(),
            rate: 80.0,
            eta_seconds: Some(148.0),
        });
        view.apply(&RunEvent::StageFinished {
            stage: Stage::EmbedDna,
            counts: ItemCounts::default(),
            seconds: 3.0,
            outcome: StageOutcome::Stopped,
        });
        assert_eq!(view.bars[0].done, 240);
        assert_eq!(
            view.bars[0].message(),
            "stopped after 3.0s: 0 computed, 0 reused, 0 failed"
        );
    }

    #[test]
    fn plan_warnings_and_failures_become_lines() {
        let mut view = View::default();
        let changes = view.apply(&RunEvent::Warning {
            stage: None,
            message: "cuda:0: out of memory".into(),
        });
        assert_eq!(
            changes,
            vec![Change::Line("warning: cuda:0: out of memory".into())]
        );
        assert!(view.bars.is_empty());
    }

    #[test]
    fn counts_and_durations_read_at_a_glance() {
        assert_eq!(count(950.4), "950");
        assert_eq!(count(12_345.0), "12.3k");
        assert_eq!(count(4_560_000.0), "4.56M");
        assert_eq!(duration(4.3), "4.3s");
        assert_eq!(duration(42.0), "42s");
        assert_eq!(duration(187.0), "3m 07s");
        assert_eq!(duration(7500.0), "2h 05m");
        assert_eq!(duration(f64::NAN), "?");
    }
}
