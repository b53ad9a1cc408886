//! The engine of an embedding run: a reader (checksum, tokenize, plan), a feeder, the
//! device workers, and the collector (reorder, write).
//!
//! Files come in as [`FileJob`]s on a channel, so a caller can hand over inputs while they
//! are still being made (a run embeds shard `i` while prepare writes shard `i + 1`). The
//! reader works at least one file ahead of the feeder, which keeps a few batches queued
//! for the workers: a device that finishes a batch finds the next one ready, however long
//! tokenizing the next file takes. Feature files are written by the collector, never by a
//! device worker.
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crossbeam_channel::{bounded, unbounded, Receiver, RecvTimeoutError, Sender};
use virnucpro_core::cancel::CancelToken;
use virnucpro_core::fasta::fasta_stem;
use virnucpro_core::features::{
    DataCheck, FeatureFile, FeatureKind, FeatureMeta, FeatureWriter, InputChecksum, MappedFile,
};

use super::batch::plan_batches;
use super::encoder::EncoderFactory;
use super::error::{EmbedError, FailureKind, FileFailure};
use super::sequences::tokenize_bytes;
use super::worker::{device_label, run_worker, Report, Work};
use super::{
    DeviceStats, EmbedEvent, EmbedJob, EmbedOptions, EmbedReport, FileOutcome, FileStatus,
};
use crate::encode::Tokenize;

/// How often a reader waiting for the next job looks at the cancel tokens.
const JOB_POLL: Duration = Duration::from_millis(50);

/// `{out_dir}/{shard}.{kind}.safetensors`, the shard being the input's file name without
/// its compression and FASTA extensions (`core::fasta::fasta_stem`): `output_3.fa` →
/// `output_3.nucleotide.safetensors`.
pub fn output_path(job: &EmbedJob, input: &Path) -> PathBuf {
    output_in(&job.out_dir, job.kind, input)
}

/// [`output_path`] for a folder and kind.
pub fn output_in(out_dir: &Path, kind: FeatureKind, input: &Path) -> PathBuf {
    let name = input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    out_dir.join(kind.file_name(fasta_stem(&name)))
}

/// One model an engine runs. Every device worker loads each model once, before its first
/// batch, and keeps them all: a run with DNABERT-S and ESM-2 holds both per device.
#[derive(Clone, Copy)]
pub struct EngineModel<'a> {
    /// What the feature files hold (`nucleotide`, `protein`).
    pub kind: FeatureKind,
    /// Recorded in the feature files; a change makes old outputs stale.
    pub model: &'a str,
    pub tokenizer: &'a dyn Tokenize,
    pub factory: &'a dyn EncoderFactory,
}

/// One input file for an engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileJob {
    /// Index into the engine's models.
    pub model: usize,
    /// Where the input is read from; reported in the outcome.
    pub input: PathBuf,
    /// Tried when `input` cannot be opened: where the file is moved to while the job waits
    /// (a shard in prepare's staging folder, installed into the run folder meanwhile).
    pub moved_to: Option<PathBuf>,
    pub output: PathBuf,
}

/// Embed the inputs of `job` (one model) and report every file's outcome.
pub fn embed_files(
    job: &EmbedJob,
    options: &EmbedOptions,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(&EmbedEvent),
) -> Result<EmbedReport, EmbedError> {
    let outputs: Vec<PathBuf> = job.inputs.iter().map(|i| output_path(job, i)).collect();
    let mut unique = HashSet::new();
    for (input, output) in job.inputs.iter().zip(&outputs) {
        if !unique.insert(output) {
            return Err(EmbedError::Settings(format!(
                "{} would overwrite the output of another input ({}); give inputs distinct names",
                input.display(),
                output.display()
            )));
        }
    }
    let (tx, rx) = unbounded();
    for (input, output) in job.inputs.iter().zip(outputs) {
        let _ = tx.send(FileJob {
            model: 0,
            input: input.clone(),
            moved_to: None,
            output,
        });
    }
    drop(tx);
    let model = EngineModel {
        kind: job.kind,
        model: &job.model,
        tokenizer: job.tokenizer,
        factory: job.factory,
    };
    embed_stream(&[model], rx, &job.out_dir, options, cancel, on_event)
}

