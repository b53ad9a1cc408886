//! Errors of an embedding run: fatal ones ([`EmbedError`]) stop it; per-file ones
//! ([`FileFailure`]) are carried to the end in the report while other files go on.
use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// Settings that cannot work (precision on a device, an empty device list, ...).
    #[error("{0}")]
    Settings(String),
    /// The model's files are not a usable model of its kind, found from their headers
    /// before any device loads it (the loader's message names the file and the problem).
    #[error("{0}")]
    Unusable(String),
    /// The model could not be loaded (message from the model loader, naming the file).
    #[error("cannot load the model on {device}: {message}")]
    Load { device: String, message: String },
    #[error("{}: cannot create the output folder: {source}", path.display())]
    Output {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("a device worker stopped unexpectedly: {0}")]
    Worker(String),
}

/// Why one input file produced no feature file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Missing, unreadable or not FASTA.
    Unreadable,
    /// A record the model cannot take (unknown characters, empty, duplicate ID).
    BadRecord,
    /// A single sequence does not fit in the device's memory.
    OutOfMemory,
    /// libtorch failed in the forward pass.
    Model,
    /// The feature file could not be written.
    Write,
    /// The run was cancelled before the file was finished (it is redone on resume).
    Cancelled,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        self.category().as_str()
    }

    /// The run-wide kind (`core::events::FailureKind`) this one is listed as.
    pub fn category(self) -> virnucpro_core::events::FailureKind {
        use virnucpro_core::events::FailureKind as Run;
        match self {
            Self::Unreadable => Run::Unreadable,
            Self::BadRecord => Run::BadRecord,
            Self::OutOfMemory => Run::OutOfMemory,
            Self::Model => Run::Model,
            Self::Write => Run::Write,
            Self::Cancelled => Run::Cancelled,
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed input file: the kind and a message naming the file (and record, if any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileFailure {
    pub kind: FailureKind,
    pub message: String,
    /// The OS error number when the feature file could not be written because the disk is
    /// full (ENOSPC, EDQUOT): a run stops on it instead of listing the file as failed.
    #[serde(skip)]
    pub disk_full: Option<i32>,
}

impl FileFailure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            disk_full: None,
        }
    }
}

impl fmt::Display for FileFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}
