//! The collector of an embedding engine, on the calling thread: it hears from the reader
//! and the device workers, puts each file's rows back in input order, writes its feature
//! file as soon as its last batch is in, and reports every file's outcome.
use std::collections::HashMap;
use std::sync::Arc;

use crossbeam_channel::Receiver;
use virnucpro_core::cancel::CancelToken;
use virnucpro_core::features::{FeatureMeta, FeatureTable, FeatureWriter, InputChecksum};

use super::error::{EmbedError, FailureKind, FileFailure};
use super::jobs::{Delivery, EngineModel, FileJob};
use super::worker::{device_label, Report, Work};
use super::{
    DeviceStats, EmbedEvent, EmbedOptions, EmbedReport, FileOutcome, FileStatus, MemoryRows,
};
use virnucpro_core::disk::disk_full_errno;

/// Messages to the collector: jobs and plans from the reader, reports from the workers.
pub(super) enum Msg {
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

/// Collect until every thread has hung up; the report names every job taken.
pub(super) fn collect(
    models: &[EngineModel],
    options: &EmbedOptions,
    cancel: &CancelToken,
    stop: &CancelToken,
    work_rx: &Receiver<Work>,
    msgs: Receiver<Msg>,
    on_event: &mut dyn FnMut(&EmbedEvent),
) -> Result<EmbedReport, EmbedError> {
    let mut collector = Collector {
        models,
        options,
        stop,
        work_rx,
        on_event,
        files: Files {
            jobs: Vec::new(),
            outcomes: Vec::new(),
        },
        pending: HashMap::new(),
        stats: options
            .devices
            .iter()
            .map(|&d| DeviceStats {
                device: device_label(d.into()),
                ..DeviceStats::default()
            })
            .collect(),
        dims: vec![0usize; models.len()],
        load_failures: Vec::new(),
    };
    for msg in msgs {
        collector.handle(msg);
    }
    collector.report(cancel)
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
        // The rows went with the event; the record of the file keeps none.
        let kept = match outcome.status {
            FileStatus::Embedded { .. } => FileOutcome {
                status: FileStatus::Embedded { rows: None },
                ..outcome
            },
            _ => outcome,
        };
        self.outcomes[file] = Some(kept);
    }
}

/// A file being assembled from batches.
struct Pending {
    ids: Vec<String>,
    checksum: InputChecksum,
    rows: Vec<f32>,
    batches_left: usize,
}

struct Collector<'a, 'e> {
    models: &'a [EngineModel<'a>],
    options: &'a EmbedOptions,
    /// Stops the reader and the feeder when no worker is left.
    stop: &'a CancelToken,
    work_rx: &'a Receiver<Work>,
    on_event: &'e mut dyn FnMut(&EmbedEvent),
    files: Files,
    pending: HashMap<usize, Pending>,
    stats: Vec<DeviceStats>,
    /// Each model's embedding width, once a worker has loaded it.
    dims: Vec<usize>,
    load_failures: Vec<EmbedError>,
}

