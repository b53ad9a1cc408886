//! The stages of a run, overlapped at shard granularity:
//!
//! ```text
//! prepare ─shard i─▶ embed engine (reader → feeder → one worker per device, both models
//!                    loaded on each; DNA job then protein job per shard) ─feature files─▶
//!    merge threads (--merge-threads) ─merged shard i─▶ classify thread (first device)
//! ```
//!
//! Every thread reports to one channel read by the calling thread (the hub), which owns
//! the per-shard state, hands each shard to the next stage as soon as it is ready, and
//! emits the run's events (the event callback is not `Send`). The devices embed shard
//! `i + 1` while shard `i` is merged and classified, and while prepare writes later shards.
//! Only a few shards' rows are in memory at any time.
//!
//! Failures of a shard are reported as they happen and the shard goes no further; a fatal
//! error or a cancel stops every thread at its next boundary (a batch, a pair, a shard).
//!
//! By job: [`threads`] starts the stage threads and holds the channels, [`shard`] is each
//! shard's state machine, [`stages`] turns the threads' messages into shard steps and
//! stage bookkeeping, and [`report_reuse`] decides between classifying and keeping an
//! earlier run's reports, and puts the reports in place.
mod report_reuse;
mod shard;
mod stages;
mod threads;
mod window;

use std::time::Duration;

use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError};
use tch::Device;
use virnucpro_core::events::Stage;
use virnucpro_core::CancelToken;

use super::book::StageBook;
use super::classify_stage::ClassifyOutput;
use super::emitter::Emitter;
use super::prepared::Prepared;
use super::{RunError, ValidatedRun};
use crate::embed::{EmbedOptions, EngineModel};
use report_reuse::ReportReuse;
use shard::Shards;
use threads::{Msg, Outlets, PrepareWork};
use virnucpro_core::run_folder::files::FileEntry;
use virnucpro_core::run_folder::layout::RunLayout;
use virnucpro_core::run_folder::manifest::{DeviceRecord, ModelLoad, ReportsRecord, StageRecord};
use virnucpro_core::run_folder::reports_stamp::ReportsStamp;

/// How often the hub looks at the cancel token when no message comes.
const CANCEL_POLL: Duration = Duration::from_millis(100);

/// Everything the stages need, fixed for the run.
pub(super) struct Setup<'a> {
    /// Mutable only to lend its classifier to the classify thread.
    pub run: &'a mut ValidatedRun,
    pub layout: &'a RunLayout,
    pub prepare_threads: usize,
    /// Shards merged at once.
    pub merge_threads: usize,
    pub embed: EmbedOptions,
    /// The classifier's device: the first selected device.
    pub classify_device: Device,
    /// An earlier prepare to reuse, or the inputs and settings of a new one.
    pub reuse_prepared: Option<Prepared>,
    pub input_entries: &'a [FileEntry],
    /// Reports of an earlier run that are kept if every merged shard turns out unchanged.
    pub reports: Option<ReportsStamp>,
    pub classifier_id: &'a str,
    /// Features and merged rows go to files (kept) instead of staying in memory.
    pub keep_features: bool,
    /// What each shard's scores file is recorded with (`run_folder::scores::scores_model`).
    pub scores_model: String,
}

/// What the stages produced.
pub(super) struct Finished {
    /// `None` when the run stopped before prepare finished.
    pub prepared: Option<Prepared>,
    pub cancelled: bool,
    /// Shards whose rows are in the reports.
    pub scored: usize,
    /// Failed shards' names: their merged files are removed.
    pub failed_shards: Vec<String>,
    pub frames_scored: u64,
    pub virus_chunks: u64,
    pub virus_reads: u64,
    pub stages: Vec<StageRecord>,
    /// What each device did in the embedding stages.
    pub devices: Vec<DeviceRecord>,
    /// Where the reports are (this run's, an earlier run's, or none).
    pub reports: ReportsRecord,
}

/// Run every stage; the calling thread is the hub.
pub(super) fn run_stages(
    setup: Setup,
    cancel: &CancelToken,
    events: &mut Emitter,
) -> Result<Finished, RunError> {
    // Stops the stages on a fatal error without claiming the user cancelled.
    let halt = cancel.child();
    let layout = setup.layout;
    let run = setup.run;
    let mut dirs = vec![layout.scores(), layout.reports_staging()];
    if setup.keep_features {
        dirs.extend([layout.features(), layout.merged()]);
    }
    for dir in dirs {
        std::fs::create_dir_all(&dir).map_err(super::io_error(&dir))?;
    }
    let models = [&run.dnabert, &run.esm].map(|m| EngineModel {
        kind: m.kind.feature_kind(),
        model: &m.model_id,
        tokenizer: m.tokenizer.as_ref(),
        factory: m.factory.as_ref(),
    });
    let (tx, rx) = unbounded::<Msg>();
    let (outlets, inlets) = threads::work_channels();
    let reuse = ReportReuse::new(
        setup.reports,
        setup.classifier_id,
        setup.classify_device,
        run.spec.length,
    );
    let scores = ScoresSetting {
        keep_features: setup.keep_features,
        model: setup.scores_model,
    };
    let devices = setup.embed.devices.len();
    let mut hub = Hub::new(
        layout,
        events,
        outlets,
        reuse,
        scores,
        devices,
        (&halt, cancel),
    );
    std::thread::scope(|scope| {
        match setup.reuse_prepared {
            Some(prepared) => hub.prepared_all(prepared),
            None => {
                let work = PrepareWork {
                    layout,
                    inputs: &run.spec.inputs,
                    entries: setup.input_entries,
                    settings: (run.spec.length, run.spec.shard_size, setup.prepare_threads),
                    pairing: &run.spec.pairing,
                };
                hub.book.start(Stage::Prepare, hub.events);
                threads::spawn_prepare(scope, tx.clone(), work, &halt);
            }
        }
        let features_dir = setup.keep_features.then(|| layout.features());
        let features = (features_dir, &setup.embed);
        threads::spawn_embedding(scope, tx.clone(), &models, inlets.jobs, features, &halt);
        threads::spawn_merges(scope, &tx, inlets.merge, setup.merge_threads, &halt);
        let classifier = (&mut run.classifier, setup.classify_device);
        let staging = layout.reports_staging();
        threads::spawn_classify(scope, tx.clone(), classifier, staging, inlets.classify);
        drop(tx);
        hub.serve(rx);
    });
    hub.end()
}

