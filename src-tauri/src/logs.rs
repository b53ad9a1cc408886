//! Logging: `tracing` to stderr, and the app's own records (targets `virnucpro*`, info and
//! above) also to the running run's Channel as `log` events for the UI's log tail.
//!
//! The layer never blocks and never calls into the run: it only queues the record, and the
//! run's event loop takes queued records out between events (so a log written while an
//! event is being sent cannot deadlock).
use std::fmt::Write as _;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::api::{LogEvent, LogLevel};

static RUN_LOG: Mutex<Option<Sender<LogEvent>>> = Mutex::new(None);

fn run_log() -> std::sync::MutexGuard<'static, Option<Sender<LogEvent>>> {
    RUN_LOG.lock().unwrap_or_else(|e| e.into_inner())
}

/// Forwards records to the run's queue while a [`Capture`] is alive.
pub struct RunLogLayer;

/// The message, then any other fields as `key=value`, on one line.
#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Line {
    fn text(self) -> String {
        match (self.message.is_empty(), self.fields.is_empty()) {
            (_, true) => self.message,
            (true, false) => self.fields,
            (false, false) => format!("{} {}", self.message, self.fields),
        }
    }
}

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
            return;
        }
        if !self.fields.is_empty() {
            self.fields.push(' ');
        }
        let _ = write!(self.fields, "{}={value:?}", field.name());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.record_debug(field, &value);
        }
    }
}

impl<S: Subscriber> Layer<S> for RunLogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let level = match *meta.level() {
            Level::ERROR => LogLevel::Error,
            Level::WARN => LogLevel::Warn,
            Level::INFO => LogLevel::Info,
            _ => return,
        };
        if !meta.target().starts_with("virnucpro") {
            return;
        }
        if let Some(sender) = run_log().as_ref() {
            let mut line = Line::default();
            event.record(&mut line);
            let _ = sender.send(LogEvent {
                level,
                message: line.text(),
            });
        }
    }
}

/// Queues the app's log records for one run until dropped.
pub struct Capture {
    pub records: Receiver<LogEvent>,
}

impl Capture {
    pub fn start() -> Self {
        let (sender, records) = channel();
        *run_log() = Some(sender);
        Self { records }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        *run_log() = None;
    }
}

/// Stderr (`RUST_LOG`, default info) plus the run log layer. Called once at start-up.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter),
        )
        .with(RunLogLayer)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_records_reach_the_capture_and_others_do_not() {
        let subscriber = tracing_subscriber::registry().with(RunLogLayer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!("before any run");
            let capture = Capture::start();
            tracing::info!(target: "virnucpro_engine::run", shard = 3, "merged {}", "output_3");
            tracing::warn!(target: "virnucpro_core::fasta", "skipping a file");
            tracing::debug!(target: "virnucpro_engine::run", "too chatty");
            tracing::error!(target: "tao::platform", "not ours");
            let got: Vec<LogEvent> = capture.records.try_iter().collect();
            assert_eq!(
                got,
                [
                    LogEvent {
                        level: LogLevel::Info,
                        message: "merged output_3 shard=3".into()
                    },
                    LogEvent {
                        level: LogLevel::Warn,
                        message: "skipping a file".into()
                    }
                ]
            );
            drop(capture);
            tracing::error!(target: "virnucpro_engine", "after the run");
        });
    }
}
