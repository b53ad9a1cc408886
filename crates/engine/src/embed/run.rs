//! The producer (read, tokenize, plan), the device workers, and the collector (reorder,
//! write) of one embedding run.
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
use virnucpro_core::cancel::CancelToken;
use virnucpro_core::features::{
    checksum_file, FeatureFile, FeatureMeta, FeatureWriter, InputChecksum,
};

use super::batch::plan_batches;
use super::error::{EmbedError, FailureKind, FileFailure};
use super::sequences::read_and_tokenize;
use super::worker::{device_label, run_worker, Report, Work};
use super::{
    DeviceStats, EmbedEvent, EmbedJob, EmbedOptions, EmbedReport, FileOutcome, FileStatus,
};

/// `{out_dir}/{shard}.{kind}.safetensors`, the shard being the input's file name without
/// its FASTA (and compression) extensions: `output_3.fa` → `output_3.nucleotide.safetensors`.
pub fn output_path(job: &EmbedJob, input: &Path) -> PathBuf {
    let name = input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut shard = name.as_str();
    for ext in [".gz", ".bz2", ".xz", ".zst"] {
        shard = shard.strip_suffix(ext).unwrap_or(shard);
    }
    for ext in [".fa", ".fasta", ".fna", ".faa", ".fas"] {
        if let Some(s) = shard.strip_suffix(ext) {
            shard = s;
            break;
        }
    }
    job.out_dir.join(job.kind.file_name(shard))
}

