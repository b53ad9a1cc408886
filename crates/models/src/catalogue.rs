//! The models a run needs, compiled in: where each file comes from, its size and checksum,
//! and where it is installed. A JSON file of the same shape replaces it for an institute's
//! own catalogue, and for tests that serve tiny models from 127.0.0.1.
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::checksum::Checksum;

/// What a model is for in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "CatalogueRole"))]
#[serde(rename_all = "kebab-case")]
pub enum ModelRole {
    /// DNABERT-S, for the DNA of each frame.
    Dnabert,
    /// ESM-2 3B, for the protein of each frame.
    Esm,
    /// The MLP for 300 bp chunks.
    Classifier300,
    /// The MLP for 500 bp chunks.
    Classifier500,
}

impl ModelRole {
    /// The classifier for a chunk length, if one is trained for it.
    pub fn classifier_for(length: usize) -> Option<ModelRole> {
        match length {
            300 => Some(ModelRole::Classifier300),
            500 => Some(ModelRole::Classifier500),
            _ => None,
        }
    }
}

impl fmt::Display for ModelRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            ModelRole::Dnabert => "DNABERT-S",
            ModelRole::Esm => "ESM-2",
            ModelRole::Classifier300 => "300 bp classifier",
            ModelRole::Classifier500 => "500 bp classifier",
        })
    }
}

/// Where a source's files are installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Store {
    /// A Hugging Face hub repository, in the hub cache layout the Python tools use
    /// (`models--ORG--NAME/{blobs,snapshots,refs}`). Files are fetched from
    /// `{HF_ENDPOINT}/{repo}/resolve/{revision}/{file}`.
    HfRepo { repo: String, revision: String },
    /// torch hub's checkpoint folder, where fair-esm keeps its `.pt` files.
    TorchCheckpoints,
    /// VirNucPro's own folder (the classifiers, which no Python cache holds).
    Virnucpro { folder: String },
}

/// One file of a source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueFile {
    /// The file name as installed (in an HF snapshot, its path in the repository).
    pub name: String,
    /// Where it is downloaded from. For [`Store::HfRepo`] it is derived from the endpoint
    /// and may be left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Bytes, when published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// What the bytes must hash to. A file without one is installed as unpinned and the
    /// entry can be at most "installed", never "verified".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<Checksum>,
    /// Stored with Git LFS on the hub: its blob is named by its SHA-256, else by its git
    /// blob id (as `huggingface_hub` names them from the server's ETag).
    #[serde(default)]
    pub lfs: bool,
    /// Only the Python tools need it; it is fetched so that they can share the copy.
    #[serde(default)]
    pub python_only: bool,
}

/// One way to get a model: a set of files in one store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueSource {
    /// Short name shown to users: `fair-esm`, `hugging-face`, `github`.
    pub name: String,
    pub store: Store,
    pub files: Vec<CatalogueFile>,
    /// What a run is given: the file of this name (a fair-esm `.pt`, a classifier), or,
    /// when `None`, the folder (an HF snapshot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_file: Option<String>,
}

impl CatalogueSource {
    /// Total bytes, when every size is published.
    pub fn size(&self) -> Option<u64> {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// One model: the first source is tried first, the others are fallbacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueEntry {
    /// What users type: `dnabert-s`, `esm2-3b`, `classifier-300`, `classifier-500`.
    pub id: String,
    pub title: String,
    pub role: ModelRole,
    pub sources: Vec<CatalogueSource>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    pub entries: Vec<CatalogueEntry>,
}

#[derive(Debug, Error)]
pub enum CatalogueError {
    #[error("{}: cannot read the catalogue: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a model catalogue: {source}", path.display())]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{}: {problem}", path.display())]
    Invalid { path: PathBuf, problem: String },
}

/// Environment variable naming a catalogue file to use instead of the built-in one.
pub const CATALOGUE_VAR: &str = "VIRNUCPRO_CATALOGUE";

impl Catalogue {
    /// The catalogue compiled into this build (`catalogue.json`, from
    /// `../shared/docs/model-sources.md`).
    pub fn builtin() -> Catalogue {
        // A unit test parses and validates it, so this cannot fail in a released build.
        serde_json::from_str(include_str!("catalogue.json"))
            .unwrap_or_else(|err| panic!("the built-in catalogue does not parse: {err}"))
    }

    /// `VIRNUCPRO_CATALOGUE`'s file when set, else the built-in catalogue.
    pub fn from_env() -> Result<Catalogue, CatalogueError> {
        match std::env::var_os(CATALOGUE_VAR).filter(|v| !v.is_empty()) {
            Some(path) => Catalogue::load(Path::new(&path)),
            None => Ok(Catalogue::builtin()),
        }
    }