/// Messages to the collector: jobs and plans from the reader, reports from the workers.
enum Msg {
    /// The reader took job `file`.
    Taken {
        file: usize,
        job: FileJob,
    },
    /// A file's batches are about to be queued.
    Planned {
        file: usize,
        ids: Vec<String>,
        checksum: InputChecksum,
        batches: usize,
    },
    /// A file finished without the workers (up to date, or failed before batching).
    Settled {
        file: usize,
        status: FileStatus,
        sequences: usize,
    },
    Worker(Report),
    Queued(EmbedEvent),
}

/// A tokenized file waiting for the feeder.
struct Planned {
    file: usize,
    model: usize,
    tokens: Vec<Vec<i64>>,
    batches: Vec<super::batch::Batch>,
}

/// A file being assembled from batches.
struct Pending {
    ids: Vec<String>,
    checksum: InputChecksum,
    rows: Vec<f32>,
    batches_left: usize,
}

/// Embed the files of `jobs` as they come, until the channel is closed (or `cancel`), with
/// the `models` on `options.devices`. Outcomes come back in the order the jobs were taken.
pub fn embed_stream(
    models: &[EngineModel],
    jobs: Receiver<FileJob>,
    out_dir: &Path,
    options: &EmbedOptions,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(&EmbedEvent),
) -> Result<EmbedReport, EmbedError> {
    if options.devices.is_empty() {
        return Err(EmbedError::Settings("no device selected".into()));
    }
    if options.batch_tokens == 0 {
        return Err(EmbedError::Settings(
            "the batch budget must be at least 1 token".into(),
        ));
    }
    if models.is_empty() {
        return Err(EmbedError::Settings("no model given".into()));
    }
    std::fs::create_dir_all(out_dir).map_err(|source| EmbedError::Output {
        path: out_dir.to_path_buf(),
        source,
    })?;

    // Stops the reader, feeder and workers early when the collector hits a fatal error;
    // also set by `cancel`.
    let stop = cancel.child();
    let (work_tx, work_rx) = bounded::<Work>(options.devices.len() * 2);
    // One planned file waits while the feeder queues the previous one's batches.
    let (plan_tx, plan_rx) = bounded::<Planned>(1);
    let (msg_tx, msg_rx) = unbounded::<Msg>();
    // The reader lets the workers load their models when it plans the first batch.
    let (start_tx, start_rx) = bounded::<()>(options.devices.len());
    let factories: Vec<&dyn EncoderFactory> = models.iter().map(|m| m.factory).collect();
    std::thread::scope(|scope| {
        for &device in &options.devices {
            let (start_rx, work_rx, msg_tx) = (start_rx.clone(), work_rx.clone(), msg_tx.clone());
            let (factories, stop) = (&factories, &stop);
            scope.spawn(move || {
                let report = |r| msg_tx.send(Msg::Worker(r)).is_ok();
                // A worker that dies must still be counted, or the feeder could wait
                // forever for a free worker.
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run_worker(device, factories, start_rx, work_rx, &report, stop)
                }));
                if ran.is_err() {
                    report(Report::LoadFailed(EmbedError::Worker(format!(
                        "the worker on {} panicked",
                        device_label(device)
                    ))));
                }
            });
        }
        {
            let (msg_tx, stop) = (msg_tx.clone(), &stop);
            scope.spawn(move || read_jobs(models, options, jobs, stop, start_tx, plan_tx, msg_tx));
        }
        {
            let stop = &stop;
            scope.spawn(move || feed(models, plan_rx, work_tx, stop));
        }
        drop(msg_tx);
        collect(models, options, cancel, &stop, &work_rx, msg_rx, on_event)
    })
}

