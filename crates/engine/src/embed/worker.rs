//! A device worker: owns a copy of each model of the run, takes batches from the shared
//! queue as it becomes free (so fast devices take more), and sends rows back. A batch that
//! runs out of memory is split in halves and retried, and the worker keeps the smaller size
//! for later batches.
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use crossbeam_channel::Receiver;
use tch::{Device, Tensor};
use virnucpro_core::cancel::CancelToken;

use super::batch::split_rows;
use super::encoder::EncoderFactory;
use super::error::{EmbedError, FailureKind, FileFailure};
use crate::encode::Encode;

/// One batch of one file.
pub(super) struct Work {
    pub file: usize,
    /// Index of the model the batch is for.
    pub model: usize,
    /// Row indexes within the file, longest sequence first.
    pub indices: Vec<usize>,
    /// Token ids, aligned with `indices`.
    pub tokens: Vec<Vec<i64>>,
    pub pad_id: i64,
}

pub(super) enum Report {
    /// Model `model` is loaded on `device`.
    Ready {
        device: String,
        model: usize,
        dim: usize,
        seconds: f64,
    },
    LoadFailed(EmbedError),
    Rows {
        file: usize,
        indices: Vec<usize>,
        rows: Vec<f32>,
        device: String,
        tokens: usize,
        seconds: f64,
        /// Seconds the worker waited for this batch after finishing the previous one.
        waited: f64,
    },
    Failed {
        file: usize,
        failure: FileFailure,
    },
    /// The worker now runs each batch in `parts` pieces.
    Split {
        device: String,
        parts: usize,
    },
}

