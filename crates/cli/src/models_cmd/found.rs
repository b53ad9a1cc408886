//! DNABERT-S and ESM-2 weights already on this machine, wherever the Python tools or the
//! user put them, catalogue or not.
use std::path::PathBuf;

use virnucpro_models::discovery::{
    discover, DiscoverOptions, Discovery, DiscoveryError, ModelCandidate, SearchRoots,
};
use virnucpro_models::CacheRoots;

use crate::units;

/// Look in the usual caches (or the chosen one) and the folders named with `--dir`.
pub fn discover_all(
    roots: Option<&CacheRoots>,
    dirs: &[PathBuf],
    sha256: bool,
) -> Result<Discovery, DiscoveryError> {
    let search = match roots {
        Some(roots) => SearchRoots {
            hf_hub: Some(roots.hf_hub.clone()),
            torch_hub: Some(roots.torch_checkpoints.clone()),
            extra: Vec::new(),
        },
        None => SearchRoots::from_env(),
    };
    discover(
        &search.with_extra(dirs.iter().cloned()),
        &DiscoverOptions { sha256 },
    )
}

pub fn print_found(found: &Discovery) {
    if found.models.is_empty() {
        crate::outln!("No DNABERT-S or ESM-2 weights found.");
    } else {
        let complete = found.models.iter().filter(|m| m.is_complete()).count();
        crate::outln!(
            "Found {} model(s), {complete} complete (every DNABERT-S and ESM-2, catalogue or not):",
            found.models.len()
        );
        for model in &found.models {
            crate::outln!();
            print_model(model);
        }
    }
    crate::outln!();
    crate::outln!("Looked in:");
    for place in &found.searched {
        let missing = if place.present { "" } else { "  (not present)" };
        crate::outln!("  {:<9}  {}{missing}", place.source, place.path.display());
    }
    if found.models.is_empty() {
        crate::outln!();
        crate::outln!(
            "Get them with `virnucpro models fetch`, set HF_HUB_CACHE, HF_HOME or TORCH_HOME \
             to where the Python tools put them, or name a folder with --dir."
        );
    }
}

fn print_model(model: &ModelCandidate) {
    let layout = model.layout.map_or("-".to_string(), |l| l.to_string());
    let state = match model.problems.len() {
        0 => "ok".to_string(),
        1 => "1 problem".to_string(),
        n => format!("{n} problems"),
    };
    crate::outln!(
        "{:<9}  {}  {layout}  {}  {state}",
        model.kind,
        model.name,
        units::bytes(model.size_bytes)
    );
    let revision = model
        .revision
        .as_ref()
        .map_or(String::new(), |r| format!(", revision {r}"));
    crate::outln!(
        "  path:    {} ({}{revision})",
        model.path.display(),
        model.source
    );
    for file in &model.files {
        if let Some(digest) = &file.sha256 {
            let name = file.path.file_name().unwrap_or(file.path.as_os_str());
            crate::outln!("  sha256:  {digest}  {}", name.to_string_lossy());
        }
    }
    for problem in &model.problems {
        crate::outln!("  problem: {problem}");
    }
}
