//! A whole prediction run: reads → prepare → DNABERT-S and ESM-2 embeddings per shard →
//! merge → classify → reports, resumable at shard granularity.
//!
//! Folder layout (`core::run_folder::layout`): `prepared/` (prepare's output), `features/`, `merged/`, and
//! at the top the two original reports, `read_summary.tsv`, `failures.tsv`,
//! `reports-inputs.json` and `run-manifest.json`. Every file is written atomically
//! (temporary file, then rename), so a kill at any moment leaves only complete files, and
//! every reused file is verified before it is trusted (see `core::run_folder::plan`).
//!
//! The stages overlap at shard granularity ([`hub`]): the devices embed shard `i + 1`
//! while prepare writes later shards and shard `i` is merged and classified. Failures of
//! one shard are reported as they happen and the other shards go on.
mod book;
mod classify_stage;
mod cleanup;
mod emitter;
mod error;
mod hub;
mod pairs;
mod prepared;
mod publish;
mod samples;
mod software;
mod space;
mod spec;
mod start;

use std::path::PathBuf;
use std::time::Instant;

use virnucpro_core::atomic::write_atomic;
use virnucpro_core::events::{ItemFailure, RunEvent, RunStatus, RunSummary};
use virnucpro_core::features::FeatureKind;
use virnucpro_core::CancelToken;

pub use error::{RunError, Writing};
pub use software::DetectSoftware;

pub use publish::partial_name;
pub use samples::{
    run_samples, run_validated_samples, validate_samples, SampleOutcome, SamplesOutcome,
};
pub use spec::{
    spec_warnings, validate, ProblemKind, RunSpec, Setting, SpecProblem, ValidatedRun,
    DEFAULT_SHARD_SIZE,
};
use virnucpro_core::run_folder::failures::failures_tsv;
use virnucpro_core::run_folder::layout::RunLayout;
use virnucpro_core::run_folder::lock::RunLock;
use virnucpro_core::run_folder::manifest::{
    self, ReportsRecord, RunManifest, Settings, StageRecord,
};
use virnucpro_core::run_folder::reports_stamp;
use virnucpro_core::run_folder::scores::scores_model;

use crate::embed::{default_budget, EmbedOptions};
use cleanup::remove_file_if_present;
use emitter::Emitter;
use error::io_error;

/// How to run: start over, or resume what exists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Remove every earlier result of this folder first.
    pub restart: bool,
}

/// A finished (or cancelled) run.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub summary: RunSummary,
    pub failures: Vec<ItemFailure>,
    pub stages: Vec<StageRecord>,
    pub manifest: PathBuf,
    /// Where the reports are: this run's, or an earlier run's kept in their place.
    pub reports: ReportsRecord,
}

/// Validate `spec` and run it; events go to `on_event` as they happen.
pub fn run_prediction(
    spec: &RunSpec,
    options: RunOptions,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(&RunEvent),
) -> Result<RunOutcome, RunError> {
    let mut validated = validate(spec).map_err(RunError::Invalid)?;
    run_validated(&mut validated, options, cancel, on_event)
}

/// Run a validated spec. [`run_prediction`] is this after [`validate`]; tests use it to
/// run with their own models in place of the spec's (`ValidatedRun`'s model setups).
pub fn run_validated(
    validated: &mut ValidatedRun,
    options: RunOptions,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(&RunEvent),
) -> Result<RunOutcome, RunError> {
    let mut runner = Runner::new(validated, options, cancel, on_event)?;
    let result = runner.run();
    match result {
        Ok(outcome) => Ok(outcome),
        Err(err) => {
            // An error made without the check (a thread's, a shard's) still says so when
            // the disk was full.
            let err = err.disk_full();
            // Best effort: the manifest says why the run stopped.
            runner.manifest.state = manifest::RunState::Failed;
            runner.manifest.error = Some(err.to_string());
            runner.manifest.failures = runner.events.failures.clone();
            runner.manifest.reports = Some(publish::untouched(&runner.layout));
            publish::remove_staging(&runner.layout);
            let _ = runner.manifest.write(&runner.layout.manifest());
            Err(err)
        }
    }
}

struct Runner<'a, 'e> {
    run: &'a mut ValidatedRun,
    layout: RunLayout,
    /// This run's hold on the folder: no other run uses it until this one ends.
    _lock: RunLock,
    cancel: &'a CancelToken,
    events: Emitter<'e>,
    manifest: RunManifest,
    started: Instant,
    /// Threads of prepare and of the merge.
    threads: (usize, usize),
    batch_tokens: usize,
    prepared: Result<prepared::PreparedRecord, String>,
    /// Earlier reports that are kept if every merged shard is unchanged.
    reports: Option<reports_stamp::ReportsStamp>,
}

