//! Hugging Face model folders: the hub cache's `models--ORG--NAME/snapshots/REV/` and plain
//! folders saved with `save_pretrained`.
use std::collections::BTreeSet;
use std::fs;
use std::path::{Component, Path};

use serde_json::Value;

use super::{
    file_name, files, sorted_entries, DiscoverOptions, Layout, ModelCandidate, ModelKind, Source,
    WeightFile,
};

/// The weight files transformers looks for, in its order of preference; the second field
/// says whether the file is an index of shards.
const WEIGHTS: [(Layout, &str, bool); 4] = [
    (Layout::HfSafetensors, "model.safetensors", false),
    (
        Layout::HfShardedSafetensors,
        "model.safetensors.index.json",
        true,
    ),
    (Layout::HfPytorchBin, "pytorch_model.bin", false),
    (Layout::HfPytorchBin, "pytorch_model.bin.index.json", true),
];

/// The kind a repository or folder name stands for: `zhihan1996/DNABERT-S` and
/// `facebook/esm2_*` (or copies named after them, `dnabert_s_…`, `…esm2…`).
pub(super) fn kind_from_name(name: &str) -> Option<ModelKind> {
    let name = name.to_ascii_lowercase().replace('_', "-");
    if name.contains("dnabert-s") {
        Some(ModelKind::DnabertS)
    } else if name.contains("esm2") {
        Some(ModelKind::Esm2)
    } else {
        None
    }
}

/// NAME of a hub cache folder `models--ORG--NAME` (or `models--NAME`): what fair-esm and
/// users call the model.
fn repo_name(folder_name: &str) -> Option<&str> {
    let repo = folder_name.strip_prefix("models--")?;
    Some(repo.split_once("--").map_or(repo, |(_, name)| name))
}

pub(super) fn is_hub_repo(path: &Path) -> bool {
    file_name(path).starts_with("models--")
}

/// Every DNABERT-S and ESM-2 snapshot in a hub cache folder.
pub(super) fn scan_hub(
    hub: &Path,
    source: Source,
    options: &DiscoverOptions,
) -> Vec<ModelCandidate> {
    let mut found = Vec::new();
    for repo_dir in sorted_entries(hub) {
        let Some(name) = repo_name(file_name(&repo_dir)) else {
            continue;
        };
        match kind_from_name(name) {
            Some(kind) => found.extend(scan_repo(&repo_dir, kind, name, source, options)),
            None => tracing::debug!(name, "not DNABERT-S or ESM-2; skipped"),
        }
    }
    found
}

fn scan_repo(
    repo_dir: &Path,
    kind: ModelKind,
    name: &str,
    source: Source,
    options: &DiscoverOptions,
) -> Vec<ModelCandidate> {
    // huggingface_hub downloads into blobs/HASH.incomplete and links the snapshot entry
    // only when a file is complete; a leftover .incomplete means an interrupted download.
    // It cannot be tied to one snapshot, so each snapshot of the repository reports it.
    let unfinished: Vec<String> = sorted_entries(&repo_dir.join("blobs"))
        .into_iter()
        .filter(|blob| file_name(blob).ends_with(".incomplete"))
        .map(|blob| {
            let size = fs::metadata(&blob).map(|m| m.len()).unwrap_or(0);
            format!(
                "unfinished download in the hub cache: blobs/{} ({size} bytes)",
                file_name(&blob)
            )
        })
        .collect();
    let snapshots: Vec<_> = sorted_entries(&repo_dir.join("snapshots"))
        .into_iter()
        .filter(|snapshot| snapshot.is_dir())
        .collect();
    if snapshots.is_empty() {
        let mut problems =
            vec!["no snapshot folder: the download never finished a file".to_string()];
        problems.extend(unfinished);
        return vec![ModelCandidate {
            kind,
            name: name.to_string(),
            source,
            revision: None,
            path: repo_dir.to_path_buf(),
            layout: None,
            size_bytes: 0,
            files: Vec::new(),
            problems,
        }];
    }
    snapshots
        .iter()
        .map(|snapshot| {
            let mut candidate = inspect_folder(snapshot, kind, name, source, options);
            candidate.revision = Some(file_name(snapshot).to_string());
            candidate.problems.extend(unfinished.iter().cloned());
            candidate
        })
        .collect()
}

/// A plain folder with a `config.json`, recognised by its name or its config; `None` when it
/// is neither DNABERT-S nor ESM-2.
pub(super) fn inspect_named_folder(
    folder: &Path,
    options: &DiscoverOptions,
) -> Option<ModelCandidate> {
    if fs::symlink_metadata(folder.join("config.json")).is_err() {
        return None;
    }
    // A hub snapshot named directly (`models--ORG--NAME/snapshots/REV`) keeps NAME and REV.
    let repo = folder
        .parent()
        .filter(|parent| file_name(parent) == "snapshots")
        .and_then(Path::parent)
        .and_then(|repo| repo_name(file_name(repo)));
    let name = repo.unwrap_or(file_name(folder));
    let kind = kind_from_name(name).or_else(|| match read_config(folder) {
        // DNABERT-S's config says only "bert", like any BERT: only ESM can be told apart.
        Ok(config) if config["model_type"] == "esm" => Some(ModelKind::Esm2),
        _ => None,
    });
    let Some(kind) = kind else {
        tracing::debug!(folder = %folder.display(), "not DNABERT-S or ESM-2; skipped");
        return None;
    };
    let mut candidate = inspect_folder(folder, kind, name, Source::Folder, options);
    if repo.is_some() {
        candidate.revision = Some(file_name(folder).to_string());
    }
    Some(candidate)
}