/// How the run keeps each shard's rows and scores.
struct ScoresSetting {
    keep_features: bool,
    /// The `model` of the shards' scores files.
    model: String,
}

/// The calling thread while the stages run: it owns every shard's state and the run's
/// events, and hands out work.
struct Hub<'s, 'e, 'a> {
    layout: &'s RunLayout,
    scores: ScoresSetting,
    book: StageBook,
    events: &'s mut Emitter<'e>,
    shards: Shards,
    outlets: Outlets,
    /// The first shard not yet handed to classify (shards are classified in order).
    next_classify: usize,
    reuse: ReportReuse<'a>,
    prepared: Option<Prepared>,
    prepare_done: bool,
    prepare_reused: bool,
    classify_output: Option<ClassifyOutput>,
    devices: DeviceBook,
    /// Shards whose embedding waits for the shards before them to be scored.
    window: window::Window,
    error: Option<RunError>,
    stopping: bool,
    /// Stops the threads on a fatal error; `cancel` is the user's.
    halt: &'a CancelToken,
    cancel: &'a CancelToken,
}

impl<'s, 'e, 'a> Hub<'s, 'e, 'a> {
    fn new(
        layout: &'s RunLayout,
        events: &'s mut Emitter<'e>,
        outlets: Outlets,
        reuse: ReportReuse<'a>,
        scores: ScoresSetting,
        // Sizes the window of shards in flight: two per device, and a few more.
        devices: usize,
        (halt, cancel): (&'a CancelToken, &'a CancelToken),
    ) -> Self {
        Self {
            layout,
            scores,
            book: StageBook::new(),
            events,
            shards: Shards::default(),
            outlets,
            next_classify: 0,
            reuse,
            prepared: None,
            prepare_done: false,
            prepare_reused: false,
            classify_output: None,
            devices: DeviceBook::default(),
            window: window::Window::new(devices),
            error: None,
            stopping: false,
            halt,
            cancel,
        }
    }

    fn serve(&mut self, rx: Receiver<Msg>) {
        loop {
            if self.cancel.is_cancelled() {
                self.stop(None);
            }
            match rx.recv_timeout(CANCEL_POLL) {
                Ok(msg) => self.handle(msg),
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
            }
            self.settle();
        }
    }

    /// Stop handing out work and let every thread end at its next boundary.
    fn stop(&mut self, error: Option<RunError>) {
        if let Some(e) = error {
            tracing::error!("the run stops: {e}");
            self.halt.cancel();
            self.error.get_or_insert(e);
        }
        self.stopping = true;
        self.outlets.close_all();
    }

    /// After every thread ended: the outcome, or the error that stopped the run.
    fn end(mut self) -> Result<Finished, RunError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let cancelled = self.stopping;
        if !cancelled && !self.book.is_complete(Stage::Classify) {
            let message = "the run ended before the reports were complete";
            return Err(RunError::Worker(message.into()));
        }
        // A cancelled run ends the stages it started with what they completed.
        self.book.close_started(self.events);
        let (frames_scored, virus_chunks, virus_reads) = self.report_figures();
        let reports = self.place_reports()?;
        Ok(Finished {
            cancelled,
            scored: self.shards.scored(),
            failed_shards: self.shards.failed_names(),
            frames_scored,
            virus_chunks,
            virus_reads,
            stages: std::mem::take(&mut self.book.records),
            devices: std::mem::take(&mut self.devices.records),
            prepared: self.prepared,
            reports,
        })
    }
}

/// The devices' records for the manifest: each model load as it is reported, then each
/// device's totals when the embedding engine ends.
#[derive(Default)]
struct DeviceBook {
    records: Vec<DeviceRecord>,
}

impl DeviceBook {
    fn record(&mut self, device: &str) -> &mut DeviceRecord {
        let at = match self.records.iter().position(|r| r.device == device) {
            Some(at) => at,
            None => {
                self.records.push(DeviceRecord {
                    device: device.to_owned(),
                    loads: Vec::new(),
                    sequences: 0,
                    tokens: 0,
                    forward_seconds: 0.0,
                    idle_seconds: 0.0,
                });
                self.records.len() - 1
            }
        };
        &mut self.records[at]
    }

    fn loaded(&mut self, device: String, model: String, seconds: f64) {
        self.record(&device)
            .loads
            .push(ModelLoad { model, seconds });
    }

    fn worked(&mut self, stats: &[crate::embed::DeviceStats]) {
        for s in stats
            .iter()
            .filter(|s| s.sequences > 0 || s.wait_seconds > 0.0)
        {
            let record = self.record(&s.device);
            record.sequences = s.sequences as u64;
            record.tokens = s.tokens as u64;
            record.forward_seconds = s.seconds;
            record.idle_seconds = s.wait_seconds;
        }
    }
}