    pub fn load(path: &Path) -> Result<Catalogue, CatalogueError> {
        let catalogue: Catalogue = read_json(path)?;
        catalogue
            .validate()
            .map_err(|problem| CatalogueError::Invalid {
                path: path.to_path_buf(),
                problem,
            })?;
        Ok(catalogue)
    }

    /// Ids unique, every source with files, every non-hub file with a URL, `use_file`
    /// naming one of the files.
    pub fn validate(&self) -> Result<(), String> {
        let mut ids = std::collections::HashSet::new();
        for entry in &self.entries {
            if !ids.insert(&entry.id) {
                return Err(format!("model {:?} is listed twice", entry.id));
            }
            if entry.sources.is_empty() {
                return Err(format!("model {:?} has no source", entry.id));
            }
            for source in &entry.sources {
                validate_source(&entry.id, source)?;
            }
        }
        Ok(())
    }

    pub fn entry(&self, id: &str) -> Option<&CatalogueEntry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// The entry `id`, or the error that lists the ids there are.
    pub fn entry_or_unknown(&self, id: &str) -> Result<&CatalogueEntry, crate::FetchError> {
        self.entry(id)
            .ok_or_else(|| crate::FetchError::UnknownModel {
                id: id.to_string(),
                known: self.ids().iter().map(|s| s.to_string()).collect(),
            })
    }

    /// The first entry for a role.
    pub fn for_role(&self, role: ModelRole) -> Option<&CatalogueEntry> {
        self.entries.iter().find(|e| e.role == role)
    }

    pub fn ids(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.id.as_str()).collect()
    }
}

/// A JSON file of ours (a catalogue, a runtime manifest), with errors naming it.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, CatalogueError> {
    let text = std::fs::read_to_string(path).map_err(|source| CatalogueError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| CatalogueError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

fn validate_source(id: &str, source: &CatalogueSource) -> Result<(), String> {
    let at = format!("model {id:?}, source {:?}", source.name);
    if source.files.is_empty() {
        return Err(format!("{at}: no files"));
    }
    let hub = matches!(source.store, Store::HfRepo { .. });
    for file in &source.files {
        let bad_name = file.name.is_empty()
            || file.name.starts_with('/')
            || file
                .name
                .split('/')
                .any(|part| part == ".." || part.is_empty());
        if bad_name || (!hub && file.name.contains('/')) {
            return Err(format!("{at}: bad file name {:?}", file.name));
        }
        if !hub && file.url.is_none() {
            return Err(format!("{at}: {} has no url", file.name));
        }
    }
    if let Some(name) = &source.use_file {
        if !source.files.iter().any(|f| &f.name == name) {
            return Err(format!("{at}: use_file {name:?} is not one of its files"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalogue_is_valid_and_pins_every_weight_file() {
        let catalogue = Catalogue::builtin();
        catalogue.validate().unwrap();
        assert_eq!(
            catalogue.ids(),
            ["dnabert-s", "esm2-3b", "classifier-300", "classifier-500"]
        );
        for role in [
            ModelRole::Dnabert,
            ModelRole::Esm,
            ModelRole::Classifier300,
            ModelRole::Classifier500,
        ] {
            let entry = catalogue.for_role(role).unwrap();
            // The first source of each model pins every file it downloads.
            for file in &entry.sources[0].files {
                assert!(file.checksum.is_some(), "{} {}", entry.id, file.name);
            }
        }
        let esm = catalogue.entry("esm2-3b").unwrap();
        assert_eq!(esm.sources[0].size(), Some(5_678_116_398 + 6_759));
        assert_eq!(esm.sources[1].name, "hugging-face");
    }

    #[test]
    fn a_catalogue_with_a_path_escape_or_a_missing_url_is_refused() {
        let mut catalogue = Catalogue::builtin();
        catalogue.entries[0].sources[0].files[0].name = "../x".into();
        assert!(catalogue.validate().unwrap_err().contains("bad file name"));
        let mut catalogue = Catalogue::builtin();
        catalogue.entries[2].sources[0].files[0].url = None;
        assert!(catalogue.validate().unwrap_err().contains("has no url"));
        let mut catalogue = Catalogue::builtin();
        let twin = catalogue.entries[0].clone();
        catalogue.entries.push(twin);
        assert!(catalogue.validate().unwrap_err().contains("twice"));
    }
}