/// Take each job in turn: check, tokenize and plan its file, then hand it to the feeder.
fn read_jobs(
    models: &[EngineModel],
    options: &EmbedOptions,
    jobs: Receiver<FileJob>,
    stop: &CancelToken,
    start: Sender<()>,
    plans: Sender<Planned>,
    msgs: Sender<Msg>,
) {
    let mut start = Some(start);
    let mut file = 0usize;
    loop {
        if stop.is_cancelled() {
            break;
        }
        let job = match jobs.recv_timeout(JOB_POLL) {
            Ok(job) => job,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let this = file;
        file += 1;
        let settle = |status, sequences| {
            let _ = msgs.send(Msg::Settled {
                file: this,
                status,
                sequences,
            });
        };
        let _ = msgs.send(Msg::Taken {
            file: this,
            job: job.clone(),
        });
        let Some(model) = models.get(job.model) else {
            let failure = FileFailure::new(
                FailureKind::Model,
                format!(
                    "{}: no model {} in this run",
                    job.input.display(),
                    job.model
                ),
            );
            settle(FileStatus::Failed(failure), 0);
            continue;
        };
        // Mapped once: hashed, then tokenized from the same bytes, so a file moved in
        // between (see `FileJob::moved_to`) cannot mix two versions.
        let mapped = match open_input(&job) {
            Ok(m) => m,
            Err(e) => {
                let failure = FileFailure::new(
                    FailureKind::Unreadable,
                    format!("{}: {e}", job.input.display()),
                );
                settle(FileStatus::Failed(failure), 0);
                continue;
            }
        };
        let checksum = mapped.checksum();
        if !options.force {
            if let Some(rows) = up_to_date(&job.output, model, &checksum) {
                settle(FileStatus::UpToDate, rows);
                continue;
            }
        }
        let tokenized = match tokenize_bytes(mapped.bytes(), &job.input, model.tokenizer) {
            Ok(t) => t,
            Err(failure) => {
                settle(FileStatus::Failed(failure), 0);
                continue;
            }
        };
        drop(mapped);
        let lengths: Vec<usize> = tokenized.tokens.iter().map(Vec::len).collect();
        let batches = plan_batches(&lengths, options.batch_tokens);
        let _ = msgs.send(Msg::Queued(EmbedEvent::FileQueued {
            input: job.input.clone(),
            sequences: lengths.len(),
            tokens: tokenized.total_tokens(),
            batches: batches.len(),
        }));
        let _ = msgs.send(Msg::Planned {
            file: this,
            ids: tokenized.ids,
            checksum,
            batches: batches.len(),
        });
        let planned = Planned {
            file: this,
            model: job.model,
            tokens: tokenized.tokens,
            batches,
        };
        if !planned.batches.is_empty() {
            if let Some(start) = start.take() {
                for _ in &options.devices {
                    let _ = start.send(());
                }
            }
        }
        // Blocks while the feeder still queues the previous file.
        if plans.send(planned).is_err() {
            break;
        }
    }
    // Stopped: jobs already handed over are still named in the report (as not finished),
    // never silently dropped. Jobs that come later were never given to this run.
    for job in jobs.try_iter() {
        let _ = msgs.send(Msg::Taken { file, job });
        file += 1;
    }
}

fn open_input(job: &FileJob) -> std::io::Result<MappedFile> {
    match (MappedFile::open(&job.input), &job.moved_to) {
        (Err(e), Some(moved)) if e.kind() == std::io::ErrorKind::NotFound => {
            MappedFile::open(moved)
        }
        (result, _) => result,
    }
}

/// Queue the batches of each planned file for the workers.
fn feed(models: &[EngineModel], plans: Receiver<Planned>, work: Sender<Work>, stop: &CancelToken) {
    for planned in plans {
        let pad_id = models[planned.model].tokenizer.pad_id();
        let mut tokens: Vec<Option<Vec<i64>>> = planned.tokens.into_iter().map(Some).collect();
        for batch in planned.batches {
            let item = Work {
                file: planned.file,
                model: planned.model,
                tokens: batch
                    .indices
                    .iter()
                    .map(|&i| tokens[i].take().unwrap_or_default())
                    .collect(),
                indices: batch.indices,
                pad_id,
            };
            // Blocks while the workers are busy: at most a few batches wait in memory.
            if stop.is_cancelled() || work.send(item).is_err() {
                return;
            }
        }
    }
}

/// The number of rows of an existing output made from the same input by the same model,
/// whose data is what was written. A file that fails a check is stale: it is embedded
/// again (and replaced), never handed on to merge.
fn up_to_date(output: &Path, model: &EngineModel, checksum: &InputChecksum) -> Option<usize> {
    // The header alone rules out most stale files without reading their data.
    let header = FeatureFile::validate_header(output).ok()?;
    let meta = &header.meta;
    let same =
        meta.kind == model.kind && meta.model == model.model && meta.inputs == [checksum.clone()];
    if !same {
        return None;
    }
    let verified = FeatureFile::open(output).and_then(|file| file.verify_data());
    match verified {
        Ok(DataCheck::Checksum) => Some(header.rows),
        Ok(DataCheck::FiniteValues) => {
            tracing::info!(
                "{}: no data checksum (written by an older version); every value was checked",
                output.display()
            );
            Some(header.rows)
        }
        Err(e) => {
            tracing::warn!("{e}; embedding it again");
            None
        }
    }
}

/// What the collector knows of each file taken.
struct Files {
    jobs: Vec<FileJob>,
    outcomes: Vec<Option<FileOutcome>>,
}

impl Files {
    fn finish(
        &mut self,
        file: usize,
        status: FileStatus,
        sequences: usize,
        on_event: &mut dyn FnMut(&EmbedEvent),
    ) {
        let Some(job) = self.jobs.get(file) else {
            return;
        };
        let outcome = FileOutcome {
            input: job.input.clone(),
            output: job.output.clone(),
            sequences,
            status,
            job: file,
            model: job.model,
        };
        on_event(&EmbedEvent::FileDone(outcome.clone()));
        self.outcomes[file] = Some(outcome);
    }
}

fn collect(
    models: &[EngineModel],
    options: &EmbedOptions,
    cancel: &CancelToken,
    stop: &CancelToken,
    work_rx: &Receiver<Work>,
    msgs: Receiver<Msg>,
    on_event: &mut dyn FnMut(&EmbedEvent),
) -> Result<EmbedReport, EmbedError> {
    let mut files = Files {
        jobs: Vec::new(),
        outcomes: Vec::new(),
    };
    let mut pending: HashMap<usize, Pending> = HashMap::new();
    let mut stats: Vec<DeviceStats> = options
        .devices
        .iter()
        .map(|&d| DeviceStats {
            device: device_label(d),
            ..DeviceStats::default()
        })
        .collect();
    let mut dims = vec![0usize; models.len()];
    let mut load_failures = Vec::new();
    for msg in msgs {
        match msg {
            Msg::Taken { file, job } => {
                debug_assert_eq!(file, files.jobs.len());
                files.jobs.push(job);
                files.outcomes.push(None);
            }
            Msg::Queued(event) => on_event(&event),
            Msg::Settled {
                file,
                status,
                sequences,
            } => files.finish(file, status, sequences, on_event),
            Msg::Planned {
                file,
                ids,
                checksum,
                batches,
            } => {
                if batches == 0 {
                    // A feature file needs at least one row (its width comes from the rows).
                    let failure = FileFailure::new(
                        FailureKind::BadRecord,
                        format!(
                            "{}: the file holds no sequences",
                            files.jobs[file].input.display()
                        ),
                    );
                    files.finish(file, FileStatus::Failed(failure), 0, on_event);
                    continue;
                }
                pending.insert(
                    file,
                    Pending {
                        ids,
                        checksum,
                        rows: Vec::new(),
                        batches_left: batches,
                    },
                );
            }
            Msg::Worker(report) => match report {
                Report::Ready {
                    device,
                    model,
                    dim,
                    seconds,
                } => {
                    dims[model] = dim;
                    on_event(&EmbedEvent::WorkerReady {
                        device,
                        model: models[model].model.to_owned(),
                        dim,
                        load_seconds: seconds,
                    });
                }
                Report::LoadFailed(err) => {
                    load_failures.push(err);
                    if load_failures.len() == options.devices.len() {
                        // No worker left: stop the reader and feeder and let them unblock.
                        stop.cancel();
                        while work_rx.try_recv().is_ok() {}
                    }
                }
                Report::Split { device, parts } => {
                    if let Some(s) = stats.iter_mut().find(|s| s.device == device) {
                        s.oom_splits += 1;
                    }
                    on_event(&EmbedEvent::BudgetHalved { device, parts });
                }
                Report::Failed { file, failure } => {
                    if let Some(p) = pending.remove(&file) {
                        files.finish(file, FileStatus::Failed(failure), p.ids.len(), on_event);
                    }
                }
                Report::Rows {
                    file,
                    indices,
                    rows,
                    device,
                    tokens,
                    seconds,
                    waited,
                } => {
                    let model = files.jobs.get(file).map_or(0, |j| j.model);
                    if let Some(s) = stats.iter_mut().find(|s| s.device == device) {
                        s.sequences += indices.len();
                        s.tokens += tokens;
                        s.seconds += seconds;
                        s.wait_seconds += waited;
                    }
                    on_event(&EmbedEvent::BatchDone {
                        device,
                        model,
                        sequences: indices.len(),
                        tokens,
                        seconds,
                    });
                    let dim = dims[model];
                    let Some(p) = pending.get_mut(&file) else {
                        continue;
                    };
                    if p.rows.is_empty() {
                        p.rows = vec![0.0; p.ids.len() * dim];
                    }
                    for (k, &i) in indices.iter().enumerate() {
                        p.rows[i * dim..(i + 1) * dim]
                            .copy_from_slice(&rows[k * dim..(k + 1) * dim]);
                    }
                    p.batches_left -= 1;
                    if p.batches_left == 0 {
                        if let Some(p) = pending.remove(&file) {
                            let job = &files.jobs[file];
                            let status = write_output(
                                &models[model],
                                job,
                                p.ids.clone(),
                                p.checksum,
                                dim,
                                &p.rows,
                            );
                            files.finish(file, status, p.ids.len(), on_event);
                        }
                    }
                }
            },
        }
    }
    if load_failures.len() == options.devices.len() {
        if let Some(err) = load_failures.into_iter().next() {
            return Err(err);
        }
    } else {
        for err in &load_failures {
            tracing::warn!("a device worker could not start; the others went on: {err}");
        }
    }
    let cancelled = cancel.is_cancelled();
    let Files { jobs, outcomes } = files;
    let files = outcomes
        .into_iter()
        .zip(jobs)
        .enumerate()
        .map(|(file, (outcome, job))| {
            outcome.unwrap_or_else(|| FileOutcome {
                status: FileStatus::Failed(FileFailure::new(
                    FailureKind::Cancelled,
                    format!(
                        "{}: not finished before the run was cancelled",
                        job.input.display()
                    ),
                )),
                input: job.input,
                output: job.output,
                sequences: 0,
                job: file,
                model: job.model,
            })
        })
        .collect();
    Ok(EmbedReport {
        files,
        devices: stats,
        cancelled,
    })
}

fn write_output(
    model: &EngineModel,
    job: &FileJob,
    ids: Vec<String>,
    checksum: InputChecksum,
    dim: usize,
    rows: &[f32],
) -> FileStatus {
    let meta = FeatureMeta {
        kind: model.kind,
        model: model.model.to_owned(),
        dim,
        ids,
        inputs: vec![checksum],
    };
    let result = FeatureWriter::create(&job.output, &meta).and_then(|mut writer| {
        for row in rows.chunks_exact(dim) {
            writer.write_row(row)?;
        }
        writer.finish()
    });
    match result {
        Ok(_) => FileStatus::Written,
        Err(e) => FileStatus::Failed(FileFailure::new(FailureKind::Write, e.to_string())),
    }
}
