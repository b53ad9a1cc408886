//! Files a run removes: its own earlier results on `--restart`, what a killed run left
//! half-made, and the outputs of shards an earlier run had and this one does not.
use std::path::Path;

use virnucpro_core::features::FeatureKind;

use super::prepared;
use super::RunError;
use virnucpro_core::run_folder::layout::{
    RunLayout, FAILURES_FILE, MANIFEST_FILE, READ_SUMMARY_FILE, REPORTS_STAGING, REPORTS_STAMP,
};

pub(super) fn remove_file_if_present(path: &Path) -> Result<(), RunError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(RunError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// `--restart`: only what a run writes is removed, never anything else in the folder.
pub(super) fn remove_results(layout: &RunLayout) -> Result<(), RunError> {
    for dir in [
        layout.prepared(),
        layout.features(),
        layout.merged(),
        layout.scores(),
    ] {
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(RunError::Io { path: dir, source }),
        }
    }
    for name in [
        virnucpro_core::report::RESULTS_FILE,
        virnucpro_core::report::HIGHESTSCORE_FILE,
        READ_SUMMARY_FILE,
        virnucpro_core::pairs::PAIR_SUMMARY_FILE,
        FAILURES_FILE,
        MANIFEST_FILE,
        REPORTS_STAMP,
    ] {
        remove_file_if_present(&layout.root.join(name))?;
    }
    super::publish::remove_partial_reports(layout).map_err(|source| RunError::Io {
        path: layout.root.clone(),
        source,
    })
}

/// Temporary files of a killed run (`.name.XXXXXX.tmp`), prepare's staging folders and
/// unfinished reports (`.reports-new/`): never trusted, only in the way.
pub(super) fn remove_leftovers(layout: &RunLayout) {
    for dir in [
        layout.root.clone(),
        layout.prepared(),
        layout.features(),
        layout.merged(),
        layout.scores(),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let removed = if name.starts_with('.') && name.ends_with(".tmp") {
                std::fs::remove_file(&path)
            } else if name.starts_with(".prepare-staging-") || name == REPORTS_STAGING {
                std::fs::remove_dir_all(&path)
            } else {
                continue;
            };
            match removed {
                Ok(()) => tracing::info!("removed {} left by an interrupted run", path.display()),
                Err(e) => tracing::warn!("cannot remove {}: {e}", path.display()),
            }
        }
    }
}

/// Feature, merged and scores files of shards the current prepare does not have (an earlier run
/// on other inputs had more shards).
pub(super) fn remove_stale_shards(
    layout: &RunLayout,
    shards: &[prepared::ShardInfo],
) -> Result<(), RunError> {
    let names: std::collections::HashSet<String> = shards.iter().map(|s| s.name()).collect();
    for (dir, kinds) in [
        (
            layout.features(),
            &[FeatureKind::Nucleotide, FeatureKind::Protein][..],
        ),
        (layout.merged(), &[FeatureKind::Merged][..]),
        (layout.scores(), &[FeatureKind::Scores][..]),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            let stale = kinds
                .iter()
                .filter_map(|k| k.shard_of(&file))
                .any(|shard| !names.contains(shard));
            if stale {
                remove_file_if_present(&entry.path())?;
            }
        }
    }
    Ok(())
}
