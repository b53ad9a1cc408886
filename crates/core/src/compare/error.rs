use std::io;
use std::path::PathBuf;

use crate::features::{FeatureError, FeatureKind};
use crate::legacy::LegacyError;
use crate::report::ReadSummaryError;
use crate::run_folder::RunFolderError;
use crate::tsv::TsvError;

/// Why two runs could not be compared. Every message names the folder or file at fault.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("{}: no such folder", path.display())]
    NotFound { path: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: not a folder; give the folder `virnucpro predict --out` wrote", path.display())]
    NotAFolder { path: PathBuf },
    /// Neither a run manifest nor the prediction report: not the output of a run.
    #[error(
        "{}: not a run folder: it holds neither run-manifest.json nor prediction_results.txt{hint}",
        path.display()
    )]
    NotARunFolder { path: PathBuf, hint: String },
    /// A run folder (it has a manifest) without the report every comparison needs.
    #[error("{}: the run folder has no {file}{hint}", folder.display())]
    ReportMissing {
        folder: PathBuf,
        file: &'static str,
        hint: String,
    },
    /// `run-manifest.json` that cannot be read, or holds values this version does not know.
    #[error(transparent)]
    Manifest(#[from] RunFolderError),
    /// `prediction_results.txt` or `prediction_results_highestscore.csv`.
    #[error(transparent)]
    Report(#[from] TsvError),
    #[error(transparent)]
    ReadSummary(#[from] ReadSummaryError),
    #[error(transparent)]
    Features(#[from] FeatureError),
    /// A feature file of the Python tools (`*_DNABERT_S.pt`, `*_ESM.pt`, `*_merged.pt`).
    #[error(transparent)]
    Legacy(#[from] LegacyError),
    #[error("{}: holds {found} features where {expected} features belong", path.display())]
    WrongKind {
        path: PathBuf,
        found: FeatureKind,
        expected: FeatureKind,
    },
    /// Two feature files of one kind and shard in one folder (ours and the Python tools').
    #[error("shard {shard} is there twice: {} and {}", first.display(), second.display())]
    DuplicateShard {
        shard: String,
        first: PathBuf,
        second: PathBuf,
    },
    /// The same shard's rows are of different widths: not the same model.
    #[error(
        "{} has rows of {dim_a} values, {} of {dim_b}: the runs used different models",
        a.display(),
        b.display()
    )]
    WidthMismatch {
        a: PathBuf,
        b: PathBuf,
        dim_a: usize,
        dim_b: usize,
    },
}

impl CompareError {
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