impl<'a, 'e> Runner<'a, 'e> {
    fn new(
        run: &'a mut ValidatedRun,
        options: RunOptions,
        cancel: &'a CancelToken,
        on_event: &'e mut dyn FnMut(&RunEvent),
    ) -> Result<Self, RunError> {
        let started = Instant::now();
        let (layout, lock) = start::open_folder(&run.spec.out_dir, options)?;
        let previous = RunManifest::read(&layout.manifest());
        let known = start::known_files(previous.as_ref());
        let inputs = start::input_entries(run, &known)?;
        let models = start::model_records(run, &known)?;
        let spec = &run.spec;
        let threads = (spec.prepare_thread_count(), spec.merge_thread_count());
        let batch_tokens = spec
            .batch_tokens
            .unwrap_or_else(|| default_budget(&run.devices));
        let prepared_as = (spec.length, spec.shard_size, &spec.pairing);
        let prepared = prepared::check_prepared(&layout, prepared_as, &inputs);
        let reports = start::reusable_reports(&layout, &prepared, run, &models.classifier.model_id);
        let plan = start::make_plan(
            &layout,
            &prepared,
            previous.as_ref(),
            &models,
            (reports.is_some(), spec.keep_features),
        );
        let settings = Settings {
            length: spec.length,
            shard_size: spec.shard_size,
            devices: run.devices.iter().map(|d| d.to_string()).collect(),
            prepare_threads: threads.0,
            merge_threads: Some(threads.1),
            precision: spec.precision,
            batch_tokens,
            classify_device: classify_device(run).to_string(),
            keep_features: spec.keep_features,
            pairing: spec.pairing.clone(),
        };
        let manifest = start::first_manifest(inputs, models, plan, settings);
        Ok(Self {
            run,
            layout,
            _lock: lock,
            cancel,
            events: Emitter::new(on_event),
            manifest,
            started,
            threads,
            batch_tokens,
            prepared,
            reports,
        })
    }

    fn run(&mut self) -> Result<RunOutcome, RunError> {
        // Written now, so that a resume after a kill compares against these settings.
        self.manifest
            .write(&self.layout.manifest())
            .map_err(io_error(&self.layout.manifest()))?;
        // This run rewrites the failure list. Earlier reports stay until this run has
        // reports to put in their place (see `publish`): a run that fails keeps them.
        remove_file_if_present(&self.layout.failures())?;
        self.events.emit(RunEvent::RunStarted {
            out_dir: self.layout.root.clone(),
            plan: self.manifest.plan.clone(),
        });
        for warning in &self.run.warnings {
            self.events.warning(None, warning.to_string());
        }
        for p in &self.manifest.plan {
            tracing::info!("{}: {:?}: {}", p.stage, p.action, p.reason);
        }
        let reuse_prepared = std::mem::replace(&mut self.prepared, Err(String::new()))
            .ok()
            .map(|record| prepared::Prepared {
                record,
                warnings: Vec::new(),
            });
        let classify_device = classify_device(self.run).into();
        let embed = EmbedOptions {
            devices: self.run.devices.clone(),
            batch_tokens: self.batch_tokens,
            force: false,
        };
        let keep_features = self.run.spec.keep_features;
        let setup = hub::Setup {
            run: &mut *self.run,
            layout: &self.layout,
            prepare_threads: self.threads.0,
            merge_threads: self.threads.1,
            embed,
            classify_device,
            reuse_prepared,
            input_entries: &self.manifest.inputs,
            reports: self.reports.take(),
            classifier_id: &self.manifest.models.classifier.model_id,
            keep_features,
            scores_model: scores_model(
                &self.manifest.models.classifier.model_id,
                &self.manifest.models.dnabert.model_id,
                &self.manifest.models.esm.model_id,
            ),
        };
        let done = hub::run_stages(setup, self.cancel, &mut self.events)?;
        self.manifest.stages = done.stages.clone();
        self.manifest.devices = done.devices.clone();
        if done.cancelled {
            return self.finish(RunStatus::Cancelled, &done);
        }
        // A shard that failed leaves no merged file a reader could take for a result.
        for shard in &done.failed_shards {
            for kind in [FeatureKind::Merged, FeatureKind::Scores] {
                remove_file_if_present(&self.layout.feature_file(shard, kind))?;
            }
        }
        let status = if self.events.failures.is_empty() {
            RunStatus::Ok
        } else if done.scored == 0 {
            RunStatus::Failed
        } else {
            RunStatus::Partial
        };
        self.finish(status, &done)
    }

    fn finish(&mut self, status: RunStatus, done: &hub::Finished) -> Result<RunOutcome, RunError> {
        let reports = pairs::write_pair_summary(&self.layout, done)?;
        let failures = self.events.failures.clone();
        let failures_path = self.layout.failures();
        write_atomic(&failures_path, failures_tsv(&failures).as_bytes())
            .map_err(io_error(&failures_path))?;
        let record = done.prepared.as_ref().map(|p| &p.record);
        let summary = RunSummary {
            status,
            reads: record.map_or(0, |r| r.reads),
            chunks: record.map_or(0, |r| r.chunks),
            frames_scored: done.frames_scored,
            virus_chunks: done.virus_chunks,
            virus_reads: done.virus_reads,
            failures: failures.len() as u64,
            seconds: self.started.elapsed().as_secs_f64(),
            out_dir: self.layout.root.clone(),
        };
        self.manifest.state = status.into();
        self.manifest.failures = failures.clone();
        self.manifest.summary = Some(summary.clone());
        self.manifest.reports = Some(reports.clone());
        self.manifest
            .write(&self.layout.manifest())
            .map_err(io_error(&self.layout.manifest()))?;
        self.events.emit(RunEvent::RunFinished(summary.clone()));
        Ok(RunOutcome {
            summary,
            failures,
            stages: self.manifest.stages.clone(),
            manifest: self.layout.manifest(),
            reports,
        })
    }
}

/// The classifier runs on the first selected device (the CPU when only the CPU is).
fn classify_device(run: &ValidatedRun) -> crate::devices::DeviceId {
    run.devices
        .first()
        .copied()
        .unwrap_or(crate::devices::DeviceId::Cpu)
}
