//! Plain progress lines on stderr when it is not a terminal: a few per stage rather than
//! one per batch; stages that run at the same time interleave their lines.
use std::collections::HashMap;
use std::time::{Duration, Instant};

use virnucpro_core::events::{RunEvent, Stage, StageOutcome};

#[derive(Default)]
pub struct ProgressLines {
    last: HashMap<Stage, Instant>,
    /// The latest throughput line per stage and device, shown when the stage ends.
    devices: Vec<((Stage, String), String)>,
}

const LINE_EVERY: Duration = Duration::from_secs(2);

impl ProgressLines {
    pub fn show(&mut self, event: &RunEvent) {
        match event {
            RunEvent::SampleStarted { .. } => {
                self.last.clear();
                self.devices.clear();
                if let Some(line) = super::sample_line(event) {
                    eprintln!("{line}");
                }
            }
            RunEvent::RunStarted { out_dir, plan } => {
                for line in super::plan_lines(out_dir, plan) {
                    eprintln!("{line}");
                }
            }
            RunEvent::StageStarted { stage, .. } => {
                self.last.insert(*stage, Instant::now());
                eprintln!("[{stage}] started");
            }
            RunEvent::StageProgress {
                stage,
                done,
                total,
                unit,
                rate,
                eta_seconds,
            } => {
                let due = self
                    .last
                    .get(stage)
                    .is_none_or(|t| t.elapsed() >= LINE_EVERY);
                if !due {
                    return;
                }
                self.last.insert(*stage, Instant::now());
                let total = total.map_or(String::new(), |t| format!("/{t}"));
                let eta = eta_seconds.map_or(String::new(), |s| format!(", about {s:.0} s left"));
                eprintln!("[{stage}] {done}{total} {unit} ({rate:.1}/s{eta})");
            }
            RunEvent::DeviceThroughput {
                stage,
                device,
                sequences,
                tokens_per_second,
                ..
            } => {
                let line = format!("{sequences} sequences, {tokens_per_second:.0} tokens/s");
                let key = (*stage, device.clone());
                match self.devices.iter_mut().find(|(k, _)| *k == key) {
                    Some(entry) => entry.1 = line,
                    None => self.devices.push((key, line)),
                }
            }
            RunEvent::Warning { message, .. } => eprintln!("warning: {message}"),
            RunEvent::Failure(f) => eprintln!("{}", super::failure_line(f)),
            RunEvent::StageFinished {
                stage,
                counts,
                seconds,
                outcome,
            } => {
                let ended = match outcome {
                    StageOutcome::Complete => "done in",
                    StageOutcome::Stopped => "stopped after",
                };
                eprintln!(
                    "[{stage}] {ended} {seconds:.1} s: {} computed, {} reused, {} failed",
                    counts.done, counts.reused, counts.failed
                );
                for ((_, device), line) in self.devices.iter().filter(|(k, _)| k.0 == *stage) {
                    eprintln!("  {device}: {line}");
                }
                self.devices.retain(|(k, _)| k.0 != *stage);
            }
            RunEvent::RunFinished(_) => {}
        }
    }
}
