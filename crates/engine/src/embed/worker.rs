//! A device worker: owns a copy of each model of the run (the second loading while the
//! first already works), takes batches from the shared queue as it becomes free (so fast
//! devices take more), and sends rows back. A batch that
//! runs out of memory is split in halves and retried, and the worker keeps the smaller size
//! for later batches.
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use crossbeam_channel::{never, select, unbounded, Receiver};
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
///
/// The first model is loaded here; the others load on a helper thread meanwhile, so the
/// device works on the first model's batches (DNABERT-S, small and quick to load) while
/// the second (ESM-2 3B, 11 GB) loads, instead of idling until both are in. Batches of a
/// model still loading wait in the worker, in order, and run as soon as it is in.
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
    let Some((first, rest)) = factories.split_first() else {
        return;
    };
    let Some(first) = load_model(device, &label, 0, *first, report) else {
        return;
    };
    let (loaded_tx, loaded_rx) = unbounded::<Loaded>();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let _no_grad = tch::no_grad_guard();
            for (i, factory) in rest.iter().enumerate() {
                let started = Instant::now();
                let result = factory.load(device);
                let failed = result.is_err();
                let seconds = started.elapsed().as_secs_f64();
                if loaded_tx.send((i + 1, result, seconds)).is_err() || failed {
                    return;
                }
            }
        });
        let mut worker = Worker {
            device,
            label,
            encoders: vec![Some(first)],
            waiting: VecDeque::new(),
            parts: 1,
        };
        worker.encoders.resize_with(factories.len(), || None);
        worker.serve(&work, &loaded_rx, report, cancel);
        worker.report_late_loads(&loaded_rx, report);
    });
}

/// A model a helper thread loaded: its index, the model or why not, the seconds it took.
type Loaded = (usize, Result<Box<dyn Encode>, EmbedError>, f64);

/// A device worker's state while it serves batches.
struct Worker {
    device: Device,
    label: String,
    /// Each model of the run, `None` while it loads.
    encoders: Vec<Option<Box<dyn Encode>>>,
    /// Batches of models still loading, in arrival order, with the seconds waited for them.
    waiting: VecDeque<(Work, f64)>,
    parts: usize,
}

impl Worker {
    /// Serve batches until the queue is closed and every waiting batch has run, or a
    /// report finds no one listening; a model that fails to load ends the worker.
    fn serve(
        &mut self,
        work: &Receiver<Work>,
        loaded: &Receiver<Loaded>,
        report: &dyn Fn(Report) -> bool,
        cancel: &CancelToken,
    ) {
        let (no_work, no_model) = (never::<Work>(), never::<Loaded>());
        let mut queue_open = true;
        let mut loading = self.encoders.iter().any(Option::is_none);
        while queue_open || (loading && !self.waiting.is_empty()) {
            if cancel.is_cancelled() {
                // Nothing waiting will run: do not wait for a model to load for it.
                self.waiting.clear();
            }
            let waiting = Instant::now();
            let queue = if queue_open { work } else { &no_work };
            let models = if loading { loaded } else { &no_model };
            select! {
                recv(queue) -> item => match item {
                    Ok(item) => {
                        let waited = waiting.elapsed().as_secs_f64();
                        if !self.take(item, waited, report, cancel) {
                            return;
                        }
                    }
                    Err(_) => queue_open = false,
                },
                recv(models) -> model => match model {
                    Ok((index, Ok(encoder), seconds)) => {
                        let ready = self.ready(index, encoder, seconds);
                        loading = self.encoders.iter().any(Option::is_none);
                        if !report(ready) || !self.run_waiting(report, cancel) {
                            return;
                        }
                    }
                    Ok((_, Err(err), _)) => {
                        report(Report::LoadFailed(err));
                        return;
                    }
                    Err(_) => loading = false,
                },
            }
        }
    }

    /// Report the models that finished loading after the last batch was served. The scope
    /// joins the loading thread anyway (a load cannot be interrupted), so this waits no
    /// longer; it keeps every device's loads in the events and the run's manifest, whichever
    /// way the race between the closing queue and a finishing load went.
    fn report_late_loads(&mut self, loaded: &Receiver<Loaded>, report: &dyn Fn(Report) -> bool) {
        for (index, result, seconds) in loaded.iter() {
            let sent = match result {
                Ok(encoder) => report(self.ready(index, encoder, seconds)),
                Err(err) => report(Report::LoadFailed(err)),
            };
            if !sent {
                return;
            }
        }
    }

    fn ready(&mut self, index: usize, encoder: Box<dyn Encode>, seconds: f64) -> Report {
        let dim = encoder.dim();
        if let Some(slot) = self.encoders.get_mut(index) {
            *slot = Some(encoder);
        }
        Report::Ready {
            device: self.label.clone(),
            model: index,
            dim,
            seconds,
        }
    }

    /// A batch from the queue: run now, or wait for its model. `false` when no one listens.
    fn take(
        &mut self,
        item: Work,
        waited: f64,
        report: &dyn Fn(Report) -> bool,
        cancel: &CancelToken,
    ) -> bool {
        if cancel.is_cancelled() {
            return true; // drain, so the feeder never blocks
        }
        if matches!(self.encoders.get(item.model), Some(None)) {
            self.waiting.push_back((item, waited));
            return true;
        }
        self.run(item, waited, report)
    }

    /// Run the waiting batches whose model is now loaded, in order.
    fn run_waiting(&mut self, report: &dyn Fn(Report) -> bool, cancel: &CancelToken) -> bool {
        let waiting = std::mem::take(&mut self.waiting);
        for (item, waited) in waiting {
            if !self.take(item, waited, report, cancel) {
                return false;
            }
        }
        true
    }

    /// Run one batch and report its rows or its failure.
    fn run(&mut self, item: Work, waited: f64, report: &dyn Fn(Report) -> bool) -> bool {
        let Some(Some(encoder)) = self.encoders.get(item.model) else {
            let failure = FileFailure::new(
                FailureKind::Model,
                format!("no model {} on {}", item.model, self.label),
            );
            return report(Report::Failed {
                file: item.file,
                failure,
            });
        };
        let started = Instant::now();
        let tokens: usize = item.tokens.iter().map(Vec::len).sum();
        let batch = run_batch(
            encoder.as_ref(),
            self.device,
            &item,
            &mut self.parts,
            &self.label,
            report,
        );
        let outcome = match batch {
            Ok(rows) => Report::Rows {
                file: item.file,
                indices: item.indices,
                rows,
                device: self.label.clone(),
                tokens,
                seconds: started.elapsed().as_secs_f64(),
                waited,
            },
            Err(failure) => Report::Failed {
                file: item.file,
                failure,
            },
        };
        report(outcome)
    }
}

/// Load model `index` on `device`, reporting it ready or failed; `None` when it failed.
fn load_model(
    device: Device,
    label: &str,
    index: usize,
    factory: &dyn EncoderFactory,
    report: &dyn Fn(Report) -> bool,
) -> Option<Box<dyn Encode>> {
    let started = Instant::now();
    match factory.load(device) {
        Ok(encoder) => {
            report(Report::Ready {
                device: label.to_owned(),
                model: index,
                dim: encoder.dim(),
                seconds: started.elapsed().as_secs_f64(),
            });
            Some(encoder)
        }
        Err(err) => {
            report(Report::LoadFailed(err));
            None
        }
    }
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