/// Everything about one Hugging Face model folder.
fn inspect_folder(
    folder: &Path,
    kind: ModelKind,
    name: &str,
    source: Source,
    options: &DiscoverOptions,
) -> ModelCandidate {
    let mut problems = Vec::new();
    check_config(folder, kind, &mut problems);
    // DNABERT-S needs its BPE tokenizer. ESM-2's alphabet is fixed (fair-esm checkpoints
    // carry none either), so its vocab.txt is not required.
    if kind == ModelKind::DnabertS {
        require(
            folder,
            "tokenizer.json",
            "DNABERT-S needs its tokenizer",
            &mut problems,
        );
    }
    let (layout, files) = weights(folder, options, &mut problems);
    ModelCandidate {
        kind,
        name: name.to_string(),
        source,
        revision: None,
        path: folder.to_path_buf(),
        layout,
        size_bytes: files.iter().map(|f| f.size).sum(),
        files,
        problems,
    }
}

fn read_config(folder: &Path) -> Result<Value, String> {
    let text = fs::read_to_string(folder.join("config.json")).map_err(|err| err.to_string())?;
    serde_json::from_str(&text).map_err(|err| format!("config.json is not valid JSON: {err}"))
}

fn check_config(folder: &Path, kind: ModelKind, problems: &mut Vec<String>) {
    if !require(folder, "config.json", "it describes the model", problems) {
        return;
    }
    let config = match read_config(folder) {
        Ok(config) => config,
        Err(problem) => return problems.push(problem),
    };
    let expected = match kind {
        ModelKind::DnabertS => "bert",
        ModelKind::Esm2 => "esm",
    };
    match config["model_type"].as_str() {
        Some(model_type) if model_type == expected => {}
        Some(model_type) => problems.push(format!(
            "config.json says model_type \"{model_type}\"; {kind} is \"{expected}\""
        )),
        None => problems.push("config.json has no model_type".to_string()),
    }
    let folding = config["is_folding_model"] == true
        || config["architectures"]
            .as_array()
            .is_some_and(|a| a.iter().any(|arch| arch == "EsmForProteinFolding"));
    if kind == ModelKind::Esm2 && folding {
        problems.push("config.json describes ESMFold, not an ESM-2 language model".to_string());
    }
}

/// Whether `folder/file` is there (behind any link); a problem saying why not otherwise.
fn require(folder: &Path, file: &str, why: &str, problems: &mut Vec<String>) -> bool {
    let path = folder.join(file);
    if path.is_file() {
        return true;
    }
    problems.push(if fs::symlink_metadata(&path).is_ok() {
        format!("{file} is a link to a missing file ({why})")
    } else {
        format!("{file} is missing ({why})")
    });
    false
}

/// The layout and weight files of a folder, by transformers' order of preference.
fn weights(
    folder: &Path,
    options: &DiscoverOptions,
    problems: &mut Vec<String>,
) -> (Option<Layout>, Vec<WeightFile>) {
    let Some((layout, file, sharded)) = WEIGHTS
        .into_iter()
        .find(|(_, file, _)| fs::symlink_metadata(folder.join(file)).is_ok())
    else {
        problems.push(
            "no weight file (model.safetensors, pytorch_model.bin, or a sharded index)".to_string(),
        );
        return (None, Vec::new());
    };
    let files = if sharded {
        shards(folder, file, options, problems)
    } else {
        files::inspect(&folder.join(file), file, options.sha256, problems)
            .into_iter()
            .collect()
    };
    (Some(layout), files)
}

/// The shards an index names, each inspected; missing ones are problems.
fn shards(
    folder: &Path,
    index: &str,
    options: &DiscoverOptions,
    problems: &mut Vec<String>,
) -> Vec<WeightFile> {
    let names = match shard_names(&folder.join(index)) {
        Ok(names) => names,
        Err(problem) => {
            problems.push(format!("{index} {problem}"));
            return Vec::new();
        }
    };
    let mut found = Vec::new();
    for name in names {
        let label = format!("shard {name} (named in {index})");
        // An index is data from the internet: a shard path must stay inside the folder.
        let mut parts = Path::new(&name).components();
        if !matches!(
            (parts.next(), parts.next()),
            (Some(Component::Normal(_)), None)
        ) {
            problems.push(format!("{label} is not a file name in the model folder"));
            continue;
        }
        found.extend(files::inspect(
            &folder.join(&name),
            &label,
            options.sha256,
            problems,
        ));
    }
    found
}

/// The distinct file names of an index's `weight_map`, sorted.
fn shard_names(index: &Path) -> Result<BTreeSet<String>, String> {
    let text = fs::read_to_string(index).map_err(|err| format!("cannot be read: {err}"))?;
    let json: Value =
        serde_json::from_str(&text).map_err(|err| format!("is not valid JSON: {err}"))?;
    let map = json["weight_map"]
        .as_object()
        .ok_or_else(|| "has no weight_map".to_string())?;
    map.values()
        .map(|file| {
            file.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("names a shard that is not a string: {file}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_tell_the_kind() {
        assert_eq!(kind_from_name("DNABERT-S"), Some(ModelKind::DnabertS));
        assert_eq!(kind_from_name("dnabert_s_tiny"), Some(ModelKind::DnabertS));
        assert_eq!(kind_from_name("esm2_t36_3B_UR50D"), Some(ModelKind::Esm2));
        assert_eq!(kind_from_name("DNABERT-2-117M"), None);
        assert_eq!(kind_from_name("esm1b_t33_650M_UR50S"), None);
        assert_eq!(kind_from_name("bert-base-uncased"), None);
    }
}
