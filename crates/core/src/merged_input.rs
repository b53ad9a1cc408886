//! Merged feature rows as the classifier consumes them: our `{shard}.merged.safetensors`
//! or the Python tools' `{shard}_merged.pt`, one shard at a time, in shard order.
use std::path::{Path, PathBuf};

use crate::features::{FeatureFile, FeatureKind};
use crate::input_paths::{expand, PathError};
use crate::legacy::{read_legacy_features, LegacyKind};
use crate::merge::natural_cmp;

const LEGACY_SUFFIX: &str = "_merged.pt";

/// The rows of one merged shard.
#[derive(Debug, Clone, PartialEq)]
pub struct MergedTable {
    pub path: PathBuf,
    pub ids: Vec<String>,
    pub dim: usize,
    /// Row-major, `ids.len() × dim`.
    pub rows: Vec<f32>,
}

#[derive(Debug, thiserror::Error)]
pub enum MergedInputError {
    #[error(transparent)]
    Path(#[from] PathError),
    #[error("{path}: the folder holds no merged feature files (*.merged.safetensors or *{LEGACY_SUFFIX})")]
    EmptyFolder { path: PathBuf },
    #[error("shard {shard} is given twice: {first} and {second}")]
    DuplicateShard {
        shard: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error(
        "{path}: not a merged feature file (expected *.merged.safetensors or *{LEGACY_SUFFIX})"
    )]
    NotMerged { path: PathBuf },
    #[error(transparent)]
    Features(#[from] crate::features::FeatureError),
    #[error(transparent)]
    Legacy(#[from] crate::legacy::LegacyError),
}

/// The shard name of a merged file, from its name.
fn shard_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    FeatureKind::Merged
        .shard_of(name)
        .or_else(|| name.strip_suffix(LEGACY_SUFFIX).filter(|s| !s.is_empty()))
        .map(str::to_string)
}

/// Files and folders → merged files in shard order (natural order of shard names, so
/// `output_2` comes before `output_10`). A shard present twice is an error, never a guess.
pub fn find_merged_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, MergedInputError> {
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    let is_merged = |p: &Path| shard_name(p).is_some();
    for given in expand(paths, is_merged)? {
        if given.is_folder && given.files.is_empty() {
            return Err(MergedInputError::EmptyFolder { path: given.given });
        }
        for file in given.files {
            let shard = shard_name(&file)
                .ok_or_else(|| MergedInputError::NotMerged { path: file.clone() })?;
            found.push((shard, file));
        }
    }
    found.sort_by(|a, b| natural_cmp(&a.0, &b.0).then_with(|| a.1.cmp(&b.1)));
    for pair in found.windows(2) {
        if pair[0].0 == pair[1].0 {
            return Err(MergedInputError::DuplicateShard {
                shard: pair[0].0.clone(),
                first: pair[0].1.clone(),
                second: pair[1].1.clone(),
            });
        }
    }
    Ok(found.into_iter().map(|(_, path)| path).collect())
}

/// Read one merged shard whole (one shard is at most a few hundred MB).
pub fn read_merged(path: &Path) -> Result<MergedTable, MergedInputError> {
    if path.to_string_lossy().ends_with(LEGACY_SUFFIX) {
        let legacy = read_legacy_features(path)?;
        if legacy.kind != LegacyKind::Merged {
            return Err(MergedInputError::NotMerged {
                path: path.to_path_buf(),
            });
        }
        return Ok(MergedTable {
            path: path.to_path_buf(),
            ids: legacy.ids,
            dim: legacy.dim,
            rows: legacy.data,
        });
    }
    let file = FeatureFile::open(path)?;
    if file.meta().kind != FeatureKind::Merged {
        return Err(MergedInputError::NotMerged {
            path: path.to_path_buf(),
        });
    }
    Ok(MergedTable {
        path: path.to_path_buf(),
        ids: file.ids().to_vec(),
        dim: file.dim(),
        rows: file.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn shard_order_is_natural_and_duplicates_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "output_10_merged.pt",
            "output_2.merged.safetensors",
            "output_1_merged.pt",
            "notes.txt",
        ] {
            fs::write(dir.path().join(name), b"").unwrap();
        }
        let files = find_merged_files(&[dir.path().to_path_buf()]).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "output_1_merged.pt",
                "output_2.merged.safetensors",
                "output_10_merged.pt"
            ]
        );
        fs::write(dir.path().join("output_2_merged.pt"), b"").unwrap();
        let err = find_merged_files(&[dir.path().to_path_buf()]).unwrap_err();
        assert!(
            matches!(err, MergedInputError::DuplicateShard { ref shard, .. } if shard == "output_2"),
            "{err}"
        );
    }

    #[test]
    fn non_merged_names_and_empty_folders_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            find_merged_files(&[dir.path().to_path_buf()]),
            Err(MergedInputError::EmptyFolder { .. })
        ));
        let esm = dir.path().join("output_1_ESM.pt");
        fs::write(&esm, b"").unwrap();
        assert!(matches!(
            find_merged_files(&[esm]),
            Err(MergedInputError::NotMerged { .. })
        ));
    }
}
