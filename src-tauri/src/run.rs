//! One prediction run at a time: the engine's `run_prediction` (or `run_samples`, for a run
//! of samples) on a blocking thread, its events (and the app's log records) through the
//! [`Throttler`] to a sink (the run's Channel), cancellation, and waiting for a run to stop
//! (closing the window).
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use virnucpro_core::events::{RunEvent, RunSummary};
use virnucpro_core::run_folder::samples::Sample;
use virnucpro_core::CancelToken;
use virnucpro_engine::run::{
    run_prediction, run_samples, RunOptions, RunSpec, SampleOutcome, SamplesOutcome,
};

use crate::api::{RunResult, SampleResult, ShellEvent};
use crate::error::{CommandError, CommandResult, ErrorKind};
use crate::logs::Capture;
use crate::throttle::{Throttler, INTERVAL};

/// How often held-back progress is looked at while the engine is quiet.
const TICK: Duration = Duration::from_millis(40);

#[derive(Default)]
struct Inner {
    /// The cancel token of the run going on, if any.
    current: Mutex<Option<CancelToken>>,
    stopped: Condvar,
}

/// Whether a run is going, and how to stop it. Cheap to clone.
#[derive(Clone, Default)]
pub struct RunManager {
    inner: Arc<Inner>,
}

/// Marks the run as going until dropped (also when the run thread panics).
pub struct RunSlot {
    inner: Arc<Inner>,
    pub cancel: CancelToken,
}