/// A device as users write it: `cpu`, `cuda:0`.
pub fn device_label(device: Device) -> String {
    match device {
        Device::Cpu => "cpu".into(),
        Device::Cuda(i) => format!("cuda:{i}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// `start` gives each worker one unit when the first batch is planned, and is dropped
/// without one when there is nothing to embed (every output up to date): then no model is
/// loaded, and a finished run resumes without the seconds that loading ESM-2 3B takes.
pub(super) fn run_worker(
    device: Device,
    factories: &[&dyn EncoderFactory],
    start: Receiver<()>,
    work: Receiver<Work>,
    report: &dyn Fn(Report) -> bool,
    cancel: &CancelToken,
) {
    if start.recv().is_err() {
        return;
    }
    // Grad mode is per thread; embeddings never need it.
    let _no_grad = tch::no_grad_guard();
    let label = device_label(device);
    let Some(encoders) = load_models(device, &label, factories, report) else {
        return;
    };
    let mut parts = 1usize;
    loop {
        let waiting = Instant::now();
        let Ok(item) = work.recv() else {
            return;
        };
        let waited = waiting.elapsed().as_secs_f64();
        if cancel.is_cancelled() {
            continue; // drain, so the feeder never blocks
        }
        let Some(encoder) = encoders.get(item.model) else {
            let failure = FileFailure::new(
                FailureKind::Model,
                format!("no model {} on {label}", item.model),
            );
            if !report(Report::Failed {
                file: item.file,
                failure,
            }) {
                return;
            }
            continue;
        };
        let started = Instant::now();
        let tokens: usize = item.tokens.iter().map(Vec::len).sum();
        let outcome = match run_batch(encoder.as_ref(), device, &item, &mut parts, &label, report) {
            Ok(rows) => Report::Rows {
                file: item.file,
                indices: item.indices,
                rows,
                device: label.clone(),
                tokens,
                seconds: started.elapsed().as_secs_f64(),
                waited,
            },
            Err(failure) => Report::Failed {
                file: item.file,
                failure,
            },
        };
        if !report(outcome) {
            return;
        }
    }
}

/// Every model before the first batch: a device that cannot hold them all fails here, at
/// the start, rather than hours later at its first batch of the other model. `None` when
/// one could not be loaded (reported).
fn load_models(
    device: Device,
    label: &str,
    factories: &[&dyn EncoderFactory],
    report: &dyn Fn(Report) -> bool,
) -> Option<Vec<Box<dyn Encode>>> {
    let mut encoders = Vec::with_capacity(factories.len());
    for (model, factory) in factories.iter().enumerate() {
        let started = Instant::now();
        match factory.load(device) {
            Ok(encoder) => {
                report(Report::Ready {
                    device: label.to_owned(),
                    model,
                    dim: encoder.dim(),
                    seconds: started.elapsed().as_secs_f64(),
                });
                encoders.push(encoder);
            }
            Err(err) => {
                report(Report::LoadFailed(err));
                return None;
            }
        }
    }
    Some(encoders)
}

/// Rows of the batch (row-major, `indices.len() × dim`), halving the pieces on OOM.
fn run_batch(
    encoder: &dyn Encode,
    device: Device,
    item: &Work,
    parts: &mut usize,
    label: &str,
    report: &dyn Fn(Report) -> bool,
) -> Result<Vec<f32>, FileFailure> {
    let positions: Vec<usize> = (0..item.indices.len()).collect();
    'retry: loop {
        let mut rows = Vec::new();
        for piece in split_rows(&positions, *parts) {
            match forward(encoder, device, item, piece) {
                Ok(r) => rows.extend(r),
                Err(message) if is_out_of_memory(&message) && piece.len() > 1 => {
                    *parts *= 2;
                    tracing::warn!(
                        device = label,
                        parts = *parts,
                        "out of memory: halving the batch budget"
                    );
                    report(Report::Split {
                        device: label.to_owned(),
                        parts: *parts,
                    });
                    continue 'retry;
                }
                Err(message) if is_out_of_memory(&message) => {
                    return Err(FileFailure::new(
                        FailureKind::OutOfMemory,
                        format!(
                        "a sequence of {} tokens does not fit in the memory of {label}: {message}",
                        item.tokens[piece[0]].len()
                    ),
                    ))
                }
                Err(message) => {
                    return Err(FileFailure::new(
                        FailureKind::Model,
                        format!("the model failed on {label}: {message}"),
                    ))
                }
            }
        }
        return Ok(rows);
    }
}

/// One forward pass over the rows at `piece` (positions in the batch). Panics from
/// libtorch (infallible tch calls panic on errors such as OOM) become error messages.
fn forward(
    encoder: &dyn Encode,
    device: Device,
    item: &Work,
    piece: &[usize],
) -> Result<Vec<f32>, String> {
    let width = piece
        .iter()
        .map(|&p| item.tokens[p].len())
        .max()
        .unwrap_or(0);
    let mut flat = Vec::with_capacity(piece.len() * width);
    let mut lengths = Vec::with_capacity(piece.len());
    for &p in piece {
        let tokens = &item.tokens[p];
        flat.extend_from_slice(tokens);
        flat.resize(flat.len() + width - tokens.len(), item.pad_id);
        lengths.push(tokens.len() as i64);
    }
    let result = catch_unwind(AssertUnwindSafe(|| -> Result<Vec<f32>, tch::TchError> {
        let ids = Tensor::f_from_slice(&flat)?
            .f_view([piece.len() as i64, width as i64])?
            .f_to(device)?;
        let out = encoder.embed(&ids, &lengths)?;
        let expected = [piece.len() as i64, encoder.dim() as i64];
        if out.size() != expected {
            return Err(tch::TchError::Shape(format!(
                "the model returned shape {:?}, expected {expected:?}",
                out.size()
            )));
        }
        let out = out
            .f_to_kind(tch::Kind::Float)?
            .f_to(Device::Cpu)?
            .f_contiguous()?
            .f_view([-1])?;
        Vec::<f32>::try_from(&out)
    }));
    match result {
        Ok(Ok(rows)) => Ok(rows),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "libtorch panicked".into())),
    }
}

fn is_out_of_memory(message: &str) -> bool {
    message.contains("out of memory") || message.contains("can't allocate memory")
}