impl Collector<'_, '_> {
    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Taken { file, job } => {
                debug_assert_eq!(file, self.files.jobs.len());
                self.files.jobs.push(job);
                self.files.outcomes.push(None);
            }
            Msg::Queued(event) => (self.on_event)(&event),
            Msg::Settled {
                file,
                status,
                sequences,
            } => self.files.finish(file, status, sequences, self.on_event),
            Msg::Planned {
                file,
                ids,
                checksum,
                batches,
            } => self.planned(file, ids, checksum, batches),
            Msg::Worker(report) => self.worker(report),
        }
    }

    fn planned(&mut self, file: usize, ids: Vec<String>, checksum: InputChecksum, batches: usize) {
        if batches == 0 {
            // A feature file needs at least one row (its width comes from the rows).
            let failure = FileFailure::new(
                FailureKind::BadRecord,
                format!(
                    "{}: the file holds no sequences",
                    self.files.jobs[file].input.display()
                ),
            );
            self.files
                .finish(file, FileStatus::Failed(failure), 0, self.on_event);
            return;
        }
        self.pending.insert(
            file,
            Pending {
                ids,
                checksum,
                rows: Vec::new(),
                batches_left: batches,
            },
        );
    }

    fn worker(&mut self, report: Report) {
        match report {
            Report::Ready {
                device,
                model,
                dim,
                seconds,
            } => {
                self.dims[model] = dim;
                (self.on_event)(&EmbedEvent::WorkerReady {
                    device,
                    model: self.models[model].model.to_owned(),
                    dim,
                    load_seconds: seconds,
                });
            }
            Report::LoadFailed(err) => {
                self.load_failures.push(err);
                if self.load_failures.len() == self.options.devices.len() {
                    // No worker left: stop the reader and feeder and let them unblock.
                    self.stop.cancel();
                    while self.work_rx.try_recv().is_ok() {}
                }
            }
            Report::Split { device, parts } => {
                if let Some(s) = self.stats.iter_mut().find(|s| s.device == device) {
                    s.oom_splits += 1;
                }
                (self.on_event)(&EmbedEvent::BudgetHalved { device, parts });
            }
            Report::Failed { file, failure } => {
                if let Some(p) = self.pending.remove(&file) {
                    let status = FileStatus::Failed(failure);
                    self.files.finish(file, status, p.ids.len(), self.on_event);
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
                let model = self.files.jobs.get(file).map_or(0, |j| j.model);
                let batch = (indices.len(), tokens, seconds, waited);
                self.batch_done(device, model, batch);
                self.place_rows(file, model, &indices, &rows);
            }
        }
    }

    /// A device's batch of `model`: its totals and the event (`batch`: sequences, tokens,
    /// forward seconds, seconds waited for it).
    fn batch_done(&mut self, device: String, model: usize, batch: (usize, usize, f64, f64)) {
        let (sequences, tokens, seconds, waited) = batch;
        if let Some(s) = self.stats.iter_mut().find(|s| s.device == device) {
            s.sequences += sequences;
            s.tokens += tokens;
            s.seconds += seconds;
            s.wait_seconds += waited;
        }
        (self.on_event)(&EmbedEvent::BatchDone {
            device,
            model,
            sequences,
            tokens,
            seconds,
        });
    }

    /// Put a batch's rows in their places in the file; with its last batch in, the file
    /// is written.
    fn place_rows(&mut self, file: usize, model: usize, indices: &[usize], rows: &[f32]) {
        let dim = self.dims[model];
        let Some(p) = self.pending.get_mut(&file) else {
            return;
        };
        if p.rows.is_empty() {
            p.rows = vec![0.0; p.ids.len() * dim];
        }
        for (k, &i) in indices.iter().enumerate() {
            p.rows[i * dim..(i + 1) * dim].copy_from_slice(&rows[k * dim..(k + 1) * dim]);
        }
        p.batches_left -= 1;
        if p.batches_left == 0 {
            if let Some(p) = self.pending.remove(&file) {
                let job = &self.files.jobs[file];
                let sequences = p.ids.len();
                let status = deliver(&self.models[model], job, p.ids, p.checksum, dim, p.rows);
                self.files.finish(file, status, sequences, self.on_event);
            }
        }
    }

    /// Every thread has hung up: the report, or the error when no worker could start.
    fn report(self, cancel: &CancelToken) -> Result<EmbedReport, EmbedError> {
        if self.load_failures.len() == self.options.devices.len() {
            if let Some(err) = self.load_failures.into_iter().next() {
                return Err(err);
            }
        } else {
            for err in &self.load_failures {
                tracing::warn!("a device worker could not start; the others went on: {err}");
            }
        }
        let cancelled = cancel.is_cancelled();
        let Files { jobs, outcomes } = self.files;
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
            devices: self.stats,
            cancelled,
        })
    }
}

/// The job's rows, complete: written to its feature file, or handed over in memory.
fn deliver(
    model: &EngineModel,
    job: &FileJob,
    ids: Vec<String>,
    checksum: InputChecksum,
    dim: usize,
    rows: Vec<f32>,
) -> FileStatus {
    let meta = FeatureMeta {
        kind: model.kind,
        model: model.model.to_owned(),
        dim,
        ids,
        inputs: vec![checksum],
    };
    if job.delivery == Delivery::Memory {
        let table = FeatureTable { meta, rows };
        return FileStatus::Embedded {
            rows: Some(MemoryRows(Arc::new(table))),
        };
    }
    let result = FeatureWriter::create(&job.output, &meta).and_then(|mut writer| {
        for row in rows.chunks_exact(dim) {
            writer.write_row(row)?;
        }
        writer.finish()
    });
    match result {
        Ok(_) => FileStatus::Written,
        Err(e) => {
            let mut failure = FileFailure::new(FailureKind::Write, e.to_string());
            failure.disk_full = disk_full_errno(&e);
            FileStatus::Failed(failure)
        }
    }
}
