//! A whole prediction run: reads → prepare → DNABERT-S and ESM-2 embeddings per shard →
//! merge → classify → reports, resumable at shard granularity.
//!
//! Folder layout ([`layout`]): `prepared/` (prepare's output), `features/`, `merged/`, and
//! at the top the two original reports, `read_summary.tsv`, `failures.tsv` and
//! `run-manifest.json`. Every file is written atomically (temporary file, then rename),
//! so a kill at any moment leaves only complete files, and every reused file is verified
//! before it is trusted (see [`plan`]).
//!
//! Stages run one after the other; inside a stage the work is parallel (prepare and merge
//! on `threads` CPU threads, embeddings on one worker per device, with tokenization on its
//! own thread so the devices are fed while the CPU reads the next file). Failures of one
//! shard are reported as they happen and the other shards go on.
mod embed_stage;
mod emitter;
pub mod files;
mod layout;
mod manifest;
mod merge_stage;
mod plan;
mod prepared;
mod spec;

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use virnucpro_core::atomic::write_atomic;
use virnucpro_core::events::{
    ItemCounts, ItemFailure, RunEvent, RunStatus, RunSummary, Stage, StageClock,
};
use virnucpro_core::features::FeatureKind;
use virnucpro_core::merge::MergeError;
use virnucpro_core::prepare::PrepareError;
use virnucpro_core::report::{ReadTotals, ReportError};
use virnucpro_core::CancelToken;

pub use layout::{
    RunLayout, FAILURES_FILE, FEATURES_DIR, MANIFEST_FILE, MERGED_DIR, PREPARED_DIR,
    READ_SUMMARY_FILE,
};
pub use manifest::{
    failures_tsv, ModelRecord, Models, RunManifest, Settings, Software, StageRecord,
    FAILURES_HEADER,
};
pub use spec::{validate, ProblemKind, RunSpec, SpecProblem, ValidatedRun, DEFAULT_SHARD_SIZE};

use crate::classifier::{ScoreError, Scorer};
use crate::embed::{default_budget, EmbedError, EmbedOptions};
use embed_stage::StageResult;
use emitter::Emitter;
use files::{content_id, fingerprint_model, FileEntry};

/// Errors that stop a run. Failures of single shards do not: they are listed in
/// `failures.tsv` and the run goes on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the run settings have {} problem(s):\n{}", .0.len(), problem_lines(.0))]
    Invalid(Vec<SpecProblem>),
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Merge(#[from] MergeError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("internal error: {0}")]
    Worker(String),
}

fn problem_lines(problems: &[SpecProblem]) -> String {
    let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
    lines.join("\n")
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_path_buf(),
        source,
    }
}

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
}

/// Validate `spec` and run it; events go to `on_event` as they happen.
pub fn run_prediction(
    spec: &RunSpec,
    options: RunOptions,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(&RunEvent),
) -> Result<RunOutcome, RunError> {
    let mut validated = validate(spec).map_err(RunError::Invalid)?;
    let mut runner = Runner::new(&mut validated, options, cancel, on_event)?;
    let result = runner.run();
    match result {
        Ok(outcome) => Ok(outcome),
        Err(err) => {
            // Best effort: the manifest says why the run stopped.
            runner.manifest.state = "failed".into();
            runner.manifest.error = Some(err.to_string());
            runner.manifest.failures = runner.events.failures.clone();
            let _ = runner.manifest.write(&runner.layout.manifest());
            Err(err)
        }
    }
}

struct Runner<'a, 'e> {
    run: &'a ValidatedRun,
    layout: RunLayout,
    cancel: &'a CancelToken,
    events: Emitter<'e>,
    manifest: RunManifest,
    started: Instant,
    threads: usize,
    batch_tokens: usize,
    prepared: Result<prepared::PreparedRecord, String>,
    frames_scored: u64,
}

