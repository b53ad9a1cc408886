//! The stages of a run, overlapped at shard granularity:
//!
//! ```text
//! prepare ─shard i─▶ embed engine (reader → feeder → one worker per device, both models
//!                    loaded on each; DNA job then protein job per shard) ─feature files─▶
//!          merge threads (--threads) ─merged shard i─▶ classify thread (first device)
//! ```
//!
//! Every thread reports to one channel read by the calling thread (the hub below), which
//! owns the per-shard state, hands each shard to the next stage as soon as it is ready,
//! and emits the run's events (the event callback is not `Send`). The devices embed shard
//! `i + 1` while shard `i` is merged and classified, and while prepare writes later shards.
//! Only a few shards' rows are in memory at any time.
//!
//! Failures of a shard are reported as they happen and the shard goes no further; a fatal
//! error or a cancel stops every thread at its next boundary (a batch, a pair, a shard).
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError, Sender};
use virnucpro_core::events::Stage;
use virnucpro_core::features::{checksum_file, FeatureFile, FeatureKind};
use virnucpro_core::merge::{merge_one, FailureKind as MergeFailure, MergeOptions, PairOutcome};
use virnucpro_core::merge::{PairReport, PairSpec};
use virnucpro_core::report::{HIGHESTSCORE_FILE, RESULTS_FILE};
use virnucpro_core::CancelToken;

use super::book::StageBook;
use super::classify_stage::{classify_thread, ClassifyCmd, ClassifyMsg, ClassifyOutput};
use super::cleanup::remove_stale_shards;
use super::emitter::Emitter;
use super::layout::RunLayout;
use super::manifest::{ReportsRecord, ReportsState};
use super::prepared::{run_prepare, Prepared, ShardInfo};
use super::reports_stamp::{self, ReportsStamp};
use super::{RunError, ValidatedRun};
use crate::classifier::ScoreError;
use crate::embed::{
    embed_stream, EmbedError, EmbedEvent, EmbedOptions, EmbedReport, EngineModel, FailureKind,
    FileJob, FileStatus,
};

/// How often the hub looks at the cancel token when no message comes.
const CANCEL_POLL: Duration = Duration::from_millis(100);

/// Everything the stages need, fixed for the run.
pub(super) struct Setup<'a> {
    /// Mutable only to lend its classifier to the classify thread.
    pub run: &'a mut ValidatedRun,
    pub layout: &'a RunLayout,
    pub threads: usize,
    pub embed: EmbedOptions,
    /// The classifier's device: the first selected device.
    pub classify_device: tch::Device,
    /// An earlier prepare to reuse, or the inputs and settings of a new one.
    pub reuse_prepared: Option<Prepared>,
    pub input_entries: &'a [super::files::FileEntry],
    /// Reports of an earlier run that are kept if every merged shard turns out unchanged.
    pub reports: Option<ReportsStamp>,
    pub classifier_id: &'a str,
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
    pub stages: Vec<super::manifest::StageRecord>,
    /// Where the reports are (this run's, an earlier run's, or none).
    pub reports: ReportsRecord,
}

enum Msg {
    PrepareProgress(u64),
    ShardReady {
        record: ShardInfo,
        staged_root: PathBuf,
    },
    PrepareDone(Result<Option<Prepared>, RunError>),
    Embed(EmbedEvent),
    EmbedDone(Result<EmbedReport, EmbedError>),
    Merged {
        shard: usize,
        report: PairReport,
    },
    Classify(ClassifyMsg),
    /// A stage thread panicked: its work will never be reported.
    Panicked(&'static str),
}

/// Run a stage thread's body; a panic becomes a message, so the hub stops the run instead
/// of waiting for work that will never be reported.
fn guarded(name: &'static str, tx: &Sender<Msg>, body: impl FnOnce()) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).is_err() {
        let _ = tx.send(Msg::Panicked(name));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Waiting,
    Ok,
    Failed,
}

struct Shard {
    record: ShardInfo,
    dna: Step,
    protein: Step,
    merge: Step,
    classify: Step,
}

impl Shard {
    fn new(record: ShardInfo) -> Self {
        Self {
            record,
            dna: Step::Waiting,
            protein: Step::Waiting,
            merge: Step::Waiting,
            classify: Step::Waiting,
        }
    }

