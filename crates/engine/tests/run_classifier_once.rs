//! A run reads its classifier once: validation loads it, and the classify stage uses that
//! one instead of loading it again (the log said "loaded MLP classifier" twice).
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use virnucpro_core::events::RunStatus;
use virnucpro_core::CancelToken;
use virnucpro_engine::run::{run_prediction, RunOptions};

mod common;

/// Counts the events whose message is "loaded MLP classifier", on every thread.
struct CountLoads(Arc<AtomicUsize>);

struct IsLoad(bool);

impl Visit for IsLoad {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" && format!("{value:?}") == "loaded MLP classifier" {
            self.0 = true;
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for CountLoads {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut is_load = IsLoad(false);
        event.record(&mut is_load);
        if is_load.0 {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[test]
fn the_classifier_is_loaded_once_per_run() {
    let loads = Arc::new(AtomicUsize::new(0));
    let subscriber = tracing_subscriber::registry().with(CountLoads(loads.clone()));
    // Global: the classify stage logs from its own thread.
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let out = tempfile::tempdir().unwrap();
    let spec = common::a500_spec(out.path());
    let outcome = run_prediction(
        &spec,
        RunOptions::default(),
        &CancelToken::new(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(outcome.summary.status, RunStatus::Ok);
    assert_eq!(loads.load(Ordering::SeqCst), 1);
}