impl<'a, 'e> Runner<'a, 'e> {
    fn new(
        run: &'a mut ValidatedRun,
        options: RunOptions,
        cancel: &'a CancelToken,
        on_event: &'e mut dyn FnMut(&RunEvent),
    ) -> Result<Self, RunError> {
        let started = Instant::now();
        let spec = &run.spec;
        let layout = RunLayout::new(&spec.out_dir);
        std::fs::create_dir_all(&layout.root).map_err(io_error(&layout.root))?;
        if options.restart {
            remove_results(&layout)?;
        }
        remove_leftovers(&layout);
        let previous = RunManifest::read(&layout.manifest());
        let known: Vec<FileEntry> = previous
            .iter()
            .flat_map(|m| {
                m.inputs.iter().chain(
                    [&m.models.dnabert, &m.models.esm, &m.models.classifier]
                        .into_iter()
                        .flat_map(|r| r.files.iter()),
                )
            })
            .cloned()
            .collect();
        let inputs: Vec<FileEntry> = run
            .inputs
            .iter()
            .map(|i| FileEntry::of(&i.path, &known).map_err(io_error(&i.path)))
            .collect::<Result<_, _>>()?;
        let model_record = |path: &Path, model_id: &str| -> Result<ModelRecord, RunError> {
            let files = fingerprint_model(path, &known).map_err(io_error(path))?;
            // The content id makes features of other weights under the same name stale.
            let model_id = format!("{model_id} #{}", content_id(&files));
            Ok(ModelRecord {
                path: path.to_path_buf(),
                model_id,
                files,
            })
        };
        let dnabert = model_record(&spec.dnabert, &run.dnabert.model_id)?;
        let esm = model_record(&spec.esm, &run.esm.model_id)?;
        let classifier = model_record(&spec.classifier, "classifier")?;
        run.dnabert.model_id = dnabert.model_id.clone();
        run.esm.model_id = esm.model_id.clone();
        let spec = &run.spec;
        let threads = spec
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let batch_tokens = spec
            .batch_tokens
            .unwrap_or_else(|| default_budget(&run.devices));
        let prepared = prepared::check_prepared(&layout, spec.length, spec.shard_size, &inputs);
        let plan = plan::make_plan(&plan::PlanInput {
            prepared: &prepared,
            previous: previous.as_ref(),
            dnabert_id: &dnabert.model_id,
            esm_id: &esm.model_id,
            classifier_id: &classifier.model_id,
            features_dir: &layout.features(),
            merged_dir: &layout.merged(),
        });
        let backend = crate::Backend::detect();
        let manifest = RunManifest {
            manifest_version: manifest::MANIFEST_VERSION,
            state: "running".into(),
            started_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            software: Software {
                app: format!("virnucpro {}", env!("CARGO_PKG_VERSION")),
                libtorch: backend.libtorch_version.to_string(),
                cuda: backend.describe(),
            },
            inputs,
            models: Models {
                dnabert,
                esm,
                classifier,
            },
            settings: Settings {
                length: spec.length,
                shard_size: spec.shard_size,
                devices: run.devices.iter().map(|d| d.to_string()).collect(),
                threads,
                precision: spec.precision.to_string(),
                batch_tokens,
            },
            plan,
            stages: Vec::new(),
            failures: Vec::new(),
            error: None,
            summary: None,
        };
        Ok(Self {
            run,
            layout,
            cancel,
            events: Emitter::new(on_event),
            manifest,
            started,
            threads,
            batch_tokens,
            prepared,
            frames_scored: 0,
        })
    }

