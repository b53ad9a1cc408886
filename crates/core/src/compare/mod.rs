//! Two runs of the same reads, compared: how far apart their reports and (when both kept
//! them) their feature files are. What `virnucpro compare RUN_A RUN_B` prints, e.g. for a
//! run at `--precision fp32` and one at `bf16`, to see whether bf16 is safe on one's own
//! weights and data (docs/cli.md, "virnucpro compare").
//!
//! - reports ([`ReportComparison`]): rows matched by ID; label agreement; score
//!   differences; the first disagreeing rows;
//! - features ([`FeatureComparison`]): DNABERT-S, ESM-2 and merged rows matched by ID
//!   within shards of the same name; the largest absolute difference and cosine
//!   similarity.
//!
//! Either side may also be the original tool's output folder (`{input}_merged/`, with the
//! `{input}_nucleotide/` and `{input}_protein/` folders beside it).
mod error;
mod features;
mod reports;
mod run;

use std::path::Path;

use serde::Serialize;

use crate::merge::IdExamples;

pub use error::CompareError;
pub use features::{FeatureComparison, FeatureSkip, FeatureStats, COMPARED_KINDS};
pub use reports::{
    compare_report, Disagreement, ReportComparison, ReportKind, ReportSkip, ScoreDiff,
    DISAGREEMENT_EXAMPLES,
};
pub use run::{ComparedRun, FolderKind, ModelIds, ModelUsed};

/// How many IDs found in one run only are named.
pub const ID_EXAMPLES: usize = 5;

/// Which of the two runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "CompareSide"))]
#[serde(rename_all = "lowercase")]
pub enum Side {
    A,
    B,
}

/// Everything `virnucpro compare` finds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RunComparison {
    pub a: ComparedRun,
    pub b: ComparedRun,
    /// The reports both runs have, in the order the run writes them.
    pub reports: Vec<ReportComparison>,
    pub reports_only_in_one: Vec<ReportSkip>,
    /// The feature kinds both runs kept.
    pub features: Vec<FeatureComparison>,
    pub features_only_in_one: Vec<FeatureSkip>,
}

impl RunComparison {
    /// The compared report whose labels agree least (the first of equals).
    pub fn lowest_agreement(&self) -> Option<&ReportComparison> {
        self.reports.iter().fold(None, |low, r| match low {
            Some(low) if low.agreement_percent <= r.agreement_percent => Some(low),
            _ => Some(r),
        })
    }

    /// The reports whose label agreement is below `min_percent`.
    pub fn below(&self, min_percent: f64) -> Vec<&ReportComparison> {
        self.reports
            .iter()
            .filter(|r| r.agreement_percent < min_percent)
            .collect()
    }
}

/// Why two runs may differ for reasons other than how they computed: said before the
/// numbers, so that a disagreement is not blamed on the precision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "warning", rename_all = "snake_case")]
pub enum CompareWarning {
    /// The weight files of a model differ (their content hashes).
    DifferentWeights { model: &'static str },
    /// Other `--length`: other chunks, so other rows.
    DifferentLength { a: usize, b: usize },
    /// Other `--shard-size`: feature rows are matched within shards of the same name.
    DifferentShardSize { a: usize, b: usize },
}

impl std::fmt::Display for CompareWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::DifferentWeights { model } => {
                write!(f, "the runs used different {model} weights")
            }
            Self::DifferentLength { a, b } => write!(
                f,
                "the runs cut reads into chunks of {a} and {b} bp: their rows are not the same"
            ),
            Self::DifferentShardSize { a, b } => write!(
                f,
                "the runs used shards of {a} and {b} sequences: feature rows are matched \
                 within shards of the same name, so some will not match"
            ),
        }
    }
}

impl RunComparison {
    /// What the two runs' manifests say differs besides precision and devices (nothing
    /// when either side has no manifest).
    pub fn warnings(&self) -> Vec<CompareWarning> {
        let mut warnings = Vec::new();
        if let (Some(a), Some(b)) = (&self.a.models, &self.b.models) {
            for ((model, used_a), (_, used_b)) in a.roles().into_iter().zip(b.roles()) {
                if used_a.xxh3 != used_b.xxh3 {
                    warnings.push(CompareWarning::DifferentWeights { model });
                }
            }
        }
        if let (Some(a), Some(b)) = (self.a.length, self.b.length) {
            if a != b {
                warnings.push(CompareWarning::DifferentLength { a, b });
            }
        }
        if let (Some(a), Some(b)) = (self.a.shard_size, self.b.shard_size) {
            if a != b && !self.features.is_empty() {
                warnings.push(CompareWarning::DifferentShardSize { a, b });
            }
        }
        warnings
    }
}

/// Compare the runs in folders `a` and `b`.
pub fn compare_runs(a: &Path, b: &Path) -> Result<RunComparison, CompareError> {
    let a = ComparedRun::open(a)?;
    let b = ComparedRun::open(b)?;
    let (reports, reports_only_in_one) = reports::compare_reports(&a, &b)?;
    let (features, features_only_in_one) = features::compare_features(&a, &b)?;
    Ok(RunComparison {
        a,
        b,
        reports,
        reports_only_in_one,
        features,
        features_only_in_one,
    })
}

/// Count an ID found in one run only, naming the first few.
fn note_id(ids: &mut IdExamples, id: &str) {
    ids.count += 1;
    if ids.examples.len() < ID_EXAMPLES {
        ids.examples.push(id.to_owned());
    }
}
