//! A model's progress across its files, from the downloader's per-file events.
use crate::download::DownloadEvent;

use super::FetchEvent;

pub struct Meter {
    /// Bytes of finished files and of the current file's kept prefix.
    base: u64,
    total: Option<u64>,
}

impl Meter {
    pub fn new(present: u64, total: Option<u64>) -> Meter {
        Meter {
            base: present,
            total,
        }
    }

    /// A file starts; `resume_from` of its bytes were counted as present already.
    pub fn start_file(&mut self, resume_from: u64) {
        self.base = self.base.saturating_sub(resume_from);
    }

    pub fn finish_file(&mut self, size: u64) {
        self.base += size;
    }

    pub fn relay(&mut self, model: &str, file: &str, event: &DownloadEvent) -> Option<FetchEvent> {
        let (model, file) = (model.to_string(), file.to_string());
        Some(match event {
            DownloadEvent::Progress {
                done,
                bytes_per_second,
                ..
            } => {
                let done = self.base + done;
                let left = self.total.map(|t| t.saturating_sub(done) as f64);
                FetchEvent::Progress {
                    model,
                    file,
                    done,
                    total: self.total,
                    bytes_per_second: *bytes_per_second,
                    seconds_left: left
                        .filter(|_| *bytes_per_second > 0.0)
                        .map(|l| l / bytes_per_second),
                }
            }
            DownloadEvent::Retrying {
                attempt,
                attempts,
                delay,
                reason,
            } => FetchEvent::Retrying {
                model,
                file,
                attempt: *attempt,
                attempts: *attempts,
                delay_seconds: delay.as_secs_f64(),
                reason: reason.clone(),
            },
            DownloadEvent::Restarted { reason } => FetchEvent::Restarted {
                model,
                file,
                reason: *reason,
            },
        })
    }
}
