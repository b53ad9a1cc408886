//! What an earlier run in an output folder was, from its `run-manifest.json`, so that the
//! setup screen can offer to resume it with the same settings.
use std::path::Path;

use virnucpro_engine::run::{RunLayout, RunManifest};

use crate::api::{ResumeInfo, RunSettings};

/// The run recorded in `out_dir`, or `None` when there is no readable manifest.
pub fn find(out_dir: &Path) -> Option<ResumeInfo> {
    let manifest = RunManifest::read(&RunLayout::new(out_dir).manifest())?;
    let settings = &manifest.settings;
    // Written by the engine from the same type; an unknown value (a newer engine) is fp32.
    let precision = settings.precision.parse().unwrap_or_default();
    Some(ResumeInfo {
        out_dir: out_dir.to_path_buf(),
        // Stages that ended without a failed item; a resume redoes the rest.
        stages_done: manifest
            .stages
            .iter()
            .filter(|s| s.counts.failed == 0)
            .map(|s| s.stage.as_str().to_owned())
            .collect(),
        settings: RunSettings {
            // The files the run read (folders were expanded when it started).
            inputs: manifest.inputs.iter().map(|i| i.path.clone()).collect(),
            out_dir: out_dir.to_path_buf(),
            dnabert: manifest.models.dnabert.path.clone(),
            esm: manifest.models.esm.path.clone(),
            classifier: manifest.models.classifier.path.clone(),
            length: settings.length,
            devices: settings.devices.clone(),
            threads: Some(settings.threads),
            precision,
            batch_tokens: Some(settings.batch_tokens),
        },
        state: manifest.state,
    })
}
