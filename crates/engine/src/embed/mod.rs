//! Embedding FASTA files with one or more models on one or more devices: the `embed`
//! command, and both embedding stages of a run.
//!
//! A reader thread checks and tokenizes one input file at a time and plans token-budget
//! batches ([`batch`]), a file ahead of a feeder thread that queues the batches; one worker
//! thread per device owns a copy of every model and takes batches from the shared queue
//! as it becomes free ([`worker`]); the calling thread collects rows, puts them back in
//! input order, and writes one feature file per input, atomically, as soon as the file is
//! complete. Inputs arrive on a channel ([`embed_stream`]), so they may still be in the
//! making. A failed file is reported and the others go on. A file whose feature file
//! already exists for the same input checksum and model is skipped, so an interrupted run
//! resumes where it stopped.
pub mod batch;
mod collect;
mod encoder;
mod error;
mod jobs;
mod keep_loaded;
mod models;
mod reader;
mod run;
mod sequences;
mod worker;

use std::path::PathBuf;

use serde::Serialize;
use tch::Device;

use crate::devices::DeviceId;
use virnucpro_core::features::FeatureKind;

pub use crate::encode::{Encode, Tokenize};
pub use encoder::{EncoderFactory, Precision, PrecisionExt};
pub use error::{EmbedError, FailureKind, FileFailure};
pub use jobs::{Delivery, EngineModel, FileJob};
pub use keep_loaded::KeepLoaded;
pub use models::{setup_model, ModelKind, ModelSetup};
pub use run::{embed_files, embed_stream, output_in, output_path};
pub use sequences::{read_and_tokenize, tokenize_bytes, TokenizedFile};
pub use worker::device_label;

/// What to embed, with which model, into which folder.
pub struct EmbedJob<'a> {
    /// FASTA files, one feature file each.
    pub inputs: Vec<PathBuf>,
    pub out_dir: PathBuf,
    /// Recorded in the feature files (`nucleotide` for DNABERT-S, `protein` for ESM-2).
    pub kind: FeatureKind,
    /// Model name recorded in the feature files; a change makes old outputs stale.
    pub model: String,
    pub tokenizer: &'a dyn Tokenize,
    pub factory: &'a dyn EncoderFactory,
}

#[derive(Debug, Clone)]
pub struct EmbedOptions {
    /// One worker per device.
    pub devices: Vec<DeviceId>,
    /// Padded tokens per batch (rows × longest row).
    pub batch_tokens: usize,
    /// Recompute files whose outputs are up to date.
    pub force: bool,
}

/// Progress, delivered on the calling thread in the order things happen.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EmbedEvent {
    WorkerReady {
        device: String,
        /// The model's id (as recorded in feature files).
        model: String,
        dim: usize,
        load_seconds: f64,
    },
    FileQueued {
        input: PathBuf,
        sequences: usize,
        tokens: usize,
        batches: usize,
    },
    BatchDone {
        device: String,
        /// Index of the model (in the engine's list; 0 for `embed_files`).
        model: usize,
        sequences: usize,
        tokens: usize,
        seconds: f64,
    },
    /// A batch ran out of memory; the device now runs batches in `parts` pieces.
    BudgetHalved {
        device: String,
        parts: usize,
    },
    FileDone(FileOutcome),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum FileStatus {
    Written,
    /// The rows are in memory (a [`Delivery::Memory`] job), in the input's order: handed
    /// over in the file's [`EmbedEvent::FileDone`]; `None` in the run's [`EmbedReport`],
    /// which keeps no rows (holding every file's rows to the end would make memory grow
    /// with the input).
    Embedded {
        #[serde(skip)]
        rows: Option<MemoryRows>,
    },
    /// The existing output matches the input and model; nothing was recomputed.
    UpToDate,
    Failed(FileFailure),
}

/// A job's rows held in memory, shared without copying.
#[derive(Clone)]
pub struct MemoryRows(pub std::sync::Arc<virnucpro_core::features::FeatureTable>);

impl std::fmt::Debug for MemoryRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let meta = &self.0.meta;
        write!(f, "{} rows of {} ({})", meta.ids.len(), meta.dim, meta.kind)
    }
}

impl PartialEq for MemoryRows {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileOutcome {
    pub input: PathBuf,
    pub output: PathBuf,
    pub sequences: usize,
    pub status: FileStatus,
    /// The job's place in the order jobs were taken (the input's index for `embed_files`).
    #[serde(skip)]
    pub job: usize,
    /// Index of the model the file was for.
    #[serde(skip)]
    pub model: usize,
}

/// Work done by one device.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeviceStats {
    pub device: String,
    pub sequences: usize,
    pub tokens: usize,
    /// Time spent in forward passes.
    pub seconds: f64,
    /// Time the worker waited for a batch after its models were loaded (including the wait
    /// for the first one): the device was idle for want of input.
    pub wait_seconds: f64,
    pub oom_splits: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct EmbedReport {
    /// One outcome per input, in input order.
    pub files: Vec<FileOutcome>,
    pub devices: Vec<DeviceStats>,
    pub cancelled: bool,
}

impl EmbedReport {
    pub fn failed(&self) -> impl Iterator<Item = &FileOutcome> {
        self.files
            .iter()
            .filter(|f| matches!(f.status, FileStatus::Failed(_)))
    }
}

/// Default batch budget in padded tokens when the user gives none. On the CPU, larger
/// batches gain little; on a GPU the budget scales with free memory (after the model is
/// loaded), at roughly `dim × 64` bytes of activations per token, clamped to a sane range.
pub fn default_batch_tokens(device: Device, free_bytes: Option<u64>, dim: usize) -> usize {
    const CPU_TOKENS: usize = 8192;
    match (device, free_bytes) {
        (Device::Cpu, _) => CPU_TOKENS,
        (_, Some(free)) => {
            let per_token = (dim.max(1) * 64) as u64;
            ((free / 2 / per_token) as usize).clamp(1024, 1 << 20)
        }
        (_, None) => 16384,
    }
}

/// The default batch budget for a run on `devices`: the smallest default over them, so
/// every worker's batches fit.
pub fn default_budget(devices: &[crate::devices::DeviceId]) -> usize {
    let listed = crate::devices::list_devices(crate::Backend::detect());
    devices
        .iter()
        .map(|&id| {
            let free = listed
                .iter()
                .find(|d| d.id == id)
                .and_then(|d| d.free_memory);
            // The model is not loaded yet: leave it room (the ESM-2 3B fp32 weights are
            // 11.4 GB) by sizing for the widest model.
            let free = free.map(|f| f.saturating_sub(12 << 30));
            default_batch_tokens(id.into(), free, 2560)
        })
        .min()
        .unwrap_or(8192)
}
