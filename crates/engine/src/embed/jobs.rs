//! What an embedding engine is given: the models it runs and one job per input file.
use std::path::PathBuf;

use virnucpro_core::features::FeatureKind;

use super::encoder::EncoderFactory;
use crate::encode::Tokenize;

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
    /// Where the feature file goes ([`Delivery::File`]); with [`Delivery::Memory`], the
    /// file it would be, named in messages.
    pub output: PathBuf,
    pub delivery: Delivery,
}

/// What becomes of a job's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Written to `output` (reused when it is up to date).
    File,
    /// Handed over in the job's outcome ([`super::FileStatus::Embedded`]), never written:
    /// a run that does not keep its features.
    Memory,
}
