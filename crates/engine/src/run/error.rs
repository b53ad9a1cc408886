//! Errors that stop a run (a failure of one shard does not: it is an `ItemFailure`).
use std::path::{Path, PathBuf};

use virnucpro_core::merge::MergeError;
use virnucpro_core::prepare::PrepareError;
use virnucpro_core::report::ReportError;
use virnucpro_core::run_folder::lock::RunLockError;

use super::spec::SpecProblem;
use crate::classifier::ClassifierError;
use crate::embed::EmbedError;

/// Errors that stop a run. Failures of single shards do not: they are listed in
/// `failures.tsv` and the run goes on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the run settings have {} problem(s):\n{}", .0.len(), problem_lines(.0))]
    Invalid(Vec<SpecProblem>),
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Merge(#[from] MergeError),
    /// The classifier could not be loaded on the classify device.
    #[error(transparent)]
    Classifier(#[from] ClassifierError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Another run holds the output folder.
    #[error(transparent)]
    FolderBusy(#[from] RunLockError),
    #[error("internal error: {0}")]
    Worker(String),
}

fn problem_lines(problems: &[SpecProblem]) -> String {
    let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
    lines.join("\n")
}

pub(super) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_path_buf(),
        source,
    }
}