impl Drop for RunSlot {
    fn drop(&mut self) {
        *lock(&self.inner.current) = None;
        self.inner.stopped.notify_all();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values stay valid whatever panicked while holding them.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl RunManager {
    pub fn new() -> Self {
        Self::default()
    }

    /// Take the one run slot; `busy` while another run holds it.
    pub fn begin(&self) -> CommandResult<RunSlot> {
        let mut current = lock(&self.inner.current);
        if current.is_some() {
            return Err(CommandError::new(
                ErrorKind::Busy,
                "a run is going; wait for it to end or cancel it first",
            ));
        }
        let cancel = CancelToken::new();
        *current = Some(cancel.clone());
        Ok(RunSlot {
            inner: self.inner.clone(),
            cancel,
        })
    }

    pub fn is_running(&self) -> bool {
        lock(&self.inner.current).is_some()
    }

    /// Ask the run to stop at its next batch boundary; `false` when none is going.
    pub fn cancel(&self) -> bool {
        match lock(&self.inner.current).as_ref() {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Wait until no run is going; `false` if one still is after `timeout`.
    pub fn wait_stopped(&self, timeout: Duration) -> bool {
        let current = lock(&self.inner.current);
        let (current, _) = self
            .inner
            .stopped
            .wait_timeout_while(current, timeout, |c| c.is_some())
            .unwrap_or_else(|e| e.into_inner());
        current.is_none()
    }
}

/// The throttler and the log queue, shared by the engine's thread and the ticker.
struct Events<S: FnMut(ShellEvent)> {
    throttler: Throttler<S>,
    logs: Capture,
}

impl<S: FnMut(ShellEvent)> Events<S> {
    /// Queued log records first (they happened before `event` reached us), then `event`;
    /// without one, held-back progress that is due.
    fn push(&mut self, event: Option<ShellEvent>) {
        let now = Instant::now();
        for record in self.logs.records.try_iter() {
            self.throttler.push(ShellEvent::Log(record), now);
        }
        match event {
            Some(event) => self.throttler.push(event, now),
            None => self.throttler.tick(now),
        }
    }
}

/// Run `spec` to its end on this thread, sending events to `sink` (thinned as the
/// throttler's rules say); with `samples`, each sample in its own folder under
/// `spec.out_dir` (`spec.inputs` is not used). Returns the result also for cancelled and
/// partial runs; an error only when the engine could not run it (settings, I/O).
pub fn execute(
    spec: &RunSpec,
    samples: &[Sample],
    restart: bool,
    cancel: &CancelToken,
    sink: impl FnMut(ShellEvent) + Send,
) -> CommandResult<RunResult> {
    let events = Mutex::new(Events {
        // One run_finished per sample: the stream ends after the last.
        throttler: Throttler::for_runs(sink, samples.len()),
        logs: Capture::start(),
    });
    let done = AtomicBool::new(false);
    let started = Instant::now();
    let result = std::thread::scope(|scope| {
        // Sends progress the engine has gone quiet on (a long batch) once it is due.
        scope.spawn(|| {
            while !done.load(Ordering::Acquire) {
                std::thread::sleep(TICK.min(INTERVAL));
                lock(&events).push(None);
            }
        });
        let on_event = &mut |event: &RunEvent| {
            lock(&events).push(Some(ShellEvent::Run(event.clone())));
        };
        let options = RunOptions { restart };
        let result = if samples.is_empty() {
            run_prediction(spec, options, cancel, on_event).map(|outcome| RunResult {
                summary: outcome.summary,
                samples: Vec::new(),
                summary_table: None,
            })
        } else {
            run_samples(spec, samples, options, cancel, on_event)
                .map(|outcome| samples_result(spec, &outcome, started.elapsed().as_secs_f64()))
        };
        done.store(true, Ordering::Release);
        result
    });
    match &result {
        Ok(result) => tracing::info!(
            "run in {} ended: {:?}, {} sample(s), {} failure(s)",
            spec.out_dir.display(),
            result.summary.status,
            result.samples.len(),
            result.summary.failures
        ),
        Err(e) => tracing::error!("run in {} stopped: {e}", spec.out_dir.display()),
    }
    // Logs of the end (and, after an error, held progress) still go out; after the last
    // run_finished the throttler drops them.
    let mut events = lock(&events);
    events.push(None);
    events.throttler.close(Instant::now());
    Ok(result?)
}

/// A run of samples as the UI gets it: each sample's end, and the whole run's summary
/// (its status, the samples' counts and failures summed, `seconds` of the whole run).
fn samples_result(spec: &RunSpec, outcome: &SamplesOutcome, seconds: f64) -> RunResult {
    let samples: Vec<SampleResult> = outcome.samples.iter().map(sample_result).collect();
    let mut total = RunSummary {
        status: outcome.status(),
        reads: 0,
        chunks: 0,
        frames_scored: 0,
        virus_chunks: 0,
        virus_reads: 0,
        failures: 0,
        seconds,
        out_dir: spec.out_dir.clone(),
    };
    for summary in samples.iter().filter_map(|s| s.summary.as_ref()) {
        total.reads += summary.reads;
        total.chunks += summary.chunks;
        total.frames_scored += summary.frames_scored;
        total.virus_chunks += summary.virus_chunks;
        total.virus_reads += summary.virus_reads;
        total.failures += summary.failures;
    }
    RunResult {
        summary: total,
        samples,
        summary_table: outcome.summary.clone(),
    }
}

fn sample_result(outcome: &SampleOutcome) -> SampleResult {
    let (summary, error) = match &outcome.result {
        Ok(run) => (Some(run.summary.clone()), None),
        Err(e) => (None, Some(e.to_string())),
    };
    SampleResult {
        name: outcome.name.clone(),
        out_dir: outcome.out_dir.clone(),
        status: outcome.status(),
        summary,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_run_at_a_time_and_waiting_for_its_end() {
        let runs = RunManager::new();
        assert!(!runs.is_running());
        assert!(!runs.cancel());
        let slot = runs.begin().unwrap();
        assert!(runs.is_running());
        assert_eq!(runs.begin().err().map(|e| e.kind), Some(ErrorKind::Busy));
        assert!(runs.cancel());
        assert!(slot.cancel.is_cancelled());
        assert!(!runs.wait_stopped(Duration::from_millis(20)));
        let waiter = {
            let runs = runs.clone();
            std::thread::spawn(move || runs.wait_stopped(Duration::from_secs(10)))
        };
        std::thread::sleep(Duration::from_millis(50));
        drop(slot);
        assert!(waiter.join().unwrap());
        assert!(!runs.is_running());
        let again = runs.begin().unwrap();
        assert!(!again.cancel.is_cancelled(), "a new run gets a new token");
    }
}
