//! `run-manifest.json` (what was run, with what, and how it went) and `failures.tsv`.
use std::path::Path;

use serde::{Deserialize, Serialize};
use virnucpro_core::atomic::write_atomic;
use virnucpro_core::events::{ItemCounts, ItemFailure, RunSummary, Stage, StageOutcome, StagePlan};
use virnucpro_core::tsv::escape_field;
use virnucpro_models::Provenance;

use super::files::FileEntry;

/// The manifest's format version; bump on incompatible changes.
pub const MANIFEST_VERSION: u32 = 1;

/// A model as the run used it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelRecord {
    pub path: std::path::PathBuf,
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
    pub threads: usize,
    pub precision: String,
    pub batch_tokens: usize,
    /// Where the classifier ran (the first selected device).
    #[serde(default)]
    pub classify_device: String,
}

/// Versions of what computed the results.
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

impl Software {
    /// The versions of this binary and of the machine it runs on.
    pub fn detect() -> Self {
        let backend = crate::Backend::detect();
        let (nvidia_driver, driver_cuda) = crate::devices::driver_versions().unwrap_or_default();
        Self {
            app: format!("virnucpro {}", env!("CARGO_PKG_VERSION")),
            libtorch: backend.libtorch_version.to_string(),
            cuda: backend.describe(),
            libtorch_cuda: crate::backend::libtorch_cuda_version().map(str::to_owned),
            nvidia_driver,
            driver_cuda,
        }
    }
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    pub manifest_version: u32,
    /// `running` while the run is in progress (a kill leaves it so), then the final status.
    pub state: String,
    /// Seconds since the Unix epoch.
    pub started_unix: u64,
    pub software: Software,
    pub inputs: Vec<FileEntry>,
    pub models: Models,
    pub settings: Settings,
    pub plan: Vec<StagePlan>,
    pub stages: Vec<StageRecord>,
    pub failures: Vec<ItemFailure>,
    /// The error that stopped the run, if one did.
    pub error: Option<String>,
    pub summary: Option<RunSummary>,
    /// Where the run left its reports; null while it runs (and in manifests of versions
    /// before this field).
    #[serde(default)]
    pub reports: Option<ReportsRecord>,
}

impl RunManifest {
    /// The manifest of an earlier run in this folder, if there is a readable one.
    pub fn read(path: &Path) -> Option<Self> {
        let bytes = std::fs::read(path).ok()?;
        serde_json::from_slice(&bytes)
            .map_err(|e| tracing::warn!("ignoring {}: {e}", path.display()))
            .ok()
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(self)?;
        write_atomic(path, &json)
    }
}

pub const FAILURES_HEADER: &str = "stage\titem\tkind\tmessage\n";

/// `stage  item  kind  message`, one line per failure; tabs and line breaks escaped so
/// that every record is one line of four fields.
pub fn failures_tsv(failures: &[ItemFailure]) -> String {
    let mut out = String::from(FAILURES_HEADER);
    for f in failures {
        let fields = [f.stage.as_str(), &f.item, &f.kind, &f.message];
        let fields: Vec<String> = fields.iter().map(|s| escape_field(s)).collect();
        out.push_str(&fields.join("\t"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_one_line_each() {
        let tsv = failures_tsv(&[ItemFailure {
            stage: Stage::Merge,
            item: "output_2".into(),
            kind: "corrupt".into(),
            message: "bad\tvalue\nhere".into(),
        }]);
        assert_eq!(
            tsv,
            "stage\titem\tkind\tmessage\nmerge\toutput_2\tcorrupt\tbad\\tvalue\\nhere\n"
        );
    }
}
