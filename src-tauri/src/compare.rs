//! `compare_runs`: two run folders compared by core (`core::compare`, what `virnucpro
//! compare` prints), and its errors as IPC errors.
use std::path::Path;

use virnucpro_core::compare::{compare_runs, CompareError};

use crate::api::{Comparison, ComparisonWarning};
use crate::error::{CommandError, CommandResult};

/// Compare the runs in folders `a` and `b`: `not_found` for a folder that is not there or
/// a run without its reports yet, `invalid` for a folder that is not a run's.
pub fn compare(a: &Path, b: &Path) -> CommandResult<Comparison> {
    let comparison = compare_runs(a, b)?;
    let warnings = comparison
        .warnings()
        .into_iter()
        .map(|warning| ComparisonWarning {
            message: warning.to_string(),
            warning,
        })
        .collect();
    Ok(Comparison {
        comparison,
        warnings,
    })
}

impl From<CompareError> for CommandError {
    fn from(err: CompareError) -> Self {
        match err {
            CompareError::NotFound { .. } | CompareError::ReportMissing { .. } => {
                CommandError::not_found(err.to_string())
            }
            CompareError::Io { path, source } => CommandError::io(&path, &source),
            CompareError::Manifest(err) => err.into(),
            CompareError::Report(err) => err.into(),
            CompareError::ReadSummary(err) => err.into(),
            CompareError::NotAFolder { .. }
            | CompareError::NotARunFolder { .. }
            | CompareError::Features(_)
            | CompareError::Legacy(_)
            | CompareError::WrongKind { .. }
            | CompareError::DuplicateShard { .. }
            | CompareError::WidthMismatch { .. } => CommandError::invalid(err.to_string()),
        }
    }
}
