//! Progress events at most a few times a second, with the speed over a sliding window.
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::DownloadEvent;

/// The least time between two progress events.
const EMIT_EVERY: Duration = Duration::from_millis(200);
/// The speed is measured over about this long.
const WINDOW: Duration = Duration::from_secs(3);
/// The least time between two samples of the window.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

pub(super) struct Meter {
    /// `(when, bytes done)`, oldest first; never empty.
    samples: VecDeque<(Instant, u64)>,
    last_emit: Option<Instant>,
}

impl Meter {
    pub(super) fn new(done: u64) -> Meter {
        let mut meter = Meter {
            samples: VecDeque::new(),
            last_emit: None,
        };
        meter.reset(done);
        meter
    }

    /// Starts measuring again from `done` (after the partial file was emptied).
    pub(super) fn reset(&mut self, done: u64) {
        self.samples.clear();
        self.samples.push_back((Instant::now(), done));
    }

    /// A progress event when the last one is old enough.
    pub(super) fn tick(&mut self, done: u64, total: Option<u64>) -> Option<DownloadEvent> {
        let now = Instant::now();
        self.sample(now, done);
        let due = self
            .last_emit
            .is_none_or(|last| now.duration_since(last) >= EMIT_EVERY);
        due.then(|| self.event(now, done, total))
    }

    /// The final progress event, whenever the last one was.
    pub(super) fn last(&mut self, done: u64, total: Option<u64>) -> DownloadEvent {
        let now = Instant::now();
        self.sample(now, done);
        self.event(now, done, total)
    }

    fn sample(&mut self, now: Instant, done: u64) {
        let newest = self.samples.back().map(|&(at, _)| at);
        if newest.is_none_or(|at| now.duration_since(at) >= SAMPLE_EVERY) {
            self.samples.push_back((now, done));
        }
        while self.samples.len() > 1
            && self
                .samples
                .get(1)
                .is_some_and(|&(at, _)| now.duration_since(at) >= WINDOW)
        {
            self.samples.pop_front();
        }
    }

    fn event(&mut self, now: Instant, done: u64, total: Option<u64>) -> DownloadEvent {
        self.last_emit = Some(now);
        let bytes_per_second = match self.samples.front() {
            Some(&(at, then)) => {
                let seconds = now.duration_since(at).as_secs_f64();
                if seconds > 0.0 {
                    done.saturating_sub(then) as f64 / seconds
                } else {
                    0.0
                }
            }
            None => 0.0,
        };
        DownloadEvent::Progress {
            done,
            total,
            bytes_per_second,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emits_the_first_tick_then_at_most_every_200_ms() {
        let mut meter = Meter::new(0);
        assert!(meter.tick(10, Some(100)).is_some());
        assert!(meter.tick(20, Some(100)).is_none());
        std::thread::sleep(EMIT_EVERY);
        assert!(meter.tick(30, Some(100)).is_some());
        match meter.last(100, Some(100)) {
            DownloadEvent::Progress {
                done,
                total,
                bytes_per_second,
            } => {
                assert_eq!((done, total), (100, Some(100)));
                assert!(bytes_per_second > 0.0);
            }
            other => panic!("not progress: {other:?}"),
        }
    }

    #[test]
    fn a_resumed_prefix_is_not_counted_as_speed() {
        let mut meter = Meter::new(1_000_000);
        std::thread::sleep(Duration::from_millis(120));
        match meter.last(1_000_100, None) {
            DownloadEvent::Progress {
                bytes_per_second, ..
            } => assert!(bytes_per_second < 10_000.0, "{bytes_per_second}"),
            other => panic!("not progress: {other:?}"),
        }
    }
}