    fn name(&self) -> String {
        self.record.name()
    }

    fn failed(&self) -> bool {
        [self.dna, self.protein, self.merge, self.classify].contains(&Step::Failed)
    }

    /// Whether the shard is done with merging: merged, or it never will be.
    fn merge_settled(&self) -> bool {
        self.merge != Step::Waiting || self.dna == Step::Failed || self.protein == Step::Failed
    }
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
    for dir in [layout.features(), layout.merged(), layout.reports_staging()] {
        std::fs::create_dir_all(&dir).map_err(super::io_error(&dir))?;
    }
    let models = [&run.dnabert, &run.esm].map(|m| EngineModel {
        kind: m.kind.feature_kind(),
        model: &m.model_id,
        tokenizer: m.tokenizer.as_ref(),
        factory: m.factory.as_ref(),
    });
    let (tx, rx) = unbounded::<Msg>();
    let (job_tx, job_rx) = unbounded::<FileJob>();
    let (merge_tx, merge_rx) = unbounded::<(usize, PairSpec)>();
    let (classify_tx, classify_rx) = unbounded::<ClassifyCmd>();
    let mut hub = Hub {
        layout,
        book: StageBook::new(),
        events,
        shards: Vec::new(),
        jobs: Vec::new(),
        job_inputs: HashMap::new(),
        job_tx: Some(job_tx),
        merge_tx: Some(merge_tx),
        classify_tx: Some(classify_tx),
        next_classify: 0,
        reports: setup.reports,
        reports_kept: false,
        prepared: None,
        prepare_done: false,
        prepare_reused: false,
        classify_output: None,
        error: None,
        stopping: false,
        halt: &halt,
        cancel,
        classifier_id: setup.classifier_id,
        classify_device: crate::embed::device_label(setup.classify_device),
        length: run.spec.length,
    };
    std::thread::scope(|scope| {
        match setup.reuse_prepared {
            Some(prepared) => hub.prepared_all(prepared),
            None => {
                let tx = tx.clone();
                let (halt, entries, spec) = (&halt, setup.input_entries, &run.spec);
                let settings = (run.spec.length, run.spec.shard_size, setup.threads);
                hub.book.start(Stage::Prepare, hub.events);
                scope.spawn(move || {
                    guarded("prepare", &tx, || {
                        let result = run_prepare(
                            layout,
                            &spec.inputs,
                            entries,
                            settings,
                            halt,
                            &mut |reads| {
                                let _ = tx.send(Msg::PrepareProgress(reads));
                            },
                            &mut |staged| {
                                let _ = tx.send(Msg::ShardReady {
                                    record: staged.info.clone(),
                                    staged_root: staged.staged_root.to_path_buf(),
                                });
                            },
                        );
                        let _ = tx.send(Msg::PrepareDone(result));
                    })
                });
            }
        }
        {
            let (tx, halt, models, options) = (tx.clone(), &halt, &models, &setup.embed);
            let features = layout.features();
            scope.spawn(move || {
                guarded("embedding", &tx, || {
                    let result = embed_stream(models, job_rx, &features, options, halt, &mut |e| {
                        let _ = tx.send(Msg::Embed(e.clone()));
                    });
                    let _ = tx.send(Msg::EmbedDone(result));
                })
            });
        }
        for _ in 0..setup.threads.max(1) {
            let (tx, merge_rx) = (tx.clone(), merge_rx.clone());
            let options = MergeOptions {
                threads: Some(1),
                cancel: halt.clone(),
                ..MergeOptions::default()
            };
            scope.spawn(move || {
                guarded("merge", &tx, || {
                    for (shard, spec) in merge_rx {
                        remove_damaged_merged(&spec.output);
                        let report = merge_one(&spec, &options);
                        let _ = tx.send(Msg::Merged { shard, report });
                    }
                })
            });
        }
        drop(merge_rx);
        {
            let tx = tx.clone();
            let (classifier, device) = (&mut run.classifier, setup.classify_device);
            let staging = layout.reports_staging();
            scope.spawn(move || {
                guarded("classify", &tx, || {
                    classify_thread(classifier, device, &staging, classify_rx, &|m| {
                        let _ = tx.send(Msg::Classify(m));
                    })
                })
            });
        }
        drop(tx);
        hub.serve(rx);
    });
    hub.end()
}

/// Merge reuses a merged file whose header names the same inputs without reading its
/// data; one that fails its data checks is removed first, so that it is merged again
/// instead of being scored.
fn remove_damaged_merged(path: &std::path::Path) {
    if !path.is_file() {
        return;
    }
    if let Err(e) = FeatureFile::open(path).and_then(|file| file.verify_data()) {
        tracing::warn!("{e}; merging it again");
        if let Err(e) = std::fs::remove_file(path) {
            tracing::warn!("cannot remove {}: {e}", path.display());
        }
    }
}

struct Hub<'s, 'e, 'a> {
    layout: &'s RunLayout,
    book: StageBook,
    events: &'s mut Emitter<'e>,
    shards: Vec<Shard>,
    /// The shard and stage of each embedding job, in the order they were handed over.
    jobs: Vec<(usize, Stage)>,
    /// The stage of each embedding job's input file (the engine names a queued file by it).
    job_inputs: HashMap<PathBuf, Stage>,
    job_tx: Option<Sender<FileJob>>,
    merge_tx: Option<Sender<(usize, PairSpec)>>,
    classify_tx: Option<Sender<ClassifyCmd>>,
    /// The first shard not yet handed to classify (shards are classified in order).
    next_classify: usize,
    /// Earlier reports, still candidates for reuse while every merged shard matches.
    reports: Option<ReportsStamp>,
    reports_kept: bool,
    prepared: Option<Prepared>,
    prepare_done: bool,
    prepare_reused: bool,
    classify_output: Option<ClassifyOutput>,
    error: Option<RunError>,
    stopping: bool,
    halt: &'a CancelToken,
    cancel: &'a CancelToken,
    classifier_id: &'a str,
    classify_device: String,
    length: usize,
}

