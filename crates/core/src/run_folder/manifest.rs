//! `run-manifest.json`: what was run, with what, and how it went (docs/formats.md,
//! "Run folder"). Precision and state are typed: a value this version does not know is
//! an error naming the file and the field, never a default.
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use super::error::RunFolderError;
use super::files::FileEntry;
use crate::atomic::write_atomic;
use crate::events::{
    ItemCounts, ItemFailure, RunStatus, RunSummary, Stage, StageOutcome, StagePlan,
};
use crate::precision::Precision;

/// The manifest's format version; bump on incompatible changes.
pub const MANIFEST_VERSION: u32 = 1;

/// Whether the weights given to a run are the catalogue's, byte for byte, as far as the
/// recorded checks say (`virnucpro_models::provenance` decides it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Provenance {
    /// Every weight file hashed to the catalogue's checksum of `model`.
    Verified { model: String },
    /// Not known to be a catalogue model: never checked, or checked and different.
    Unverified,
}

/// A model as the run used it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelRecord {
    pub path: PathBuf,
    /// The id recorded in feature files (name, precision and content id).
    pub model_id: String,
    pub files: Vec<FileEntry>,
    /// Whether these are the catalogue's weights, byte for byte, as recorded when they
    /// were fetched, imported or verified (`virnucpro models`); absent in older manifests.
    #[serde(default = "unverified")]
    pub provenance: Provenance,
}

fn unverified() -> Provenance {
    Provenance::Unverified
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Models {
    pub dnabert: ModelRecord,
    pub esm: ModelRecord,
    pub classifier: ModelRecord,
}

/// The settings that shape the results or the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub length: usize,
    pub shard_size: usize,
    pub devices: Vec<String>,
    /// Threads of prepare. Manifests written before prepare and merge threads were two
    /// settings have `threads`, which sized both.
    #[serde(alias = "threads")]
    pub prepare_threads: usize,
    /// Shards merged at once; absent in those older manifests ([`Settings::merge_thread_count`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge_threads: Option<usize>,
    #[serde(deserialize_with = "de_precision")]
    pub precision: Precision,
    pub batch_tokens: usize,
    /// Where the classifier ran (the first selected device).
    #[serde(default)]
    pub classify_device: String,
    /// The feature and merged files were kept (`--keep-features`); without it only each
    /// shard's scores are. Older manifests (which always kept them) read as `false`.
    #[serde(default)]
    pub keep_features: bool,
    /// How input files were paired (`--pairs`, `--pair`). Older manifests, of versions
    /// that read every file on its own, read as off without pairs.
    #[serde(
        default = "crate::pairs::Pairing::off",
        deserialize_with = "de_pairing"
    )]
    pub pairing: crate::pairs::Pairing,
}

impl Settings {
    /// Shards merged at once: `merge_threads`, or in an older manifest `threads` (read as
    /// `prepare_threads`), which sized both.
    pub fn merge_thread_count(&self) -> usize {
        self.merge_threads.unwrap_or(self.prepare_threads)
    }
}

/// Versions of what computed the results (the engine detects them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Software {
    pub app: String,
    pub libtorch: String,
    /// Whether libtorch's CUDA backend loaded, and with how many devices.
    pub cuda: String,
    /// The CUDA version libtorch was built with (`13.0`); null for a CPU-only libtorch.
    #[serde(default)]
    pub libtorch_cuda: Option<String>,
    /// The NVIDIA driver's version, from NVML; null without one.
    #[serde(default)]
    pub nvidia_driver: Option<String>,
    /// The highest CUDA version the driver supports (`12.8`), from NVML; null without one.
    #[serde(default)]
    pub driver_cuda: Option<String>,
}

/// One stage of this run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    pub stage: Stage,
    pub seconds: f64,
    pub counts: ItemCounts,
    /// `stopped` when the run stopped before the stage had all its work. Manifests written
    /// before this field have none and read as `complete`.
    #[serde(default)]
    pub outcome: StageOutcome,
}

/// What the reports at the usual names (`prediction_results.txt`,
/// `prediction_results_highestscore.csv`, `read_summary.tsv`) are, after this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ReportsState {
    /// Every shard of this run, written or verified unchanged by it.
    Complete,
    /// This run's, without the shards that failed (there were no earlier reports to keep).
    Partial,
    /// An earlier run's, kept: this run did not complete its own (it failed on some
    /// shard, was cancelled or stopped), so they may be out of date. A failed run's own
    /// reports are beside them ([`ReportsRecord::partial_files`]).
    Earlier,
    /// There are none.
    Missing,
}

/// Where this run left its reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportsRecord {
    pub state: ReportsState,
    /// File names (in the run folder) of this run's partial reports, written beside the
    /// earlier ones instead of over them: `prediction_results.partial.txt`,
    /// `prediction_results_highestscore.partial.csv`, `read_summary.partial.tsv`. Empty
    /// unless `state` is `earlier`.
    #[serde(default)]
    pub partial_files: Vec<String>,
}

