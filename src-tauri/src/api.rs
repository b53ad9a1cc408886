//! The payloads of the commands, exactly as docs/desktop-api.md lists them; the UI's
//! `ui/src/api/types.ts` mirrors this file. Change the three together.
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use virnucpro_core::events::RunEvent;
pub use virnucpro_engine::devices::DeviceInfo;
/// `"fp32" | "bf16" | "fp16"`.
pub use virnucpro_engine::embed::Precision;
/// `"complete" | "partial" | "earlier" | "missing"`.
pub use virnucpro_engine::run::ReportsState;

/// What the setup screen edits; also the body of a preset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RunSettings {
    pub inputs: Vec<PathBuf>,
    pub out_dir: PathBuf,
    pub dnabert: PathBuf,
    pub esm: PathBuf,
    pub classifier: PathBuf,
    pub length: usize,
    /// `DeviceInfo.id` values: `["cpu"]`, `["cuda:0", "cuda:1"]`.
    pub devices: Vec<String>,
    /// Merge threads; `None` = all cores.
    pub threads: Option<usize>,
    pub precision: Precision,
    /// `None` = chosen per device.
    pub batch_tokens: Option<usize>,
}

impl RunSettings {
    /// Every path the settings name (empty ones left out), for the scope.
    pub fn paths(&self) -> impl Iterator<Item = &PathBuf> {
        self.inputs
            .iter()
            .chain([&self.out_dir, &self.dnabert, &self.esm, &self.classifier])
            .filter(|p| !p.as_os_str().is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SystemInfo {
    pub cores: usize,
    pub cuda_loaded: bool,
    pub devices: Vec<DeviceInfo>,
    pub app_version: String,
    pub libtorch_version: String,
    /// Why CUDA is not used and what fixes it (the GPU support panel); `None` when it is.
    pub why_not_cuda: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct FastaFile {
    pub path: PathBuf,
    pub bytes: u64,
    pub records: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct InputScan {
    pub files: Vec<FastaFile>,
    pub total_bytes: u64,
    pub problems: Vec<String>,
}

/// The fields of [`RunSettings`], as the UI names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Inputs,
    OutDir,
    Dnabert,
    Esm,
    Classifier,
    Length,
    Devices,
    Threads,
    Precision,
    BatchTokens,
}

/// One field's problem, shown next to the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct FieldProblem {
    pub field: Field,
    pub message: String,
}

/// `validate_settings`' answer, by field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SettingsCheck {
    /// What stops the run; empty when it can start.
    pub problems: Vec<FieldProblem>,
    /// What may be a mistake but can run (a classifier named for the other read length).
    pub warnings: Vec<FieldProblem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "ModelKind")]
pub enum ModelRole {
    Dnabert,
    Esm,
    Classifier,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ModelCheck {
    pub ok: bool,
    pub kind: ModelRole,
    pub summary: String,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Preset {
    pub name: String,
    pub settings: RunSettings,
    /// RFC 3339, UTC.
    pub updated: String,
}

/// A preset as `list_presets` lists it: with the files and folders it names that are gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ListedPreset {
    #[serde(flatten)]
    pub preset: Preset,
    /// Its inputs and models that no longer exist (the output folder is made by the run).
    pub missing: Vec<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ResumeInfo {
    pub out_dir: PathBuf,
    pub state: String,
    pub settings: RunSettings,
    pub stages_done: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct FailureEntry {
    pub stage: String,
    pub item: String,
    pub kind: String,
    pub message: String,
    pub files: Vec<PathBuf>,
    pub suggestion: String,
    /// The files are damaged or do not belong to this run: `set_aside_damaged` moves them
    /// out of the way so that a retry computes them again.
    pub damaged: bool,
}

/// What `set_aside_damaged` moved, and where to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SetAside {
    pub moved: Vec<PathBuf>,
    /// `{out_dir}/set-aside/{UTC time}/`: the files keep their folder (`features/`, `merged/`).
    pub folder: PathBuf,
}

/// What the reports the results screen shows are, from the run's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ReportsStatus {
    pub state: ReportsState,
    /// The last run's partial reports, written beside the kept ones (`state` `earlier`).
    pub partial_files: Vec<PathBuf>,
    /// How the last run in the folder ended (`ok`, `partial`, `failed`, `cancelled`, or
    /// `running` when it was killed); `None` without a manifest.
    pub last_run: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct FailureGroup {
    pub kind: String,
    pub count: usize,
    pub entries: Vec<FailureEntry>,
}

/// A read's call in the UI's words (`read_summary.tsv` says `others` for non-virus).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub enum ReadCall {
    #[serde(rename = "virus")]
    Virus,
    #[serde(rename = "non-virus")]
    NonVirus,
    #[serde(rename = "none")]
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ReadRow {
    pub read_id: String,
    pub chunks: u64,
    pub frames: u64,
    pub virus_chunks: u64,
    pub best_virus_score: Option<f64>,
    pub call: ReadCall,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum FrameCall {
    Virus,
    Others,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct FrameRow {
    pub sequence_id: String,
    pub read_id: String,
    pub chunk: u64,
    /// Strand and frame, `F1` … `R3`.
    pub frame: String,
    pub prediction: FrameCall,
    pub score_other: f64,
    pub score_virus: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Histogram {
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Results {
    pub out_dir: PathBuf,
    pub reads: Vec<ReadRow>,
    /// Frames scored in all (a read's frames come from `load_read_frames`).
    pub frames_scored: u64,
    pub histogram: Histogram,
    /// Whether these reports are complete and current, partial, or an earlier run's.
    pub reports: ReportsStatus,
    /// The run used a model of the Demo preset (random weights): its calls mean nothing.
    pub demo_models: bool,
}

/// One model's state in the caches (`virnucpro_models::status`): `state` is `verified`,
/// `installed`, `partial`, `damaged` or `missing`; `path` is what a run is given.
pub use virnucpro_models::{FetchEvent, ImportReport, ModelStatus};

/// What is going on a model: a download or a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ModelJobKind {
    Fetch,
    Verify,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ModelJob {
    pub id: String,
    pub kind: ModelJobKind,
}

/// `list_models`: every catalogue model, where the caches are, what is being done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ModelList {
    pub models: Vec<ModelStatus>,
    /// `hf_hub`, `torch_checkpoints`, `virnucpro`: the folders models are installed in.
    pub caches: virnucpro_models::CacheRoots,
    /// The models being downloaded or verified now.
    pub busy: Vec<ModelJob>,
}

/// `installed_models_defaults`: the installed model for each model field of the settings
/// (`None`: none usable), the classifier for the given read length.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct InstalledModels {
    pub dnabert: Option<PathBuf>,
    pub esm: Option<PathBuf>,
    pub classifier: Option<PathBuf>,
}

/// `gpu_runtime_status`: libtorch's CUDA libraries (`virnucpro_models::runtime`), the
/// NVIDIA driver, and whether this process uses CUDA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct GpuRuntimeStatus {
    /// `libtorch`, `cuda`, `min_driver`, `state` (`installed`, `partial`, `missing`), `path`,
    /// `bytes_present`, `download_bytes`, `unpacked_bytes`.
    pub runtime: virnucpro_models::runtime::RuntimeStatus,
    /// `state`: `ok`, `too-old`, `no-driver` or `unreadable`, with `found` and `required`.
    pub driver: virnucpro_models::runtime::DriverCheck,
    /// The driver check in words (both versions when too old).
    pub driver_message: String,
    /// This process's tensor backend in one line.
    pub backend: String,
    /// Why this process does not use CUDA and what fixes it; `None` when it does.
    pub why_not_cuda: Option<String>,
    /// The runtime is installed but this process started without it: restart to use it.
    pub restart_needed: bool,
    /// A download of it is going.
    pub busy: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Info,
    Warn,
    Error,
}

/// The shell's own event for the UI's log tail: `{"event":"log","level":..,"message":..}`
/// (the `event` tag is [`ShellEvent`]'s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct LogEvent {
    pub level: LogLevel,
    pub message: String,
}

/// What the run's Channel carries: the engine's events as they serialize, plus logs
/// (`{"event":"log", ..}`).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ShellEvent {
    Log(LogEvent),
    #[serde(untagged)]
    Run(RunEvent),
}

#[cfg(test)]
mod tests {
    use super::*;
    use virnucpro_core::events::Stage;