impl Hub<'_, '_, '_> {
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
        self.job_tx = None;
        self.merge_tx = None;
        // Without `Finish` the classify thread drops the unfinished reports.
        self.classify_tx = None;
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::PrepareProgress(reads) => {
                let stage = Stage::Prepare;
                let done = reads.saturating_sub(self.book.done(stage));
                self.book.advance(stage, done, self.events, false);
            }
            Msg::ShardReady {
                record,
                staged_root,
            } => {
                let prepared = self.layout.prepared();
                let paths = [&record.nucleotide, &record.protein]
                    .map(|p| (staged_root.join(p), Some(prepared.join(p))));
                self.add_shard(record, paths);
            }
            Msg::PrepareDone(Ok(Some(prepared))) => self.prepare_finished(prepared),
            Msg::PrepareDone(Ok(None)) => self.stop(None),
            Msg::PrepareDone(Err(e)) => self.stop(Some(e)),
            Msg::Embed(event) => self.embed_event(event),
            Msg::EmbedDone(Ok(report)) => {
                let unfinished = self
                    .shards
                    .iter()
                    .any(|s| s.dna == Step::Waiting || s.protein == Step::Waiting);
                if !self.stopping && unfinished {
                    let message = "the embedding engine ended before every shard was embedded";
                    self.stop(Some(RunError::Worker(message.into())));
                }
                for d in &report.devices {
                    tracing::info!(
                        device = d.device,
                        sequences = d.sequences,
                        forward_seconds = d.seconds,
                        wait_seconds = d.wait_seconds,
                        "embedding worker finished"
                    );
                }
            }
            Msg::EmbedDone(Err(e)) => self.stop(Some(e.into())),
            Msg::Merged { shard, report } => self.merged(shard, report),
            Msg::Classify(ClassifyMsg::Scored { index, result }) => self.scored(index, result),
            Msg::Classify(ClassifyMsg::Done(Ok(output))) => {
                if let Some(output) = output {
                    self.classify_output = Some(output);
                    self.book.complete(Stage::Classify, self.events);
                }
            }
            Msg::Classify(ClassifyMsg::Done(Err(e))) => self.stop(Some(e)),
            Msg::Panicked(stage) => self.stop(Some(RunError::Worker(format!(
                "the {stage} thread panicked"
            )))),
        }
    }

    /// A reused prepare: every shard is ready at once.
    fn prepared_all(&mut self, prepared: Prepared) {
        self.book.start(Stage::Prepare, self.events);
        self.prepare_reused = true;
        // Its reads are all there: the stage says so ("12,000 / 12,000 reads"), not "0 reads".
        let reads = prepared.record.reads;
        self.book.set_total(Stage::Prepare, reads);
        self.book.advance(Stage::Prepare, reads, self.events, true);
        let prepared_dir = self.layout.prepared();
        for record in prepared.record.shards.clone() {
            let paths = [&record.nucleotide, &record.protein].map(|p| (prepared_dir.join(p), None));
            self.add_shard(record, paths);
        }
        self.prepare_finished(prepared);
    }

    fn add_shard(&mut self, record: ShardInfo, paths: [(PathBuf, Option<PathBuf>); 2]) {
        let index = self.shards.len();
        let name = record.name();
        self.shards.push(Shard::new(record));
        let Some(job_tx) = &self.job_tx else {
            return;
        };
        for ((stage, kind), (input, moved_to)) in [
            (Stage::EmbedDna, FeatureKind::Nucleotide),
            (Stage::EmbedProtein, FeatureKind::Protein),
        ]
        .into_iter()
        .zip(paths)
        {
            let job = FileJob {
                model: usize::from(stage == Stage::EmbedProtein),
                input,
                moved_to,
                output: self.layout.feature_file(&name, kind),
            };
            let input = job.input.clone();
            if job_tx.send(job).is_ok() {
                self.jobs.push((index, stage));
                self.job_inputs.insert(input, stage);
                self.book.start(stage, self.events);
            }
        }
    }

    fn prepare_finished(&mut self, prepared: Prepared) {
        let stage = Stage::Prepare;
        if prepared.record.shards.len() != self.shards.len() {
            let message = format!(
                "prepare announced {} shards but wrote {}",
                self.shards.len(),
                prepared.record.shards.len()
            );
            return self.stop(Some(RunError::Worker(message)));
        }
        for warning in &prepared.warnings {
            self.events.warning(Some(stage), warning.clone());
        }
        let records: u64 = self.shards.iter().map(|s| s.record.records as u64).sum();
        self.book.set_total(Stage::EmbedDna, records);
        self.book.set_total(Stage::EmbedProtein, records);
        self.book.set_total(Stage::Merge, self.shards.len() as u64);
        let shards = self.shards.len() as u64;
        let counts = self.book.counts(stage);
        if self.prepare_reused {
            counts.reused = shards;
        } else {
            counts.done = shards;
        }
        if let Err(e) = remove_stale_shards(self.layout, &prepared.record.shards) {
            return self.stop(Some(e));
        }
        self.prepared = Some(prepared);
        self.prepare_done = true;
        // Every job is handed over: the engine ends when it has done them.
        self.job_tx = None;
        self.book.complete(stage, self.events);
    }

    fn embed_event(&mut self, event: EmbedEvent) {
        match event {
            EmbedEvent::BatchDone {
                device,
                model,
                sequences,
                tokens,
                seconds,
            } => {
                let stage = [Stage::EmbedDna, Stage::EmbedProtein][model.min(1)];
                let work = (sequences as u64, tokens as u64, seconds);
                self.book.batch(stage, &device, work, self.events);
            }
            EmbedEvent::BudgetHalved { device, parts } => self.events.warning(
                None,
                format!("{device}: out of memory; batches now run in {parts} pieces"),
            ),
            EmbedEvent::WorkerReady {
                device,
                model,
                load_seconds,
                ..
            } => tracing::info!("{model} loaded on {device} in {load_seconds:.1} s"),
            EmbedEvent::FileQueued {
                input,
                sequences,
                tokens,
                ..
            } => {
                if let Some(&stage) = self.job_inputs.get(&input) {
                    self.book.queued(stage, sequences as u64, tokens as u64);
                }
            }
            EmbedEvent::FileDone(outcome) => {
                let Some(&(index, stage)) = self.jobs.get(outcome.job) else {
                    return;
                };
                // Every file's end is a progress event (its batches were thinned out).
                let mut units = 0;
                let step = match &outcome.status {
                    FileStatus::Written => {
                        self.book.counts(stage).done += 1;
                        Step::Ok
                    }
                    FileStatus::UpToDate => {
                        self.book.counts(stage).reused += 1;
                        units = self.shards[index].record.records as u64;
                        Step::Ok
                    }
                    // Not a failure of the shard: the run is stopping.
                    FileStatus::Failed(f) if f.kind == FailureKind::Cancelled => return,
                    FileStatus::Failed(f) => {
                        self.book.counts(stage).failed += 1;
                        let name = self.shards[index].name();
                        self.events
                            .failure(stage, &name, f.kind.as_str(), f.message.clone());
                        Step::Failed
                    }
                };
                self.book.advance(stage, units, self.events, true);
                let shard = &mut self.shards[index];
                match stage {
                    Stage::EmbedDna => shard.dna = step,
                    _ => shard.protein = step,
                }
                if shard.dna == Step::Ok && shard.protein == Step::Ok {
                    self.dispatch_merge(index);
                }
            }
        }
    }

    fn dispatch_merge(&mut self, index: usize) {
        let Some(merge_tx) = &self.merge_tx else {
            return;
        };
        let shard = self.shards[index].name();
        let spec = PairSpec {
            nucleotide: vec![self.layout.feature_file(&shard, FeatureKind::Nucleotide)],
            protein: vec![self.layout.feature_file(&shard, FeatureKind::Protein)],
            output: self.layout.feature_file(&shard, FeatureKind::Merged),
            shard,
        };
        if merge_tx.send((index, spec)).is_ok() {
            self.book.start(Stage::Merge, self.events);
        }
    }

    fn merged(&mut self, index: usize, report: PairReport) {
        let stage = Stage::Merge;
        let step = match &report.outcome {
            PairOutcome::Merged { .. } => {
                self.book.counts(stage).done += 1;
                Step::Ok
            }
            PairOutcome::Skipped { .. } => {
                self.book.counts(stage).reused += 1;
                Step::Ok
            }
            PairOutcome::Failed(f) if f.kind == MergeFailure::Cancelled => return,
            PairOutcome::Failed(f) => {
                self.book.counts(stage).failed += 1;
                self.events
                    .failure(stage, &report.shard, f.kind.name(), f.to_string());
                Step::Failed
            }
        };
        self.shards[index].merge = step;
        self.book.advance(stage, 1, self.events, true);
    }

    fn scored(&mut self, index: usize, result: Result<u64, ScoreError>) {
        let stage = Stage::Classify;
        let Some(shard) = self.shards.get_mut(index) else {
            return;
        };
        match result {
            Ok(rows) => {
                shard.classify = Step::Ok;
                self.book.counts(stage).done += 1;
                self.book.advance(stage, rows, self.events, true);
            }
            Err(e) => {
                shard.classify = Step::Failed;
                let name = shard.name();
                self.book.counts(stage).failed += 1;
                let kind = match e {
                    ScoreError::Input(_) => "unreadable",
                    _ => "model",
                };
                self.events.failure(stage, &name, kind, e.to_string());
            }
        }
    }

    /// After each message: hand shards to classify, close the channels of stages that
    /// have all their work, and end stages that are complete.
    fn settle(&mut self) {
        if self.stopping {
            return;
        }
        if self.prepare_done {
            self.complete_embed_and_merge();
        }
        self.advance_classify();
    }

    fn complete_embed_and_merge(&mut self) {
        for stage in [Stage::EmbedDna, Stage::EmbedProtein] {
            let resolved = self.shards.iter().all(|s| {
                let step = if stage == Stage::EmbedDna {
                    s.dna
                } else {
                    s.protein
                };
                step != Step::Waiting
            });
            if resolved && !self.book.is_complete(stage) {
                self.book.complete(stage, self.events);
            }
        }
        if self.shards.iter().all(Shard::merge_settled) && !self.book.is_complete(Stage::Merge) {
            self.merge_tx = None;
            let frames: u64 = self
                .shards
                .iter()
                .filter(|s| s.merge == Step::Ok)
                .map(|s| s.record.records as u64)
                .sum();
            self.book.set_total(Stage::Classify, frames);
            self.book.complete(Stage::Merge, self.events);
        }
    }

    /// Hand the merged shards to classify in shard order, or, while earlier reports are
    /// candidates for reuse, check each against them instead.
    fn advance_classify(&mut self) {
        while let Some(shard) = self.shards.get(self.next_classify) {
            if !shard.merge_settled() {
                return;
            }
            let index = self.next_classify;
            if self.reports.is_some() && !self.same_as_reported(index) {
                self.drop_reports(index);
            }
            if self.reports.is_none() && self.shards[index].merge == Step::Ok {
                self.send_classify(index);
            }
            self.next_classify += 1;
        }
        let all_handed = self.prepare_done && self.next_classify == self.shards.len();
        if !all_handed || self.classify_tx.is_none() {
            return;
        }
        let kept = match &self.reports {
            Some(stamp) => stamp.merged.len() == self.shards.len(),
            None => false,
        };
        if self.reports.is_some() && !kept {
            self.drop_reports(self.shards.len());
        }
        if self.cancel.is_cancelled() {
            // Not `Finish`: a cancelled run puts no reports in place.
            return self.stop(None);
        }
        if kept {
            self.keep_reports();
        } else if let (Some(tx), Some(prepared)) = (&self.classify_tx, &self.prepared) {
            self.book.start(Stage::Classify, self.events);
            let _ = tx.send(ClassifyCmd::Finish {
                chunked: self.layout.prepared().join(&prepared.record.chunked),
            });
        }
        self.classify_tx = None;
    }

    /// Whether shard `index` is merged into exactly the file the earlier reports scored.
    fn same_as_reported(&self, index: usize) -> bool {
        let Some(stamp) = &self.reports else {
            return false;
        };
        let shard = &self.shards[index];
        if shard.merge != Step::Ok {
            return false;
        }
        let path = self.layout.feature_file(&shard.name(), FeatureKind::Merged);
        match (stamp.merged.get(index), checksum_file(&path)) {
            (Some(expected), Ok(actual)) => *expected == actual,
            _ => false,
        }
    }

    /// The earlier reports cannot be kept as this run's: classify the shards checked so
    /// far (before `upto`). The earlier reports stay in the folder until this run's are
    /// ready to replace them (`publish`).
    fn drop_reports(&mut self, upto: usize) {
        self.reports = None;
        tracing::info!("the merged shards changed: classifying again");
        for index in 0..upto {
            if self.shards[index].merge == Step::Ok {
                self.send_classify(index);
            }
        }
    }

    fn send_classify(&mut self, index: usize) {
        let Some(tx) = &self.classify_tx else {
            return;
        };
        let name = self.shards[index].name();
        let path = self.layout.feature_file(&name, FeatureKind::Merged);
        if tx.send(ClassifyCmd::Shard { index, path }).is_ok() {
            self.book.start(Stage::Classify, self.events);
        }
    }

    fn keep_reports(&mut self) {
        let stage = Stage::Classify;
        self.book.start(stage, self.events);
        let Some(stamp) = &self.reports else {
            return;
        };
        let frames = stamp.frames_scored;
        for shard in &mut self.shards {
            shard.classify = Step::Ok;
        }
        self.book.counts(stage).reused = self.shards.len() as u64;
        self.book.advance(stage, frames, self.events, true);
        tracing::info!(
            "reports kept: {} and {} were made from the same merged shards, classifier and settings",
            RESULTS_FILE,
            HIGHESTSCORE_FILE
        );
        self.reports_kept = true;
        self.book.complete(stage, self.events);
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
        let (frames_scored, virus_chunks, virus_reads) =
            match (&self.classify_output, &self.reports) {
                (Some(out), _) => (out.rows, out.totals.virus_chunks, out.totals.virus_reads),
                (None, Some(stamp)) if self.reports_kept => {
                    (stamp.frames_scored, stamp.virus_chunks, stamp.virus_reads)
                }
                _ => (0, 0, 0),
            };
        let reports = self.place_reports()?;
        Ok(Finished {
            cancelled,
            scored: self
                .shards
                .iter()
                .filter(|s| s.classify == Step::Ok)
                .count(),
            failed_shards: self
                .shards
                .iter()
                .filter(|s| s.failed())
                .map(Shard::name)
                .collect(),
            frames_scored,
            virus_chunks,
            virus_reads,
            stages: std::mem::take(&mut self.book.records),
            prepared: self.prepared,
            reports,
        })
    }

    /// Put this run's reports where they belong (`publish`) and stamp the usual ones
    /// when they are this run's.
    fn place_reports(&self) -> Result<ReportsRecord, RunError> {
        let io_error = |source| RunError::Io {
            path: self.layout.root.clone(),
            source,
        };
        if self.reports_kept {
            // Verified to be what this run would write: current, and complete.
            super::publish::remove_partial_reports(self.layout).map_err(io_error)?;
            super::publish::remove_staging(self.layout);
            return Ok(ReportsRecord {
                state: ReportsState::Complete,
                partial_files: Vec::new(),
            });
        }
        let Some(output) = &self.classify_output else {
            super::publish::remove_staging(self.layout);
            return Ok(super::publish::untouched(self.layout));
        };
        let complete = self.events.failures.is_empty();
        let record = super::publish::publish(self.layout, complete).map_err(io_error)?;
        if record.state != ReportsState::Earlier {
            self.stamp_reports(output)?;
        }
        Ok(record)
    }

    /// Record what the new reports were made from, for a later resume.
    fn stamp_reports(&self, output: &ClassifyOutput) -> Result<(), RunError> {
        let Some(prepared) = &self.prepared else {
            return Ok(());
        };
        let chunked_path = self.layout.prepared().join(&prepared.record.chunked);
        let merged: Option<Vec<_>> = output.merged.iter().cloned().collect();
        let (Some(merged), Ok(chunked), Ok(outputs)) = (
            merged,
            checksum_file(&chunked_path),
            reports_stamp::output_checksums(self.layout),
        ) else {
            tracing::warn!("the reports cannot be stamped for reuse; a resume classifies again");
            return Ok(());
        };
        let stamp = ReportsStamp {
            classifier: self.classifier_id.to_owned(),
            device: self.classify_device.clone(),
            length: self.length,
            chunked,
            merged,
            outputs,
            frames_scored: output.rows,
            virus_chunks: output.totals.virus_chunks,
            virus_reads: output.totals.virus_reads,
        };
        let path = self.layout.reports_stamp();
        reports_stamp::write(self.layout, &stamp).map_err(super::io_error(&path))
    }
}
