use std::io;
use std::path::PathBuf;

use super::HeaderError;

/// The category of a [`FeatureError`], for callers that report failures by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureErrorKind {
    /// The file could not be opened or read (missing, permission, I/O error).
    Unreadable,
    /// Truncated, bad header, inconsistent metadata.
    Corrupt,
    /// An element type other than F32, F16, BF16.
    UnsupportedDtype,
    /// Declared and actual dimensions (or ID count and rows) disagree.
    DimensionMismatch,
    /// The file could not be written.
    Write,
}

#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: {source}", path.display())]
    Header {
        path: PathBuf,
        #[source]
        source: HeaderError,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A writer was given rows that do not fit the metadata it was created with.
    #[error("{}: {reason}", path.display())]
    Shape { path: PathBuf, reason: String },
    /// The header is sound but the data is not what was written.
    #[error("{}: {source}", path.display())]
    Data {
        path: PathBuf,
        #[source]
        source: DataError,
    },
}

/// Why the data of a feature file with a valid header is not sound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    #[error("the data does not match its checksum (recorded {expected:016x}, found {actual:016x}): the file was changed after it was written")]
    Checksum { expected: u64, actual: u64 },
    /// Only looked for in files without a data checksum.
    #[error("non-finite value at row {row}, column {column}")]
    NonFinite { row: usize, column: usize },
}

impl FeatureError {
    pub fn kind(&self) -> FeatureErrorKind {
        match self {
            Self::Read { .. } => FeatureErrorKind::Unreadable,
            Self::Header { source, .. } => source.kind(),
            Self::Write { .. } => FeatureErrorKind::Write,
            Self::Shape { .. } => FeatureErrorKind::DimensionMismatch,
            Self::Data { .. } => FeatureErrorKind::Corrupt,
        }
    }

    pub fn path(&self) -> &std::path::Path {
        match self {
            Self::Read { path, .. }
            | Self::Header { path, .. }
            | Self::Write { path, .. }
            | Self::Shape { path, .. }
            | Self::Data { path, .. } => path,
        }
    }
}