    fn run(&mut self) -> Result<RunOutcome, RunError> {
        // Written now, so that a resume after a kill compares against these settings.
        self.manifest
            .write(&self.layout.manifest())
            .map_err(io_error(&self.layout.manifest()))?;
        // Reports of an earlier run would not match what this run is computing.
        for name in [
            virnucpro_core::report::RESULTS_FILE,
            virnucpro_core::report::HIGHESTSCORE_FILE,
            READ_SUMMARY_FILE,
            FAILURES_FILE,
        ] {
            remove_file_if_present(&self.layout.root.join(name))?;
        }
        self.events.emit(RunEvent::RunStarted {
            out_dir: self.layout.root.clone(),
            plan: self.manifest.plan.clone(),
        });
        for p in &self.manifest.plan {
            tracing::info!("{}: {:?}: {}", p.stage, p.action, p.reason);
        }

        let Some(record) = self.prepare_stage()? else {
            return self.finish(RunStatus::Cancelled, None, None);
        };
        remove_stale_shards(&self.layout, &record.shards)?;
        let shards = &record.shards;
        let all = vec![true; shards.len()];
        let embed_options = EmbedOptions {
            devices: self.run.devices.iter().map(|&d| d.into()).collect(),
            batch_tokens: self.batch_tokens,
            force: false,
        };
        let mut ok = all.clone();
        for (stage, setup) in [
            (Stage::EmbedDna, &self.run.dnabert),
            (Stage::EmbedProtein, &self.run.esm),
        ] {
            let clock = Instant::now();
            let result = embed_stage::run_embed(
                stage,
                setup,
                &self.layout.prepared(),
                self.layout.features(),
                shards,
                &ok,
                &embed_options,
                self.cancel,
                &mut self.events,
            )?;
            self.record(stage, clock, result.counts);
            if result.cancelled || self.cancel.is_cancelled() {
                return self.finish(RunStatus::Cancelled, Some(&record), None);
            }
            and_ok(&mut ok, &result);
        }
        let clock = Instant::now();
        let result = merge_stage::run_merge(
            &self.layout,
            shards,
            &ok,
            self.threads,
            self.cancel,
            &mut self.events,
        )?;
        self.record(Stage::Merge, clock, result.counts);
        if result.cancelled {
            return self.finish(RunStatus::Cancelled, Some(&record), None);
        }
        and_ok(&mut ok, &result);
        let Some(totals) = self.classify_stage(&record, &mut ok)? else {
            return self.finish(RunStatus::Cancelled, Some(&record), None);
        };
        // A shard that failed leaves no merged file a reader could take for a result.
        for (shard, _) in shards.iter().zip(&ok).filter(|(_, ok)| !**ok) {
            remove_file_if_present(&self.layout.feature_file(&shard.name(), FeatureKind::Merged))?;
        }
        let scored = ok.iter().filter(|&&o| o).count();
        let status = if self.events.failures.is_empty() {
            RunStatus::Ok
        } else if scored == 0 {
            RunStatus::Failed
        } else {
            RunStatus::Partial
        };
        self.finish(status, Some(&record), Some(totals))
    }

    fn record(&mut self, stage: Stage, started: Instant, counts: ItemCounts) {
        self.manifest.stages.push(StageRecord {
            stage,
            seconds: started.elapsed().as_secs_f64(),
            counts,
        });
    }

    fn prepare_stage(&mut self) -> Result<Option<prepared::PreparedRecord>, RunError> {
        let clock = Instant::now();
        let stage = Stage::Prepare;
        self.events.emit(RunEvent::StageStarted {
            stage,
            total: None,
            unit: "reads".into(),
        });
        let (record, counts) = match std::mem::replace(&mut self.prepared, Err(String::new())) {
            Ok(record) => {
                let counts = ItemCounts {
                    reused: record.shards.len() as u64,
                    ..ItemCounts::default()
                };
                (record, counts)
            }
            Err(_) => {
                let inputs: Vec<PathBuf> = self.run.spec.inputs.clone();
                let settings = (self.run.spec.length, self.run.spec.shard_size, self.threads);
                let Some(record) = prepared::run_prepare(
                    &self.layout,
                    &inputs,
                    &self.manifest.inputs,
                    settings,
                    self.cancel,
                    &mut self.events,
                )?
                else {
                    return Ok(None);
                };
                let counts = ItemCounts {
                    done: record.shards.len() as u64,
                    ..ItemCounts::default()
                };
                (record, counts)
            }
        };
        self.events
            .stage_finished(stage, counts, clock.elapsed().as_secs_f64());
        self.record(stage, clock, counts);
        Ok(Some(record))
    }

    /// Score the merged shards marked ok, in shard order; `None` when cancelled.
    fn classify_stage(
        &mut self,
        record: &prepared::PreparedRecord,
        ok: &mut [bool],
    ) -> Result<Option<ReadTotals>, RunError> {
        let stage = Stage::Classify;
        let started = Instant::now();
        let clock = StageClock::start();
        let total: u64 = record
            .shards
            .iter()
            .zip(ok.iter())
            .filter(|(_, ok)| **ok)
            .map(|(s, _)| s.records as u64)
            .sum();
        self.events.emit(RunEvent::StageStarted {
            stage,
            total: Some(total),
            unit: "frames".into(),
        });
        let chunked = self.layout.prepared().join(&record.chunked);
        let mut scorer = Scorer::create(&self.run.classifier, &self.layout.root, Some(&chunked))?;
        let mut counts = ItemCounts::default();
        for (shard, ok) in record.shards.iter().zip(ok.iter_mut()) {
            if !*ok {
                continue;
            }
            if self.cancel.is_cancelled() {
                return Ok(None);
            }
            let name = shard.name();
            let path = self.layout.feature_file(&name, FeatureKind::Merged);
            match scorer.add_shard(&path) {
                Ok(_) => counts.done += 1,
                Err(ScoreError::Report(e)) => return Err(e.into()),
                Err(e) => {
                    *ok = false;
                    counts.failed += 1;
                    let kind = match e {
                        ScoreError::Input(_) => "unreadable",
                        _ => "model",
                    };
                    self.events.failure(stage, &name, kind, e.to_string());
                }
            }
            self.events
                .progress(&clock, stage, scorer.rows, Some(total), "frames", true);
        }
        self.frames_scored = scorer.rows;
        let (_, totals) = scorer.finish()?;
        let totals = totals.unwrap_or_default();
        self.events
            .stage_finished(stage, counts, clock.elapsed().as_secs_f64());
        self.record(stage, started, counts);
        Ok(Some(totals))
    }

