//! Progress of a whole prediction run as one typed stream of events.
//!
//! The runner hands each event to a callback as it happens (no files to poll); the CLI
//! prints them as lines or bars, `--json-events` writes one JSON object per line, and the
//! GUI consumes the same values. Every event serializes with an `event` tag in snake_case.
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The stages of a run, in the order they start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Reads → chunks → six frames → shards.
    Prepare,
    /// DNABERT-S embeddings of the nucleotide shards.
    EmbedDna,
    /// ESM-2 embeddings of the protein shards.
    EmbedProtein,
    /// Nucleotide + protein features → merged features, per shard.
    Merge,
    /// Merged features → classifier → reports.
    Classify,
}

impl Stage {
    pub const ALL: [Stage; 5] = [
        Stage::Prepare,
        Stage::EmbedDna,
        Stage::EmbedProtein,
        Stage::Merge,
        Stage::Classify,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Prepare => "prepare",
            Stage::EmbedDna => "embed_dna",
            Stage::EmbedProtein => "embed_protein",
            Stage::Merge => "merge",
            Stage::Classify => "classify",
        }
    }
}

impl Stage {
    /// What the stage's progress counts.
    pub fn unit(self) -> &'static str {
        match self {
            Stage::Prepare => "reads",
            Stage::EmbedDna | Stage::EmbedProtein => "sequences",
            Stage::Merge => "shards",
            Stage::Classify => "frames",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a stage will do on this run, decided before any work starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum StageAction {
    /// Nothing of it exists yet.
    Run,
    /// Some of it exists and is verified; only the rest is done.
    Resume,
    /// Earlier results exist but were made from other inputs or settings; redone.
    Redo,
}

/// One stage's plan, with the reason a user is shown (`"the ESM-2 weights changed"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StagePlan {
    pub stage: Stage,
    pub action: StageAction,
    pub reason: String,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Every shard went through every stage.
    Ok,
    /// Finished, but some shards failed (listed in failures.tsv); the rest is complete.
    Partial,
    /// Nothing could be classified.
    Failed,
    /// Stopped by the cancel token; running again resumes.
    Cancelled,
}

/// How a stage ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum StageOutcome {
    /// Every shard went through the stage (some may have failed: see the counts).
    #[default]
    Complete,
    /// The run stopped (cancelled, or an error elsewhere) before the stage had all its
    /// work: the counts and the last progress say how far it got, and a resume does the rest.
    Stopped,
}

/// Counts of work items (shards, files) at the end of a stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ItemCounts {
    /// Computed on this run.
    pub done: u64,
    /// Verified and reused from an earlier run.
    pub reused: u64,
    pub failed: u64,
}

/// Why an item (a shard, a file) failed: one list for every stage, so that the engine, the
/// command line, the desktop shell and the UI all match on the same values. Each stage's
/// own failure type converts into it (merge's in `core::merge`, the embedding runner's in
/// the engine). The snake_case name is the `kind` column of `failures.tsv` and the JSON
/// value; an unknown name is an error, never a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// An input could not be opened or read (missing, permission, not FASTA).
    Unreadable,
    /// A sequence the model cannot take (unknown characters, empty, a duplicate ID).
    BadRecord,
    /// A single sequence does not fit in the device's memory.
    OutOfMemory,
    /// The model (libtorch) failed on this item.
    Model,
    /// An output file could not be written by the embedding runner.
    Write,
    /// One side of a merge pair has no file.
    MissingInput,
    /// More than one file claims one side of a merge pair.
    AmbiguousInput,
    /// Truncated, bad header, bad pickle, wrong kind of file, NaN or infinite values.
    Corrupt,
    /// Declared and actual dimensions disagree.
    DimensionMismatch,
    /// An element type we do not read (e.g. F64).
    UnsupportedDtype,
    /// The IDs of the two sides of a pair disagree (one side only, or duplicated).
    IdMismatch,
    /// A merged output could not be written (disk full, permission, path taken).
    OutputWrite,
    /// The run was cancelled before the item was finished (it is redone on resume).
    Cancelled,
}

impl FailureKind {
    pub const ALL: [FailureKind; 13] = [
        FailureKind::Unreadable,
        FailureKind::BadRecord,
        FailureKind::OutOfMemory,
        FailureKind::Model,
        FailureKind::Write,
        FailureKind::MissingInput,
        FailureKind::AmbiguousInput,
        FailureKind::Corrupt,
        FailureKind::DimensionMismatch,
        FailureKind::UnsupportedDtype,
        FailureKind::IdMismatch,
        FailureKind::OutputWrite,
        FailureKind::Cancelled,
    ];

