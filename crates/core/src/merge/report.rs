//! What a merge reports: one [`PairReport`] per shard, failures kept typed and detailed.
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::features::FeatureKind;

/// Which of the two inputs of a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Nucleotide,
    Protein,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        self.feature_kind().as_str()
    }

    /// The kind of our feature files on this side.
    pub fn feature_kind(self) -> FeatureKind {
        match self {
            Self::Nucleotide => FeatureKind::Nucleotide,
            Self::Protein => FeatureKind::Protein,
        }
    }

    pub fn other(self) -> Self {
        match self {
            Self::Nucleotide => Self::Protein,
            Self::Protein => Self::Nucleotide,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a pair failed, by category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FailureKind {
    /// The shard has a file on one side only; `side` is the one missing.
    MissingInput { side: Side },
    /// The shard has more than one input file on `side` (e.g. `.safetensors` and `.pt`).
    AmbiguousInput { side: Side },
    /// An input could not be opened or read (I/O, permission, not a file).
    Unreadable,
    /// Truncated, bad header, bad pickle, wrong kind of file, NaN or infinite values.
    Corrupt,
    /// Declared and actual dimensions disagree (header dim vs tensor, IDs vs rows).
    DimensionMismatch,
    /// An element type we do not read (e.g. F64).
    UnsupportedDtype,
    /// IDs on one side only, or duplicated.
    IdMismatch,
    /// The output could not be written (disk full, permission, path taken).
    OutputWrite,
    /// Cancelled before or during this pair.
    Cancelled,
}

impl FailureKind {
    /// Stable snake_case name (the `kind` column of `failures.tsv`).
    pub fn name(self) -> &'static str {
        self.category().as_str()
    }

    /// The run-wide kind (`core::events::FailureKind`) this one is listed as.
    pub fn category(self) -> crate::events::FailureKind {
        use crate::events::FailureKind as Run;
        match self {
            Self::MissingInput { .. } => Run::MissingInput,
            Self::AmbiguousInput { .. } => Run::AmbiguousInput,
            Self::Unreadable => Run::Unreadable,
            Self::Corrupt => Run::Corrupt,
            Self::DimensionMismatch => Run::DimensionMismatch,
            Self::UnsupportedDtype => Run::UnsupportedDtype,
            Self::IdMismatch => Run::IdMismatch,
            Self::OutputWrite => Run::OutputWrite,
            Self::Cancelled => Run::Cancelled,
        }
    }

    /// The side a kind is about, where it names one.
    pub fn side(self) -> Option<Side> {
        match self {
            Self::MissingInput { side } | Self::AmbiguousInput { side } => Some(side),
            _ => None,
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.side() {
            Some(side) => write!(f, "{} ({side})", self.name()),
            None => f.write_str(self.name()),
        }
    }
}

/// IDs in one category: how many distinct ones, and the first few in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IdExamples {
    pub count: usize,
    pub examples: Vec<String>,
}

/// Every way the IDs of a pair disagree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IdReport {
    pub only_nucleotide: IdExamples,
    pub only_protein: IdExamples,
    pub duplicated_nucleotide: IdExamples,
    pub duplicated_protein: IdExamples,
}

/// The specifics of a failure; which files are at fault is in [`PairFailure::paths`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FailureDetails {
    /// No file for one side (see the kind); `paths` holds the partner that exists.
    MissingPartner {
        expected: Vec<String>,
    },
    /// More than one file for one side; `paths` holds them all.
    Ambiguous,
    /// An input on `side` could not be used.
    Input {
        side: Side,
        reason: String,
    },
    /// A value that is NaN or infinite.
    NonFinite {
        side: Side,
        id: String,
        row: usize,
        column: usize,
    },
    Ids(Box<IdReport>),
    /// The output could not be written.
    Output {
        reason: String,
        /// The OS error number when the cause was a full disk or quota (ENOSPC, EDQUOT):
        /// a run stops on it instead of listing the shard as failed.
        #[serde(skip)]
        disk_full: Option<i32>,
    },
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairFailure {
    #[serde(flatten)]
    pub kind: FailureKind,
    pub details: FailureDetails,
    /// The files at fault (an input, both inputs, or the output).
    pub paths: Vec<PathBuf>,
}

impl PairFailure {
    /// The OS error when the output could not be written because the disk is full.
    pub fn disk_full(&self) -> Option<std::io::Error> {
        match &self.details {
            FailureDetails::Output {
                disk_full: Some(code),
                ..
            } => Some(std::io::Error::from_raw_os_error(*code)),
            _ => None,
        }
    }

