use std::io;
use std::path::PathBuf;

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A tab, newline or carriage return in a sequence ID would break the row layout.
    #[error("sequence ID {id:?} contains a tab or line break; it cannot be written to a report")]
    BadId { id: String },
}

/// Why a `read_summary.tsv` could not be read back (for the summary across samples).
#[derive(Debug, thiserror::Error)]
pub enum ReadSummaryError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Format {
        path: PathBuf,
        line: usize,
        message: String,
    },
}