    /// The stable snake_case name (`failures.tsv`'s `kind` column, the JSON value).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unreadable => "unreadable",
            Self::BadRecord => "bad_record",
            Self::OutOfMemory => "out_of_memory",
            Self::Model => "model",
            Self::Write => "write",
            Self::MissingInput => "missing_input",
            Self::AmbiguousInput => "ambiguous_input",
            Self::Corrupt => "corrupt",
            Self::DimensionMismatch => "dimension_mismatch",
            Self::UnsupportedDtype => "unsupported_dtype",
            Self::IdMismatch => "id_mismatch",
            Self::OutputWrite => "output_write",
            Self::Cancelled => "cancelled",
        }
    }

    /// Failures whose files are damaged or foreign: computing them again is the fix.
    pub fn is_damaged(self) -> bool {
        matches!(
            self,
            Self::Corrupt | Self::IdMismatch | Self::DimensionMismatch | Self::UnsupportedDtype
        )
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure kind name that is not one of [`FailureKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown failure kind {0:?} (known: unreadable, bad_record, out_of_memory, model, write, missing_input, ambiguous_input, corrupt, dimension_mismatch, unsupported_dtype, id_mismatch, output_write, cancelled)")]
pub struct UnknownFailureKind(pub String);

impl std::str::FromStr for FailureKind {
    type Err = UnknownFailureKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownFailureKind(s.to_owned()))
    }
}

/// A failure of one item, reported as it happens and listed in `failures.tsv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ItemFailure {
    pub stage: Stage,
    /// The shard or file (`output_3`, a path).
    pub item: String,
    /// What went wrong, by category (its snake_case name is the `kind` column).
    pub kind: FailureKind,
    pub message: String,
}

/// What a finished run did (also the end of `run-manifest.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RunSummary {
    pub status: RunStatus,
    pub reads: u64,
    pub chunks: u64,
    /// Frames scored by the classifier.
    pub frames_scored: u64,
    /// Chunks whose consensus call is virus.
    pub virus_chunks: u64,
    /// Reads with at least one chunk called virus.
    pub virus_reads: u64,
    pub failures: u64,
    pub seconds: f64,
    pub out_dir: PathBuf,
}

/// One event of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    /// A run of several samples starts sample `index` (from 0) of `total`; its own run's
    /// events follow, from `RunStarted` to `RunFinished`, in `out_dir` (`out/NAME/`).
    SampleStarted {
        sample: String,
        index: usize,
        total: usize,
        out_dir: PathBuf,
    },
    /// Settings validated; what each stage will do.
    RunStarted {
        out_dir: PathBuf,
        plan: Vec<StagePlan>,
    },
    StageStarted {
        stage: Stage,
        /// Work items of the stage (shards; files), when known.
        total: Option<u64>,
        /// What `done`/`total` of the progress events count (`frames`, `shards`, ...).
        unit: String,
    },
    StageProgress {
        stage: Stage,
        done: u64,
        total: Option<u64>,
        unit: String,
        /// Units per second since the stage started.
        rate: f64,
        /// Seconds left at that rate, when the total is known.
        eta_seconds: Option<f64>,
    },
    /// Work done by one device so far in an embedding stage.
    DeviceThroughput {
        stage: Stage,
        device: String,
        sequences: u64,
        tokens: u64,
        /// Tokens per second of forward-pass time.
        tokens_per_second: f64,
        /// Seconds since the stage started; the stage's last report of a device comes at
        /// the stage's end and carries the stage's own time, so a device's clock stops
        /// with its stage.
        elapsed_seconds: f64,
    },
    Warning {
        stage: Option<Stage>,
        message: String,
    },
    Failure(ItemFailure),
    StageFinished {
        stage: Stage,
        counts: ItemCounts,
        seconds: f64,
        /// Whether the stage did all its work or was stopped part way (a cancel).
        outcome: StageOutcome,
    },
    RunFinished(RunSummary),
}

/// Rate and ETA bookkeeping of one stage.
#[derive(Debug, Clone)]
pub struct StageClock {
    started: Instant,
}

impl Default for StageClock {
    fn default() -> Self {
        Self::start()
    }
}

impl StageClock {
    pub fn start() -> Self {
        Self {
            started: Instant::now(),
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// A progress event for `done` of `total` units.
    pub fn progress(&self, stage: Stage, done: u64, total: Option<u64>, unit: &str) -> RunEvent {
        let seconds = self.elapsed().as_secs_f64();
        let rate = if seconds > 0.0 {
            done as f64 / seconds
        } else {
            0.0
        };
        let eta_seconds = match total {
            Some(total) if rate > 0.0 => Some(total.saturating_sub(done) as f64 / rate),
            _ => None,
        };
        RunEvent::StageProgress {
            stage,
            done,
            total,
            unit: unit.to_owned(),
            rate,
            eta_seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialize_with_a_tag_and_round_trip() {
        let event = RunEvent::Failure(ItemFailure {
            stage: Stage::Merge,
            item: "output_2".into(),
            kind: FailureKind::Corrupt,
            message: "non-finite value".into(),
        });
        let json = serde_json::to_string(&event).unwrap();
        assert!(
            json.starts_with(r#"{"event":"failure","stage":"merge""#),
            "{json}"
        );
        let back: RunEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn failure_kinds_round_trip_by_name_and_json_and_unknown_names_are_errors() {
        for kind in FailureKind::ALL {
            assert_eq!(kind.as_str().parse::<FailureKind>(), Ok(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<FailureKind>(&json).unwrap(), kind);
        }
        let err = "disk_on_fire".parse::<FailureKind>().unwrap_err();
        assert!(err.to_string().contains("disk_on_fire"), "{err}");
        assert!(serde_json::from_str::<FailureKind>("\"disk_on_fire\"").is_err());
        let failure = r#"{"stage":"merge","item":"output_1","kind":"Corrupt","message":""}"#;
        assert!(serde_json::from_str::<ItemFailure>(failure).is_err());
    }

    #[test]
    fn eta_follows_the_rate() {
        let clock = StageClock::start();
        std::thread::sleep(Duration::from_millis(20));
        let RunEvent::StageProgress {
            rate, eta_seconds, ..
        } = clock.progress(Stage::Prepare, 10, Some(30), "reads")
        else {
            panic!("a progress event");
        };
        assert!(rate > 0.0);
        let eta = eta_seconds.unwrap();
        assert!((eta - 20.0 / rate).abs() < 1e-9);
        let RunEvent::StageProgress { eta_seconds, .. } =
            clock.progress(Stage::Prepare, 0, None, "reads")
        else {
            panic!("a progress event");
        };
        assert_eq!(eta_seconds, None);
    }
}
