//! fair-esm checkpoints: `esm2_t*_*.pt` as `esm.pretrained` saves them in torch hub's
//! checkpoint folder.
use std::collections::HashSet;
use std::fs;
use std::path::Path;

use super::{
    file_name, files, sorted_entries, DiscoverOptions, Layout, ModelCandidate, ModelKind, Source,
};

/// `esm2_….pt`, but not the contact-head weights fair-esm downloads beside each model
/// (embeddings do not use them).
fn is_checkpoint(name: &str) -> bool {
    name.starts_with("esm2_") && name.ends_with(".pt") && !name.ends_with("-contact-regression.pt")
}

/// torch.hub downloads to `NAME.pt.<uuid hex>.partial` and renames it when done: the
/// checkpoint a leftover partial file was meant to become.
fn partial_target(name: &str) -> Option<&str> {
    let stem = name.strip_suffix(".partial")?;
    let end = stem.find(".pt.")? + ".pt".len();
    Some(&stem[..end])
}

pub(super) fn scan(
    folder: &Path,
    source: Source,
    options: &DiscoverOptions,
) -> Vec<ModelCandidate> {
    let entries = sorted_entries(folder);
    let names: HashSet<&str> = entries.iter().map(|p| file_name(p)).collect();
    let mut found = Vec::new();
    for path in &entries {
        let name = file_name(path);
        if is_checkpoint(name) {
            found.push(checkpoint(path, name, source, options));
        } else if let Some(target) = partial_target(name).filter(|t| is_checkpoint(t)) {
            if !names.contains(target) {
                found.push(unfinished(path, target, source));
            }
        }
    }
    found
}

fn checkpoint(
    path: &Path,
    name: &str,
    source: Source,
    options: &DiscoverOptions,
) -> ModelCandidate {
    let mut problems = Vec::new();
    let files: Vec<_> = files::inspect(path, name, options.sha256, &mut problems)
        .into_iter()
        .collect();
    ModelCandidate {
        kind: ModelKind::Esm2,
        name: name.trim_end_matches(".pt").to_string(),
        source,
        revision: None,
        path: path.to_path_buf(),
        layout: Some(Layout::FairEsmPt),
        size_bytes: files.iter().map(|f| f.size).sum(),
        files,
        problems,
    }
}

fn unfinished(partial: &Path, target: &str, source: Source) -> ModelCandidate {
    let size = fs::metadata(partial).map(|m| m.len()).unwrap_or(0);
    ModelCandidate {
        kind: ModelKind::Esm2,
        name: target.trim_end_matches(".pt").to_string(),
        source,
        revision: None,
        path: partial.to_path_buf(),
        layout: Some(Layout::FairEsmPt),
        size_bytes: 0,
        files: Vec::new(),
        problems: vec![format!(
            "unfinished download: only {} ({size} bytes so far); {target} is missing",
            file_name(partial)
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_names() {
        assert!(is_checkpoint("esm2_t36_3B_UR50D.pt"));
        assert!(is_checkpoint("esm2_t2_tiny_fixture.pt"));
        assert!(!is_checkpoint("esm2_t36_3B_UR50D-contact-regression.pt"));
        assert!(!is_checkpoint("esm1b_t33_650M_UR50S.pt"));
        assert!(!is_checkpoint("500_model.pth"));
    }

    #[test]
    fn partial_downloads_name_their_target() {
        assert_eq!(
            partial_target("esm2_t36_3B_UR50D.pt.1f2e3d4c5b6a.partial"),
            Some("esm2_t36_3B_UR50D.pt")
        );
        assert_eq!(partial_target("esm2_t36_3B_UR50D.pt"), None);
        assert_eq!(partial_target("x.partial"), None);
    }
}
