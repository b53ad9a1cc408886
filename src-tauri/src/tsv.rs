//! The errors of core's readers of a run's files (`core::run_folder`, `core::report`,
//! `core::tsv`) as IPC errors: the shell reads no run file itself.
use virnucpro_core::report::ReadSummaryError;
use virnucpro_core::run_folder::RunFolderError;
use virnucpro_core::tsv::TsvError;

use crate::error::CommandError;

/// A run-folder file that cannot be read is an I/O error; one that is not ours, or holds
/// a value this version does not know, is `invalid` (the message names the file and the
/// field or line).
impl From<RunFolderError> for CommandError {
    fn from(err: RunFolderError) -> Self {
        match err {
            RunFolderError::Io { path, source } => CommandError::io(&path, &source),
            RunFolderError::Tsv(tsv) => tsv.into(),
            json @ RunFolderError::Json { .. } => CommandError::invalid(json.to_string()),
        }
    }
}

impl From<ReadSummaryError> for CommandError {
    fn from(err: ReadSummaryError) -> Self {
        match &err {
            ReadSummaryError::Io { path, source } => CommandError::io(path, source),
            ReadSummaryError::Format { .. } => CommandError::invalid(err.to_string()),
        }
    }
}

impl From<TsvError> for CommandError {
    fn from(err: TsvError) -> Self {
        match &err {
            TsvError::Io { path, source } => CommandError::io(path, source),
            _ => CommandError::invalid(err.to_string()),
        }
    }
}
