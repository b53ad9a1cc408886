//! Which files make up a checkpoint: a single weight file, a sharded checkpoint's index,
//! or a Hugging Face model folder holding either.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use virnucpro_core::file_kind::FileKind;

use super::WeightError;

/// How a checkpoint is stored on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WeightFormat {
    Safetensors,
    ShardedSafetensors,
    /// A `torch.save` zip archive: an HF `pytorch_model.bin` or a fair-esm `.pt`.
    TorchPickle,
    ShardedTorchPickle,
}

impl WeightFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Safetensors => "safetensors",
            Self::ShardedSafetensors => "sharded-safetensors",
            Self::TorchPickle => "torch-pickle",
            Self::ShardedTorchPickle => "sharded-torch-pickle",
        }
    }

    fn is_torch(self) -> bool {
        matches!(self, Self::TorchPickle | Self::ShardedTorchPickle)
    }
}

/// In a model folder, the first of these that exists is loaded (the order Hugging Face
/// `from_pretrained` prefers).
pub const FOLDER_CANDIDATES: [&str; 4] = [
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
];

pub(super) struct Resolved {
    pub format: WeightFormat,
    pub files: Vec<PathBuf>,
    /// For sharded checkpoints: tensor name → shard file, as the index says.
    pub weight_map: Option<BTreeMap<String, PathBuf>>,
}

pub(super) fn resolve(path: &Path) -> Result<Resolved, WeightError> {
    let meta = std::fs::metadata(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => WeightError::NotFound {
            path: path.to_path_buf(),
        },
        _ => WeightError::Io {
            path: path.to_path_buf(),
            source,
        },
    })?;
    if meta.is_dir() {
        let found = FOLDER_CANDIDATES
            .iter()
            .map(|name| path.join(name))
            .find(|candidate| candidate.is_file())
            .ok_or_else(|| WeightError::NoWeights {
                dir: path.to_path_buf(),
                looked_for: FOLDER_CANDIDATES.to_vec(),
            })?;
        return resolve_file(&found);
    }
    resolve_file(path)
}

fn resolve_file(path: &Path) -> Result<Resolved, WeightError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.ends_with(".index.json") {
        return resolve_index(path);
    }
    let format = sniff(path)?;
    Ok(Resolved {
        format,
        files: vec![path.to_path_buf()],
        weight_map: None,
    })
}

/// Tell the formats apart by content, not by extension (`.bin`, `.pt` and `.pth` are all
/// used for torch archives, and files get renamed), through core's one detector.
fn sniff(path: &Path) -> Result<WeightFormat, WeightError> {
    let kind = FileKind::of_file(path).map_err(|source| WeightError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    match kind {
        FileKind::TorchZip => Ok(WeightFormat::TorchPickle),
        // A file cut short is left to the safetensors reader, which says what is missing.
        FileKind::Safetensors { .. } | FileKind::TruncatedSafetensors { .. } => {
            Ok(WeightFormat::Safetensors)
        }
        FileKind::Empty => Err(WeightError::Format {
            path: path.to_path_buf(),
            reason: "the file is empty".to_owned(),
        }),
        FileKind::LegacyPickle { .. } | FileKind::Unknown => Err(WeightError::Format {
            path: path.to_path_buf(),
            reason: kind.to_string(),
        }),
    }
}

#[derive(serde::Deserialize)]
struct Index {
    weight_map: BTreeMap<String, String>,
}

fn resolve_index(path: &Path) -> Result<Resolved, WeightError> {
    let index_err = |reason: String| WeightError::Index {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|source| WeightError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let index: Index = serde_json::from_str(&text).map_err(|e| index_err(e.to_string()))?;
    if index.weight_map.is_empty() {
        return Err(index_err("weight_map is empty".into()));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut files: Vec<PathBuf> = Vec::new();
    let mut weight_map = BTreeMap::new();
    for (tensor, shard) in index.weight_map {
        // Shards are plain file names beside the index; anything else could point anywhere.
        if shard.is_empty() || shard.contains(['/', '\\']) || shard == ".." {
            return Err(index_err(format!(
                "shard name {shard:?} is not a file name"
            )));
        }
        let shard_path = dir.join(&shard);
        if !files.contains(&shard_path) {
            if !shard_path.is_file() {
                return Err(index_err(format!("shard {shard} is missing")));
            }
            files.push(shard_path.clone());
        }
        weight_map.insert(tensor, shard_path);
    }
    files.sort();
    let mut formats = files.iter().map(|f| sniff(f));
    let first = formats.next().unwrap_or(Ok(WeightFormat::Safetensors))?;
    for format in formats {
        if format?.is_torch() != first.is_torch() {
            return Err(index_err(
                "the shards mix safetensors and torch files".into(),
            ));
        }
    }
    let format = if first.is_torch() {
        WeightFormat::ShardedTorchPickle
    } else {
        WeightFormat::ShardedSafetensors
    };
    Ok(Resolved {
        format,
        files,
        weight_map: Some(weight_map),
    })
}