/// The manifest's `state`: `running` while the run is in progress (a kill leaves it so),
/// then how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Running,
    Ok,
    Partial,
    Failed,
    Cancelled,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Ok => "ok",
            Self::Partial => "partial",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// How the run ended; `None` while it runs (or when it was killed).
    pub fn status(self) -> Option<RunStatus> {
        match self {
            Self::Running => None,
            Self::Ok => Some(RunStatus::Ok),
            Self::Partial => Some(RunStatus::Partial),
            Self::Failed => Some(RunStatus::Failed),
            Self::Cancelled => Some(RunStatus::Cancelled),
        }
    }
}

impl From<RunStatus> for RunState {
    fn from(status: RunStatus) -> Self {
        match status {
            RunStatus::Ok => Self::Ok,
            RunStatus::Partial => Self::Partial,
            RunStatus::Failed => Self::Failed,
            RunStatus::Cancelled => Self::Cancelled,
        }
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for RunState {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for RunState {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    pub manifest_version: u32,
    /// `running` while the run is in progress (a kill leaves it so), then the final status.
    #[serde(deserialize_with = "de_state")]
    pub state: RunState,
    /// Seconds since the Unix epoch.
    pub started_unix: u64,
    pub software: Software,
    pub inputs: Vec<FileEntry>,
    #[serde(deserialize_with = "de_models")]
    pub models: Models,
    pub settings: Settings,
    #[serde(deserialize_with = "de_plan")]
    pub plan: Vec<StagePlan>,
    #[serde(deserialize_with = "de_stages")]
    pub stages: Vec<StageRecord>,
    #[serde(deserialize_with = "de_failures")]
    pub failures: Vec<ItemFailure>,
    /// The error that stopped the run, if one did.
    pub error: Option<String>,
    #[serde(deserialize_with = "de_summary")]
    pub summary: Option<RunSummary>,
    /// Where the run left its reports; null while it runs (and in manifests of versions
    /// before this field).
    #[serde(default, deserialize_with = "de_reports")]
    pub reports: Option<ReportsRecord>,
    /// What each device did in the embedding stages (empty when nothing was embedded, and
    /// in manifests of versions before this field).
    #[serde(default)]
    pub devices: Vec<DeviceRecord>,
}

/// One device's embedding work: how long each model took to load on it, its forward-pass
/// time, and how long it sat idle waiting for batches once its first model was in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRecord {
    /// `cpu`, `cuda:0`.
    pub device: String,
    /// Each model loaded on it, in the order they were in.
    pub loads: Vec<ModelLoad>,
    pub sequences: u64,
    pub tokens: u64,
    pub forward_seconds: f64,
    /// Seconds it waited for a batch after its first model was loaded (the wait for the
    /// first batch included): time the device was idle for want of input.
    pub idle_seconds: f64,
}

/// A model loaded on a device, and the seconds that took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelLoad {
    pub model: String,
    pub seconds: f64,
}

/// A field's deserializer whose errors name the field (`settings.precision: unknown
/// variant `fp64`, expected one of …`).
macro_rules! named_field {
    ($name:ident, $ty:ty, $field:literal) => {
        fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
            <$ty>::deserialize(d).map_err(|e| D::Error::custom(format_args!("{}: {e}", $field)))
        }
    };
}

named_field!(de_state, RunState, "state");
named_field!(de_precision, Precision, "settings.precision");
named_field!(de_pairing, crate::pairs::Pairing, "settings.pairing");
named_field!(de_models, Models, "models");
named_field!(de_plan, Vec<StagePlan>, "plan");
named_field!(de_stages, Vec<StageRecord>, "stages");
named_field!(de_failures, Vec<ItemFailure>, "failures");
named_field!(de_summary, Option<RunSummary>, "summary");
named_field!(de_reports, Option<ReportsRecord>, "reports");

impl RunManifest {
    /// The manifest in `path`: `None` when there is none; an error naming the file and
    /// the field when it cannot be read or holds a value this version does not know.
    pub fn load(path: &Path) -> Result<Option<Self>, RunFolderError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(RunFolderError::io(path)(source)),
        };
        let json = |source| RunFolderError::Json {
            path: path.to_path_buf(),
            source,
        };
        // Through a value, so that a field's error reads without a byte position.
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(json)?;
        serde_json::from_value(value).map(Some).map_err(json)
    }

    /// The manifest of an earlier run in this folder, for a run that starts: one that
    /// cannot be read is left aside with a warning (the run compares against nothing and
    /// verifies every file it reuses anyway).
    pub fn read(path: &Path) -> Option<Self> {
        Self::load(path)
            .map_err(|e| tracing::warn!("ignoring the earlier run's manifest: {e}"))
            .ok()
            .flatten()
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(self)?;
        write_atomic(path, &json)
    }

    /// The stages that did all their work without a failed item (a cancel stops the
    /// others part way); a resume redoes the rest.
    pub fn stages_done(&self) -> Vec<Stage> {
        self.stages
            .iter()
            .filter(|s| s.outcome == StageOutcome::Complete && s.counts.failed == 0)
            .map(|s| s.stage)
            .collect()
    }
}

#[cfg(test)]
mod tests;
