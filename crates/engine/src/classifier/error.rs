//! Typed errors of the classifier: every one names the checkpoint it concerns.
use std::path::{Path, PathBuf};

use virnucpro_core::file_kind::FileKind;
use virnucpro_core::pickle::{TorchFileError, TorchFileProblem};

/// A problem with a classifier checkpoint or with the rows given to it.
#[derive(Debug, thiserror::Error)]
#[error("classifier {}: {problem}", path.display())]
pub struct ClassifierError {
    /// The checkpoint the model was (or was to be) loaded from.
    pub path: PathBuf,
    pub problem: ClassifierProblem,
}

impl ClassifierError {
    pub(crate) fn new(path: &Path, problem: ClassifierProblem) -> Self {
        Self {
            path: path.to_path_buf(),
            problem,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClassifierProblem {
    /// The file is another kind of file than a PyTorch checkpoint (a FASTA file, a
    /// safetensors file, a pre-1.6 torch pickle): said in the user's terms first.
    #[error("this is not a PyTorch model file: it is {0}")]
    NotAModelFile(FileKind),
    /// The file is missing, truncated or not a readable torch archive.
    #[error("cannot read the checkpoint: {}", .0.problem)]
    Unreadable(#[source] TorchFileError),
    /// The pickle is not a whole pickled `MLPClassifier` module.
    #[error("not a pickled MLPClassifier module: {0}")]
    WrongArchitecture(String),
    #[error("missing tensors: {}", .0.join(", "))]
    MissingKeys(Vec<String>),
    #[error("unexpected tensors (not part of an MLPClassifier): {}", .0.join(", "))]
    UnexpectedKeys(Vec<String>),
    #[error("{key} has shape {found:?}, expected {expected:?}")]
    ShapeMismatch {
        key: String,
        expected: Vec<u64>,
        found: Vec<u64>,
    },
    #[error("attribute {attr} is invalid: {detail}")]
    BadAttribute { attr: String, detail: String },
    #[error("{0} holds NaN or infinite values")]
    NonFiniteWeight(String),
    #[error("input rows have width {found}, but the model takes {expected} features")]
    InputWidth { expected: usize, found: usize },
    #[error("input must be rows of features: {0}")]
    InputShape(String),
    #[error("input row {row} holds a NaN or infinite value (column {column})")]
    NonFiniteInput { row: usize, column: usize },
    #[error("libtorch failed: {0}")]
    Torch(#[from] tch::TchError),
}

impl ClassifierProblem {
    /// Why the checkpoint could not be opened as a torch archive.
    pub(crate) fn opening(error: TorchFileError) -> Self {
        match error.problem {
            TorchFileProblem::NotZip(kind) if kind != FileKind::Empty => Self::NotAModelFile(kind),
            _ => Self::Unreadable(error),
        }
    }
}