/// Messages to the collector: plans from the producer, reports from the workers.
enum Msg {
    /// A file's batches are queued.
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

/// A file being assembled from batches.
struct Pending {
    ids: Vec<String>,
    checksum: InputChecksum,
    rows: Vec<f32>,
    batches_left: usize,
}

pub fn embed_files(
    job: &EmbedJob,
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
    std::fs::create_dir_all(&job.out_dir).map_err(|source| EmbedError::Output {
        path: job.out_dir.clone(),
        source,
    })?;

    // Stops the producer and workers early when the collector hits a fatal error.
    let stop = CancelToken::new();
    let (work_tx, work_rx) = bounded::<Work>(options.devices.len() * 2);
    let (msg_tx, msg_rx) = unbounded::<Msg>();
    std::thread::scope(|scope| {
        for &device in &options.devices {
            let (work_rx, msg_tx) = (work_rx.clone(), msg_tx.clone());
            let (factory, stop) = (job.factory, &stop);
            scope.spawn(move || {
                let report = |r| msg_tx.send(Msg::Worker(r)).is_ok();
                // A worker that dies must still be counted, or the producer could wait
                // forever for a free worker.
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run_worker(device, factory, work_rx, &report, stop)
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
            let (msg_tx, outputs, stop) = (msg_tx.clone(), &outputs, &stop);
            scope.spawn(move || produce(job, options, outputs, cancel, stop, work_tx, msg_tx));
        }
        drop(msg_tx);
        collect(
            job, options, &outputs, cancel, &stop, &work_rx, msg_rx, on_event,
        )
    })
}

/// Read, check and tokenize each input in turn and queue its batches.
fn produce(
    job: &EmbedJob,
    options: &EmbedOptions,
    outputs: &[PathBuf],
    cancel: &CancelToken,
    stop: &CancelToken,
    work: Sender<Work>,
    msgs: Sender<Msg>,
) {
    let halted = || cancel.is_cancelled() || stop.is_cancelled();
    for (file, input) in job.inputs.iter().enumerate() {
        if halted() {
            return;
        }
        let settle = |status, sequences| {
            let _ = msgs.send(Msg::Settled {
                file,
                status,
                sequences,
            });
        };
        let checksum = match checksum_file(input) {
            Ok(c) => c,
            Err(e) => {
                let failure =
                    FileFailure::new(FailureKind::Unreadable, format!("{}: {e}", input.display()));
                settle(FileStatus::Failed(failure), 0);
                continue;
            }
        };
        if !options.force {
            if let Some(rows) = up_to_date(&outputs[file], job, &checksum) {
                settle(FileStatus::UpToDate, rows);
                continue;
            }
        }
        let tokenized = match read_and_tokenize(input, job.tokenizer) {
            Ok(t) => t,
            Err(failure) => {
                settle(FileStatus::Failed(failure), 0);
                continue;
            }
        };
        let lengths: Vec<usize> = tokenized.tokens.iter().map(Vec::len).collect();
        let batches = plan_batches(&lengths, options.batch_tokens);
        let _ = msgs.send(Msg::Queued(EmbedEvent::FileQueued {
            input: input.clone(),
            sequences: lengths.len(),
            tokens: tokenized.total_tokens(),
            batches: batches.len(),
        }));
        let _ = msgs.send(Msg::Planned {
            file,
            ids: tokenized.ids,
            checksum,
            batches: batches.len(),
        });
        let mut tokens: Vec<Option<Vec<i64>>> = tokenized.tokens.into_iter().map(Some).collect();
        for batch in batches {
            let item = Work {
                file,
                tokens: batch
                    .indices
                    .iter()
                    .map(|&i| tokens[i].take().unwrap_or_default())
                    .collect(),
                indices: batch.indices,
                pad_id: job.tokenizer.pad_id(),
            };
            // Blocks while the workers are busy: at most a few batches wait in memory.
            if halted() || work.send(item).is_err() {
                return;
            }
        }
    }
}

/// The number of rows of an existing output made from the same input by the same model.
fn up_to_date(output: &Path, job: &EmbedJob, checksum: &InputChecksum) -> Option<usize> {
    let header = FeatureFile::validate_header(output).ok()?;
    let meta = &header.meta;
    let same =
        meta.kind == job.kind && meta.model == job.model && meta.inputs == [checksum.clone()];
    same.then_some(header.rows)
}

#[allow(clippy::too_many_arguments)]
fn collect(
    job: &EmbedJob,
    options: &EmbedOptions,
    outputs: &[PathBuf],
    cancel: &CancelToken,
    stop: &CancelToken,
    work_rx: &Receiver<Work>,
    msgs: Receiver<Msg>,
    on_event: &mut dyn FnMut(&EmbedEvent),
) -> Result<EmbedReport, EmbedError> {
    let mut outcomes: Vec<Option<FileOutcome>> = vec![None; job.inputs.len()];
    let mut pending: HashMap<usize, Pending> = HashMap::new();
    let mut stats: Vec<DeviceStats> = options
        .devices
        .iter()
        .map(|&d| DeviceStats {
            device: device_label(d),
            ..DeviceStats::default()
        })
        .collect();
    let mut dim = 0usize;
    let mut load_failures = Vec::new();
    let mut finish = |file: usize,
                      status: FileStatus,
                      sequences: usize,
                      on_event: &mut dyn FnMut(&EmbedEvent)| {
        let outcome = FileOutcome {
            input: job.inputs[file].clone(),
            output: outputs[file].clone(),
            sequences,
            status,
        };
        on_event(&EmbedEvent::FileDone(outcome.clone()));
        outcomes[file] = Some(outcome);
    };
    for msg in msgs {
        match msg {
            Msg::Queued(event) => on_event(&event),
            Msg::Settled {
                file,
                status,
                sequences,
            } => finish(file, status, sequences, on_event),
            Msg::Planned {
                file,
                ids,
                checksum,
                batches,
            } => {
                if batches == 0 {
                    // An input without records still gets its (empty) feature file only if
                    // the format allows it; it does not (dim must be known), so say so.
                    let failure = FileFailure::new(
                        FailureKind::BadRecord,
                        format!(
                            "{}: the file holds no sequences",
                            job.inputs[file].display()
                        ),
                    );
                    finish(file, FileStatus::Failed(failure), 0, on_event);
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
                    dim: d,
                    seconds,
                } => {
                    dim = d;
                    on_event(&EmbedEvent::WorkerReady {
                        device,
                        dim: d,
                        load_seconds: seconds,
                    });
                }
                Report::LoadFailed(err) => {
                    load_failures.push(err);
                    if load_failures.len() == options.devices.len() {
                        // No worker left: stop the producer and let it unblock.
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
                        finish(file, FileStatus::Failed(failure), p.ids.len(), on_event);
                    }
                }
                Report::Rows {
                    file,
                    indices,
                    rows,
                    device,
                    tokens,
                    seconds,
                } => {
                    if let Some(s) = stats.iter_mut().find(|s| s.device == device) {
                        s.sequences += indices.len();
                        s.tokens += tokens;
                        s.seconds += seconds;
                    }
                    on_event(&EmbedEvent::BatchDone {
                        device,
                        sequences: indices.len(),
                        tokens,
                        seconds,
                    });
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
                            let status = write_output(
                                job,
                                &outputs[file],
                                p.ids.clone(),
                                p.checksum,
                                dim,
                                &p.rows,
                            );
                            finish(file, status, p.ids.len(), on_event);
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
    let files = outcomes
        .into_iter()
        .enumerate()
        .map(|(file, outcome)| {
            outcome.unwrap_or_else(|| FileOutcome {
                input: job.inputs[file].clone(),
                output: outputs[file].clone(),
                sequences: 0,
                status: FileStatus::Failed(FileFailure::new(
                    FailureKind::Cancelled,
                    format!(
                        "{}: not finished before the run was cancelled",
                        job.inputs[file].display()
                    ),
                )),
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
    job: &EmbedJob,
    path: &Path,
    ids: Vec<String>,
    checksum: InputChecksum,
    dim: usize,
    rows: &[f32],
) -> FileStatus {
    let meta = FeatureMeta {
        kind: job.kind,
        model: job.model.clone(),
        dim,
        ids,
        inputs: vec![checksum],
    };
    let result = FeatureWriter::create(path, &meta).and_then(|mut writer| {
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
