//! Finding DNABERT-S and ESM-2 weights where the Python tools already downloaded them
//! (the Hugging Face hub cache, torch hub's checkpoints) or where the user says, without
//! downloading anything.
//!
//! Candidates are recognised by file names and `config.json` only; no weights are parsed
//! here (that is the engine's `weights` module's job). Anything that looks unfinished is reported as a
//! problem of the candidate, never hidden, so that a user sees why a model is unusable.
use std::collections::HashSet;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;
use virnucpro_core::input_paths::PathError;

mod fair_esm;
mod files;
mod hf;
mod roots;

pub use roots::SearchRoots;

/// Which of the two embedding models a candidate holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    DnabertS,
    Esm2,
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            ModelKind::DnabertS => "DNABERT-S",
            ModelKind::Esm2 => "ESM-2",
        })
    }
}

/// How the weights are stored on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// A Hugging Face folder with one `model.safetensors`.
    HfSafetensors,
    /// A Hugging Face folder with `model.safetensors.index.json` and its shards.
    HfShardedSafetensors,
    /// A Hugging Face folder with `pytorch_model.bin` (or its sharded index and shards).
    HfPytorchBin,
    /// A fair-esm checkpoint such as `esm2_t36_3B_UR50D.pt`.
    FairEsmPt,
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Layout::HfSafetensors => "hf-safetensors",
            Layout::HfShardedSafetensors => "hf-sharded-safetensors",
            Layout::HfPytorchBin => "hf-pytorch-bin",
            Layout::FairEsmPt => "fair-esm-pt",
        })
    }
}

/// Where a candidate was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    HfHub,
    TorchHub,
    /// A folder named by the user.
    Folder,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Source::HfHub => "hf-hub",
            Source::TorchHub => "torch-hub",
            Source::Folder => "folder",
        })
    }
}

/// One weight file of a candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeightFile {
    /// As found (in the hub cache, a link in `snapshots/`).
    pub path: PathBuf,
    /// Bytes of the real file behind any link.
    pub size: u64,
    /// Lowercase hex, only when asked for.
    pub sha256: Option<String>,
}

/// A set of weights that looks like DNABERT-S or ESM-2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelCandidate {
    pub kind: ModelKind,
    /// `DNABERT-S`, `esm2_t36_3B_UR50D`, or the folder's name.
    pub name: String,
    pub source: Source,
    /// The hub cache's snapshot (commit) folder name.
    pub revision: Option<String>,
    /// The model folder, or the `.pt` file.
    pub path: PathBuf,
    /// `None` when no weight file is there at all.
    pub layout: Option<Layout>,
    /// Total bytes of the weight files.
    pub size_bytes: u64,
    pub files: Vec<WeightFile>,
    /// Why it may be unusable (missing files, unfinished downloads); empty when complete.
    pub problems: Vec<String>,
}

impl ModelCandidate {
    pub fn is_complete(&self) -> bool {
        self.problems.is_empty()
    }
}

/// One place that was looked in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchedPlace {
    pub source: Source,
    pub path: PathBuf,
    /// Whether the folder exists.
    pub present: bool,
}

/// What `discover` found, and where it looked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Discovery {
    pub searched: Vec<SearchedPlace>,
    /// Sorted by kind, name, then path.
    pub models: Vec<ModelCandidate>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiscoverOptions {
    /// Hash every weight file (reads all of it: minutes for ESM-2 3B).
    pub sha256: bool,
}

#[derive(Debug, Error)]
pub enum DiscoveryError {
    /// A folder the user named is missing or unreadable. The caches may be absent: only
    /// a folder asked for by name is an error.
    #[error(transparent)]
    Folder(#[from] PathError),
    #[error("{}: not a folder", path.display())]
    NotAFolder { path: PathBuf },
}

/// Look for DNABERT-S and ESM-2 weights in `roots`.
pub fn discover(
    roots: &SearchRoots,
    options: &DiscoverOptions,
) -> Result<Discovery, DiscoveryError> {
    for folder in &roots.extra {
        let meta = fs::metadata(folder).map_err(|err| PathError::from_io(folder, err))?;
        if !meta.is_dir() {
            return Err(DiscoveryError::NotAFolder {
                path: folder.clone(),
            });
        }
    }
    let mut searched = Vec::new();
    let mut models = Vec::new();
    if let Some(hub) = &roots.hf_hub {
        searched.push(place(Source::HfHub, hub));
        models.extend(hf::scan_hub(hub, Source::HfHub, options));
    }
    if let Some(checkpoints) = &roots.torch_hub {
        searched.push(place(Source::TorchHub, checkpoints));
        models.extend(fair_esm::scan(checkpoints, Source::TorchHub, options));
    }
    for folder in &roots.extra {
        searched.push(place(Source::Folder, folder));
        models.extend(scan_folder(folder, options));
    }
    // A folder named with --dir may also be a cache, or hold one found there already.
    let mut seen = HashSet::new();
    models.retain(|model| seen.insert(fs::canonicalize(&model.path).unwrap_or(model.path.clone())));
    models.sort_by(|a, b| (a.kind, &a.name, &a.path).cmp(&(b.kind, &b.name, &b.path)));
    for model in &models {
        tracing::debug!(kind = %model.kind, path = %model.path.display(), problems = model.problems.len(), "model candidate");
    }
    Ok(Discovery { searched, models })
}

fn place(source: Source, path: &Path) -> SearchedPlace {
    SearchedPlace {
        source,
        path: path.to_path_buf(),
        present: path.is_dir(),
    }
}

/// A user's folder: itself a model folder, a hub cache (`models--*`), a checkpoint
/// folder (`esm2_*.pt`), or a folder of model folders.
fn scan_folder(folder: &Path, options: &DiscoverOptions) -> Vec<ModelCandidate> {
    let mut found: Vec<ModelCandidate> = hf::inspect_named_folder(folder, options)
        .into_iter()
        .collect();
    found.extend(hf::scan_hub(folder, Source::Folder, options));
    found.extend(fair_esm::scan(folder, Source::Folder, options));
    for child in sorted_entries(folder) {
        if child.is_dir() && !hf::is_hub_repo(&child) {
            // One level down: a model folder, or a folder of fair-esm checkpoints
            // (`models/esm/esm2_t36_3B_UR50D.pt`).
            found.extend(hf::inspect_named_folder(&child, options));
            found.extend(fair_esm::scan(&child, Source::Folder, options));
        }
    }
    found
}

/// The entries of `folder` sorted by name; an unreadable folder has none (logged).
fn sorted_entries(folder: &Path) -> Vec<PathBuf> {
    match fs::read_dir(folder) {
        Ok(entries) => {
            let mut paths: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            paths
        }
        Err(err) => {
            tracing::debug!(folder = %folder.display(), %err, "cannot list");
            Vec::new()
        }
    }
}

/// The last path component as text ("" when there is none or it is not UTF-8).
fn file_name(path: &Path) -> &str {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
}
