//! One side of a pair, whatever its format: our feature file (memory-mapped) or a
//! legacy PyTorch `.pt` file of the Python tools (decoded into memory).
use std::path::Path;

use crate::features::{FeatureErrorKind, FeatureFile, FeatureKind};

use super::report::{FailureKind, Side};

/// Why an input could not be used.
#[derive(Debug)]
pub(crate) struct InputFailure {
    pub kind: FailureKind,
    pub reason: String,
}

pub(crate) enum Source {
    Features(FeatureFile),
    // Built by `read_legacy` once the pickle reader is merged.
    #[allow(dead_code)]
    Legacy {
        ids: Vec<String>,
        dim: usize,
        data: Vec<f32>,
        model: String,
    },
}

impl Source {
    /// Open `path` as the `side` input; the format follows the file name.
    pub fn open(path: &Path, side: Side) -> Result<Self, InputFailure> {
        let is_legacy = path.extension().is_some_and(|e| e == "pt");
        if is_legacy {
            return read_legacy(path, side);
        }
        let file = FeatureFile::open(path).map_err(|e| InputFailure {
            kind: match e.kind() {
                FeatureErrorKind::Unreadable | FeatureErrorKind::Write => FailureKind::Unreadable,
                FeatureErrorKind::Corrupt => FailureKind::Corrupt,
                FeatureErrorKind::UnsupportedDtype => FailureKind::UnsupportedDtype,
                FeatureErrorKind::DimensionMismatch => FailureKind::DimensionMismatch,
            },
            reason: e.to_string(),
        })?;
        let expected = match side {
            Side::Nucleotide => FeatureKind::Nucleotide,
            Side::Protein => FeatureKind::Protein,
        };
        if file.meta().kind != expected {
            return Err(InputFailure {
                kind: FailureKind::Corrupt,
                reason: format!("holds {} features, expected {expected}", file.meta().kind),
            });
        }
        Ok(Self::Features(file))
    }

    pub fn ids(&self) -> &[String] {
        match self {
            Self::Features(f) => f.ids(),
            Self::Legacy { ids, .. } => ids,
        }
    }

    pub fn dim(&self) -> usize {
        match self {
            Self::Features(f) => f.dim(),
            Self::Legacy { dim, .. } => *dim,
        }
    }

    pub fn model(&self) -> &str {
        match self {
            Self::Features(f) => &f.meta().model,
            Self::Legacy { model, .. } => model,
        }
    }

    /// Decode row `row` into `out` (`out.len() == dim()`).
    pub fn row_into(&self, row: usize, out: &mut [f32]) {
        match self {
            Self::Features(f) => f.row_into(row, out),
            Self::Legacy { dim, data, .. } => {
                out.copy_from_slice(&data[row * dim..(row + 1) * dim])
            }
        }
    }
}

/// The adapter to the legacy `.pt` reader. The safe PyTorch pickle reader is being written
/// on another branch; until it is merged, legacy inputs are reported, not guessed at.
fn read_legacy(path: &Path, side: Side) -> Result<Source, InputFailure> {
    let _ = side;
    Err(InputFailure {
        kind: FailureKind::Unreadable,
        reason: format!(
            "{}: reading legacy .pt feature files is not available in this build yet",
            path.display()
        ),
    })
}