    /// The side at fault, where one is.
    pub fn side(&self) -> Option<Side> {
        match &self.details {
            FailureDetails::Input { side, .. } | FailureDetails::NonFinite { side, .. } => {
                Some(*side)
            }
            _ => self.kind.side(),
        }
    }
}

impl fmt::Display for PairFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.details {
            FailureDetails::MissingPartner { expected } => {
                write!(
                    f,
                    "no {} file; expected one of {}",
                    self.kind.side().map_or("", Side::as_str),
                    expected.join(", ")
                )
            }
            FailureDetails::Ambiguous => write!(
                f,
                "{} {} files for one shard; keep one",
                self.paths.len(),
                self.kind.side().map_or("", Side::as_str)
            ),
            FailureDetails::Input { side, reason } => write!(f, "{side} input: {reason}"),
            FailureDetails::NonFinite {
                side,
                id,
                row,
                column,
            } => write!(
                f,
                "{side} input: non-finite value at row {row} (ID {id}), column {column}"
            ),
            FailureDetails::Ids(ids) => {
                let mut parts = Vec::new();
                for (label, e) in [
                    ("only in nucleotide", &ids.only_nucleotide),
                    ("only in protein", &ids.only_protein),
                    ("duplicated in nucleotide", &ids.duplicated_nucleotide),
                    ("duplicated in protein", &ids.duplicated_protein),
                ] {
                    if e.count > 0 {
                        parts.push(format!(
                            "{} {label} (e.g. {})",
                            e.count,
                            e.examples.join(", ")
                        ));
                    }
                }
                write!(f, "IDs differ: {}", parts.join("; "))
            }
            FailureDetails::Output { reason, .. } => write!(f, "cannot write output: {reason}"),
            FailureDetails::Cancelled => f.write_str("cancelled"),
        }
    }
}

/// How one pair ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum PairOutcome {
    Merged {
        rows: usize,
    },
    /// A valid output made from exactly these inputs already existed.
    Skipped {
        rows: usize,
    },
    Failed(PairFailure),
}

/// One shard of the merge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairReport {
    pub shard: String,
    pub nucleotide: Vec<PathBuf>,
    pub protein: Vec<PathBuf>,
    pub output: PathBuf,
    pub outcome: PairOutcome,
    /// Input bytes read (hashed and, if merged, copied).
    pub bytes_in: u64,
    /// Output bytes written.
    pub bytes_out: u64,
}

impl PairReport {
    pub fn failure(&self) -> Option<&PairFailure> {
        match &self.outcome {
            PairOutcome::Failed(f) => Some(f),
            _ => None,
        }
    }

    /// Merged now or already up to date.
    pub fn is_ok(&self) -> bool {
        self.failure().is_none()
    }
}

/// The whole merge.
#[derive(Debug, Clone, Serialize)]
pub struct MergeReport {
    /// Threads actually used (1 = sequential, on the calling thread, without a pool).
    pub threads: usize,
    /// The most pairs whose inputs were open at the same time (never above `threads`).
    pub peak_pairs_in_flight: usize,
    /// Wall-clock time (serialized as `elapsed_s`, seconds).
    #[serde(rename = "elapsed_s", serialize_with = "as_seconds")]
    pub elapsed: Duration,
    /// Pairs in shard order (`output_2` before `output_10`).
    pub pairs: Vec<PairReport>,
}

impl MergeReport {
    pub fn merged(&self) -> impl Iterator<Item = &PairReport> {
        self.pairs
            .iter()
            .filter(|p| matches!(p.outcome, PairOutcome::Merged { .. }))
    }

    pub fn skipped(&self) -> impl Iterator<Item = &PairReport> {
        self.pairs
            .iter()
            .filter(|p| matches!(p.outcome, PairOutcome::Skipped { .. }))
    }

    pub fn failed(&self) -> impl Iterator<Item = (&PairReport, &PairFailure)> {
        self.pairs
            .iter()
            .filter_map(|p| p.failure().map(|f| (p, f)))
    }

    pub fn bytes_in(&self) -> u64 {
        self.pairs.iter().map(|p| p.bytes_in).sum()
    }

    pub fn bytes_out(&self) -> u64 {
        self.pairs.iter().map(|p| p.bytes_out).sum()
    }
}

fn as_seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Sent after each pair ends.
#[derive(Debug)]
pub struct MergeProgress<'a> {
    pub done: usize,
    pub total: usize,
    pub pair: &'a PairReport,
    /// Totals over the pairs done so far.
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub elapsed: Duration,
}

impl MergeProgress<'_> {
    /// Input bytes per second so far.
    pub fn rate_in(&self) -> f64 {
        self.bytes_in as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}