    fn finish(
        &mut self,
        status: RunStatus,
        record: Option<&prepared::PreparedRecord>,
        totals: Option<ReadTotals>,
    ) -> Result<RunOutcome, RunError> {
        let failures = self.events.failures.clone();
        let failures_path = self.layout.failures();
        write_atomic(&failures_path, failures_tsv(&failures).as_bytes())
            .map_err(io_error(&failures_path))?;
        let totals = totals.unwrap_or_default();
        let summary = RunSummary {
            status,
            reads: record.map_or(0, |r| r.reads),
            chunks: record.map_or(0, |r| r.chunks),
            frames_scored: self.frames_scored,
            virus_chunks: totals.virus_chunks,
            virus_reads: totals.virus_reads,
            failures: failures.len() as u64,
            seconds: self.started.elapsed().as_secs_f64(),
            out_dir: self.layout.root.clone(),
        };
        self.manifest.state = serde_json::to_value(status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        self.manifest.failures = failures.clone();
        self.manifest.summary = Some(summary.clone());
        self.manifest
            .write(&self.layout.manifest())
            .map_err(io_error(&self.layout.manifest()))?;
        self.events.emit(RunEvent::RunFinished(summary.clone()));
        Ok(RunOutcome {
            summary,
            failures,
            stages: self.manifest.stages.clone(),
            manifest: self.layout.manifest(),
        })
    }
}

fn and_ok(ok: &mut [bool], result: &StageResult) {
    for (a, b) in ok.iter_mut().zip(&result.ok) {
        *a &= *b;
    }
}

fn remove_file_if_present(path: &Path) -> Result<(), RunError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(RunError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// `--restart`: only what a run writes is removed, never anything else in the folder.
fn remove_results(layout: &RunLayout) -> Result<(), RunError> {
    for dir in [layout.prepared(), layout.features(), layout.merged()] {
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(RunError::Io { path: dir, source }),
        }
    }
    for name in [
        virnucpro_core::report::RESULTS_FILE,
        virnucpro_core::report::HIGHESTSCORE_FILE,
        READ_SUMMARY_FILE,
        FAILURES_FILE,
        MANIFEST_FILE,
    ] {
        remove_file_if_present(&layout.root.join(name))?;
    }
    Ok(())
}

/// Temporary files of a killed run (`.name.XXXXXX.tmp`) and prepare's staging folders:
/// never trusted, only in the way.
fn remove_leftovers(layout: &RunLayout) {
    for dir in [
        layout.root.clone(),
        layout.prepared(),
        layout.features(),
        layout.merged(),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let removed = if name.starts_with('.') && name.ends_with(".tmp") {
                std::fs::remove_file(&path)
            } else if name.starts_with(".prepare-staging-") {
                std::fs::remove_dir_all(&path)
            } else {
                continue;
            };
            match removed {
                Ok(()) => tracing::info!("removed {} left by an interrupted run", path.display()),
                Err(e) => tracing::warn!("cannot remove {}: {e}", path.display()),
            }
        }
    }
}

/// Feature and merged files of shards the current prepare does not have (an earlier run
/// on other inputs had more shards).
fn remove_stale_shards(layout: &RunLayout, shards: &[prepared::ShardInfo]) -> Result<(), RunError> {
    let names: std::collections::HashSet<String> = shards.iter().map(|s| s.name()).collect();
    for (dir, kinds) in [
        (
            layout.features(),
            &[FeatureKind::Nucleotide, FeatureKind::Protein][..],
        ),
        (layout.merged(), &[FeatureKind::Merged][..]),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            let stale = kinds
                .iter()
                .filter_map(|k| k.shard_of(&file))
                .any(|shard| !names.contains(shard));
            if stale {
                remove_file_if_present(&entry.path())?;
            }
        }
    }
    Ok(())
}