    #[test]
    fn events_serialize_as_the_contract_says() {
        let log = ShellEvent::Log(LogEvent {
            level: LogLevel::Warn,
            message: "slow".into(),
        });
        assert_eq!(
            serde_json::to_value(&log).unwrap(),
            serde_json::json!({"event": "log", "level": "warn", "message": "slow"})
        );
        let run = ShellEvent::Run(RunEvent::StageStarted {
            stage: Stage::EmbedDna,
            total: Some(3),
            unit: "sequences".into(),
        });
        assert_eq!(
            serde_json::to_value(&run).unwrap(),
            serde_json::json!({"event": "stage_started", "stage": "embed_dna", "total": 3, "unit": "sequences"})
        );
    }

    #[test]
    fn settings_read_and_write_the_contract_shape() {
        let json = serde_json::json!({
            "inputs": ["/data/reads"], "out_dir": "/data/run", "dnabert": "/m/dnabert",
            "esm": "/m/esm.pt", "classifier": "/m/500_model.pth", "length": 500,
            "devices": ["cuda:0", "cuda:1"], "threads": null, "precision": "bf16",
            "batch_tokens": 4096
        });
        let settings: RunSettings = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(settings.precision, Precision::Bf16);
        assert_eq!(serde_json::to_value(&settings).unwrap(), json);
        assert_eq!(
            serde_json::to_value(ReadCall::NonVirus).unwrap(),
            serde_json::json!("non-virus")
        );
    }
}
