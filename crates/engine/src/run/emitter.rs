//! Hands events to the caller's callback, keeps the failures and warnings for the
//! manifest, and thins out progress events (a bar needs a few per second, not thousands).
use std::collections::HashMap;
use std::time::{Duration, Instant};

use virnucpro_core::events::{FailureKind, ItemCounts, ItemFailure, RunEvent, Stage, StageOutcome};

const PROGRESS_EVERY: Duration = Duration::from_millis(200);

pub(crate) struct Emitter<'a> {
    on_event: &'a mut dyn FnMut(&RunEvent),
    pub failures: Vec<ItemFailure>,
    pub warnings: Vec<String>,
    /// Per stage: stages run at the same time, and one must not silence another.
    last_progress: HashMap<Stage, Instant>,
}

impl<'a> Emitter<'a> {
    pub fn new(on_event: &'a mut dyn FnMut(&RunEvent)) -> Self {
        Self {
            on_event,
            failures: Vec::new(),
            warnings: Vec::new(),
            last_progress: HashMap::new(),
        }
    }

    pub fn emit(&mut self, event: RunEvent) {
        (self.on_event)(&event);
    }

    pub fn stage_finished(
        &mut self,
        stage: Stage,
        counts: ItemCounts,
        seconds: f64,
        outcome: StageOutcome,
    ) {
        self.emit(RunEvent::StageFinished {
            stage,
            counts,
            seconds,
            outcome,
        });
    }

    /// The progress event `make` builds (none before the stage started), unless one of
    /// this stage went out less than 200 ms ago (`force` always sends).
    pub fn progress(&mut self, stage: Stage, force: bool, make: impl FnOnce() -> Option<RunEvent>) {
        let due = self
            .last_progress
            .get(&stage)
            .is_none_or(|t| t.elapsed() >= PROGRESS_EVERY);
        if !(force || due) {
            return;
        }
        if let Some(event) = make() {
            self.last_progress.insert(stage, Instant::now());
            self.emit(event);
        }
    }

    pub fn failure(&mut self, stage: Stage, item: &str, kind: FailureKind, message: String) {
        tracing::warn!("{stage}: {item}: {kind}: {message}");
        let failure = ItemFailure {
            stage,
            item: item.to_owned(),
            kind,
            message,
        };
        self.emit(RunEvent::Failure(failure.clone()));
        self.failures.push(failure);
    }

    pub fn warning(&mut self, stage: Option<Stage>, message: String) {
        tracing::warn!("{message}");
        self.emit(RunEvent::Warning {
            stage,
            message: message.clone(),
        });
        self.warnings.push(message);
    }
}
