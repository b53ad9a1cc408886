//! The engine of an embedding run: a reader (checksum, tokenize, plan) and a feeder
//! ([`super::reader`]), the device workers ([`super::worker`]), and the collector
//! (reorder, write; [`super::collect`]).
//!
//! Files come in as [`FileJob`]s on a channel, so a caller can hand over inputs while they
//! are still being made (a run embeds shard `i` while prepare writes shard `i + 1`). The
//! reader works at least one file ahead of the feeder, which keeps a few batches queued
//! for the workers: a device that finishes a batch finds the next one ready, however long
//! tokenizing the next file takes. Feature files are written by the collector, never by a
//! device worker.
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crossbeam_channel::{bounded, unbounded, Receiver};
use virnucpro_core::cancel::CancelToken;
use virnucpro_core::fasta::fasta_stem;
use virnucpro_core::features::FeatureKind;

use super::collect::{collect, Msg};
use super::encoder::EncoderFactory;
use super::error::EmbedError;
use super::jobs::{Delivery, EngineModel, FileJob};
use super::reader::{feed, read_jobs, Planned};
use super::worker::{device_label, run_worker, Report, Work};
use super::{EmbedEvent, EmbedJob, EmbedOptions, EmbedReport};

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
            delivery: Delivery::File,
        });
    }
    drop(tx);
    let model = EngineModel {
        kind: job.kind,
        model: &job.model,
        tokenizer: job.tokenizer,
        factory: job.factory,
    };
    embed_stream(&[model], rx, Some(&job.out_dir), options, cancel, on_event)
}

/// Embed the files of `jobs` as they come, until the channel is closed (or `cancel`), with
/// the `models` on `options.devices`. Outcomes come back in the order the jobs were taken.
/// `out_dir`, the folder the jobs' files go to, is created first; `None` when every job
/// delivers its rows in memory.
pub fn embed_stream(
    models: &[EngineModel],
    jobs: Receiver<FileJob>,
    out_dir: Option<&Path>,
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
    if let Some(out_dir) = out_dir {
        std::fs::create_dir_all(out_dir).map_err(|source| EmbedError::Output {
            path: out_dir.to_path_buf(),
            source,
        })?;
    }

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
            let device: tch::Device = device.into();
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
