//! One side of a comparison: a run folder of `virnucpro predict`, or a folder of reports
//! without a manifest (the original tool's `{input}_merged/`, `virnucpro classify --out`).
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::CompareError;
use crate::features::FeatureKind;
use crate::precision::Precision;
use crate::report::RESULTS_FILE;
use crate::run_folder::samples::SUMMARY_FILE;
use crate::run_folder::{ModelRecord, ReportsState, RunLayout, RunManifest, RunState};

/// What kind of folder a compared run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum FolderKind {
    /// A `virnucpro predict` run folder (it has `run-manifest.json`).
    Run,
    /// Reports without a manifest: the original tool's `{input}_merged/` folder (its
    /// `*_merged.pt` beside the reports, `{input}_nucleotide/` and `{input}_protein/`
    /// beside it), or the folder `virnucpro classify` wrote.
    Reports,
}

/// A model as a run recorded it: its id (`{kind} {name} {precision}`) and the content
/// hashes of its weight files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ModelUsed {
    pub model_id: String,
    pub xxh3: Vec<String>,
}

impl ModelUsed {
    fn of(record: &ModelRecord) -> Self {
        Self {
            model_id: record.model_id.clone(),
            xxh3: record.files.iter().map(|f| f.xxh3.clone()).collect(),
        }
    }
}

/// The models a run recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ModelIds {
    pub dnabert: ModelUsed,
    pub esm: ModelUsed,
    pub classifier: ModelUsed,
}

impl ModelIds {
    /// Each model's role and record, in pipeline order.
    pub fn roles(&self) -> [(&'static str, &ModelUsed); 3] {
        [
            ("DNABERT-S", &self.dnabert),
            ("ESM-2", &self.esm),
            ("classifier", &self.classifier),
        ]
    }
}

/// One of the two runs, and what its manifest says about how it was made.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ComparedRun {
    pub path: PathBuf,
    pub kind: FolderKind,
    /// The manifest's `state` (`None` for a reports folder).
    pub state: Option<RunState>,
    pub precision: Option<Precision>,
    /// `cpu`, `cuda:0`, … as the run was given them.
    pub devices: Vec<String>,
    /// Whether the reports at the usual names are this run's own (`complete`), or not.
    pub reports_state: Option<ReportsState>,
    pub models: Option<ModelIds>,
    /// `--length` and `--shard-size` of the run.
    pub length: Option<usize>,
    pub shard_size: Option<usize>,
}

impl ComparedRun {
    /// Look at the folder at `path`: a run folder or a folder of reports; anything else
    /// is an error naming the folder.
    pub fn open(path: &Path) -> Result<Self, CompareError> {
        let meta = std::fs::metadata(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => CompareError::NotFound {
                path: path.to_path_buf(),
            },
            _ => CompareError::io(path)(source),
        })?;
        if !meta.is_dir() {
            return Err(CompareError::NotAFolder {
                path: path.to_path_buf(),
            });
        }
        let layout = RunLayout::new(path);
        let manifest = RunManifest::load(&layout.manifest())?;
        let has_results = path.join(RESULTS_FILE).is_file();
        match manifest {
            None if has_results => Ok(Self::reports_folder(path)),
            None => Err(CompareError::NotARunFolder {
                path: path.to_path_buf(),
                hint: not_a_run_hint(path),
            }),
            Some(manifest) if !has_results => Err(CompareError::ReportMissing {
                folder: path.to_path_buf(),
                file: RESULTS_FILE,
                hint: missing_report_hint(&manifest),
            }),
            Some(manifest) => Ok(Self::run_folder(path, manifest)),
        }
    }

    fn reports_folder(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            kind: FolderKind::Reports,
            state: None,
            precision: None,
            devices: Vec::new(),
            reports_state: None,
            models: None,
            length: None,
            shard_size: None,
        }
    }

    fn run_folder(path: &Path, manifest: RunManifest) -> Self {
        let models = &manifest.models;
        Self {
            path: path.to_path_buf(),
            kind: FolderKind::Run,
            state: Some(manifest.state),
            precision: Some(manifest.settings.precision),
            devices: manifest.settings.devices.clone(),
            reports_state: manifest.reports.as_ref().map(|r| r.state),
            models: Some(ModelIds {
                dnabert: ModelUsed::of(&models.dnabert),
                esm: ModelUsed::of(&models.esm),
                classifier: ModelUsed::of(&models.classifier),
            }),
            length: Some(manifest.settings.length),
            shard_size: Some(manifest.settings.shard_size),
        }
    }

    /// The folder holding this run's feature files of `kind`, if it has one: `features/`
    /// and `merged/` in a run folder (only with `--keep-features`); in the original
    /// tool's `{input}_merged/`, the folder itself and its siblings `{input}_nucleotide/`
    /// and `{input}_protein/`.
    pub fn feature_dir(&self, kind: FeatureKind) -> Option<PathBuf> {
        let dir = match self.kind {
            FolderKind::Run => {
                let layout = RunLayout::new(&self.path);
                match kind {
                    FeatureKind::Merged => layout.merged(),
                    _ => layout.features(),
                }
            }
            FolderKind::Reports => {
                let name = self.path.file_name()?.to_str()?;
                let stem = name.strip_suffix("_merged").filter(|s| !s.is_empty());
                match (kind, stem) {
                    (FeatureKind::Merged, _) => self.path.clone(),
                    (_, Some(stem)) => self.path.with_file_name(format!("{stem}_{kind}")),
                    (_, None) => return None,
                }
            }
        };
        dir.is_dir().then_some(dir)
    }
}

fn not_a_run_hint(path: &Path) -> String {
    if path.join(SUMMARY_FILE).is_file() {
        format!(" (it holds {SUMMARY_FILE}: a run of several samples; compare its sample folders, RUN/NAME)")
    } else {
        String::new()
    }
}

fn missing_report_hint(manifest: &RunManifest) -> String {
    if manifest.state == RunState::Running {
        return " (the run has not finished, or was killed)".into();
    }
    match &manifest.reports {
        Some(reports) if !reports.partial_files.is_empty() => format!(
            " (the run left partial reports only: {})",
            reports.partial_files.join(", ")
        ),
        _ => format!(" (the run ended {})", manifest.state),
    }
}
