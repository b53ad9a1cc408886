//! Typed errors of the ESM-2 model: every one names the checkpoint it concerns.
use std::path::{Path, PathBuf};

use crate::weights::WeightError;

/// A problem with an ESM-2 checkpoint or with the tokens given to the model.
#[derive(Debug, thiserror::Error)]
#[error("ESM-2 model {}: {problem}", path.display())]
pub struct Esm2Error {
    /// The file or folder the model was (or was to be) loaded from.
    pub path: PathBuf,
    pub problem: Esm2Problem,
}

impl Esm2Error {
    pub(crate) fn new(path: &Path, problem: impl Into<Esm2Problem>) -> Self {
        Self {
            path: path.to_path_buf(),
            problem: problem.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Esm2Problem {
    /// Unreadable weights, or missing, unexpected and mis-shaped tensors (all listed).
    /// Boxed: the key lists would make every `Result` of the model large.
    #[error("{0}")]
    Weights(Box<WeightError>),
    /// The checkpoint is some other model (DNABERT, ESM-1b, ...).
    #[error("not an ESM-2 checkpoint: {0}")]
    WrongArchitecture(String),
    /// `config.json` exists but cannot be read as a JSON object.
    #[error("cannot read {}: {detail}", path.display())]
    ConfigFile { path: PathBuf, detail: String },
    /// The declared configuration and the tensors disagree, or a value is out of range.
    #[error("inconsistent configuration: {0}")]
    InconsistentConfig(String),
    #[error("ESM-2 cannot run in {0:?}; use Float, Half, BFloat16 or Double")]
    UnsupportedKind(tch::Kind),
    /// Tokens or lengths given to the model are malformed.
    #[error("invalid input: {0}")]
    Input(String),
    #[error("libtorch failed: {0}")]
    Torch(#[from] tch::TchError),
    /// The varlen flash-attention kernel of the packed fast path failed (a libtorch without
    /// it, an unsupported head width, out of memory): the switch is `packed`, so a run
    /// without it (`-packed`) takes the padded path.
    #[error("the fast-path switch 'packed' failed in the varlen flash-attention kernel: {0}")]
    PackedAttention(tch::TchError),
}

impl From<WeightError> for Esm2Problem {
    fn from(e: WeightError) -> Self {
        Esm2Problem::Weights(Box::new(e))
    }
}
