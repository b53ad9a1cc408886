//! What an earlier run in an output folder was, from its `run-manifest.json`, so that the
//! setup screen can offer to resume it with the same settings.
//!
//! The manifest records what the run did: the files it read (folders expanded) and the
//! batch budget and thread count it used. The setup screen compares against the settings
//! as the user gave them (a folder, "auto"), which the shell keeps when a run starts
//! ([`crate::presets::PresetStore::record_given`]); they are used whenever they describe
//! the recorded run.
//!
//! Whether the run kept its feature files (`keep_features`) is part of what describes it,
//! so the offer says what the last run did (a CLI run with `--keep-features` since shows
//! as one). A different choice still resumes: without it the shards are reused from their
//! scores files, with it the shards whose merged file is missing are embedded again; the
//! setup screen says which.
use std::collections::BTreeSet;
use std::path::Path;

use virnucpro_core::run_folder::{RunLayout, RunManifest};

use crate::api::{ResumeInfo, RunSettings};
use crate::error::CommandResult;

/// The run recorded in `out_dir` with its settings as the manifest records them, or
/// `None` when there is no readable manifest.
pub fn find(out_dir: &Path) -> Option<ResumeInfo> {
    find_as_given(out_dir, None)
}

/// [`load`], for the setup screen: a manifest that cannot be read (one that is not ours,
/// or holds a value this version does not know, such as an unknown precision) offers no
/// resume, and the log says why, naming the file and the field.
pub fn find_as_given(out_dir: &Path, given: Option<&RunSettings>) -> Option<ResumeInfo> {
    load(out_dir, given)
        .map_err(|err| tracing::warn!("no resume offered: {}", err.message))
        .ok()
        .flatten()
}

/// The run recorded in `out_dir` (`None` without a manifest), with `given` (the settings
/// a run in this folder was started with) as its settings when they describe that run,
/// else the manifest's: the folder may have been run since from elsewhere (the CLI, an
/// older app). A manifest that cannot be read is an error naming the file and the field.
pub fn load(out_dir: &Path, given: Option<&RunSettings>) -> CommandResult<Option<ResumeInfo>> {
    let Some(manifest) = RunManifest::load(&RunLayout::new(out_dir).manifest())? else {
        return Ok(None);
    };
    let settings = match given.filter(|given| describes(given, &manifest)) {
        Some(given) => RunSettings {
            out_dir: out_dir.to_path_buf(),
            ..given.clone()
        },
        None => recorded_settings(out_dir, &manifest),
    };
    Ok(Some(ResumeInfo {
        out_dir: out_dir.to_path_buf(),
        stages_done: manifest
            .stages_done()
            .into_iter()
            .map(|stage| stage.as_str().to_owned())
            .collect(),
        settings,
        state: manifest.state.to_string(),
    }))
}

/// The settings as the manifest has them: every file read, the budget and threads used.
fn recorded_settings(out_dir: &Path, manifest: &RunManifest) -> RunSettings {
    let settings = &manifest.settings;
    RunSettings {
        inputs: manifest.inputs.iter().map(|i| i.path.clone()).collect(),
        out_dir: out_dir.to_path_buf(),
        dnabert: manifest.models.dnabert.path.clone(),
        esm: manifest.models.esm.path.clone(),
        classifier: manifest.models.classifier.path.clone(),
        length: settings.length,
        devices: settings.devices.clone(),
        // The app's one thread setting sizes both; a command line may have set two.
        threads: Some(settings.prepare_threads),
        precision: settings.precision,
        batch_tokens: Some(settings.batch_tokens),
        keep_features: settings.keep_features,
        samples: Vec::new(),
    }
}

/// Whether a run started with `given` is the run `manifest` records: the same models and
/// options, an explicit thread count or budget equal to the one used ("auto" matches
/// any), and inputs that are exactly the files read, each a given file or inside a given
/// folder, every given input holding at least one of them.
fn describes(given: &RunSettings, manifest: &RunManifest) -> bool {
    let recorded = &manifest.settings;
    let models = &manifest.models;
    let same_models = given.dnabert == models.dnabert.path
        && given.esm == models.esm.path
        && given.classifier == models.classifier.path;
    // The engine parses the device list into its own order without repeats.
    let device_set = |devices: &[String]| devices.iter().cloned().collect::<BTreeSet<_>>();
    let same_options = given.length == recorded.length
        && device_set(&given.devices) == device_set(&recorded.devices)
        && given.precision == recorded.precision
        && given
            .threads
            .is_none_or(|n| n == recorded.prepare_threads && n == recorded.merge_thread_count())
        && given
            .batch_tokens
            .is_none_or(|n| n == recorded.batch_tokens)
        && given.keep_features == recorded.keep_features;
    let files: Vec<&Path> = manifest.inputs.iter().map(|i| i.path.as_path()).collect();
    let every_file_given = files
        .iter()
        .all(|file| given.inputs.iter().any(|input| file.starts_with(input)));
    let every_input_read = given
        .inputs
        .iter()
        .all(|input| files.iter().any(|file| file.starts_with(input)));
    same_models && same_options && every_file_given && every_input_read
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::json;

    use super::*;
    use crate::api::Precision;

    /// A manifest as the engine writes it, for a run that read `files` with batch budget
    /// 8192 and 16 threads.
    fn write_manifest(out_dir: &Path, files: &[PathBuf]) {
        let entry =
            |path: &PathBuf| json!({"path": path, "bytes": 1, "modified_ns": 0, "xxh3": "0"});
        let model = |path: &str| json!({"path": path, "model_id": "m", "files": []});
        let manifest = json!({
            "manifest_version": 1, "state": "ok", "started_unix": 0,
            "software": {"app": "virnucpro", "libtorch": "2", "cuda": "none"},
            "inputs": files.iter().map(entry).collect::<Vec<_>>(),
            "models": {"dnabert": model("/m/dnabert"), "esm": model("/m/esm.pt"), "classifier": model("/m/500_model.pth")},
            "settings": {"length": 500, "shard_size": 10000, "devices": ["cuda:0", "cuda:1"], "threads": 16,
                         "precision": "bf16", "batch_tokens": 8192, "classify_device": "cuda:0"},
            "plan": [], "stages": [], "failures": [], "error": null, "summary": null,
        });
        let path = RunLayout::new(out_dir).manifest();
        std::fs::write(path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    }

    /// What the setup screen had when the run started: a folder of reads, auto budget
    /// and threads.
    fn given(out_dir: &Path) -> RunSettings {
        RunSettings {
            inputs: vec!["/data/reads".into()],
            out_dir: out_dir.to_path_buf(),
            dnabert: "/m/dnabert".into(),
            esm: "/m/esm.pt".into(),
            classifier: "/m/500_model.pth".into(),
            length: 500,
            devices: vec!["cuda:1".into(), "cuda:0".into()],
            threads: None,
            precision: Precision::Bf16,
            batch_tokens: None,
            keep_features: false,
            samples: Vec::new(),
        }
    }

    fn read_files() -> Vec<PathBuf> {
        vec!["/data/reads/a.fa".into(), "/data/reads/b.fq.gz".into()]
    }

    #[test]
    fn the_settings_as_given_describe_the_run_they_started() {
        let out = tempfile::tempdir().unwrap();
        write_manifest(out.path(), &read_files());
        let given = given(out.path());

        let info = find_as_given(out.path(), Some(&given)).expect("a manifest");
        assert_eq!(
            info.settings, given,
            "the folder and auto, as the user gave them"
        );
        assert_eq!(info.state, "ok");

        // Explicit values equal to the ones used describe the run too.
        let explicit = RunSettings {
            threads: Some(16),
            batch_tokens: Some(8192),
            keep_features: false,
            samples: Vec::new(),
            ..given.clone()
        };
        let info = find_as_given(out.path(), Some(&explicit)).unwrap();
        assert_eq!(info.settings, explicit);

        // Without them (a run of the CLI), the manifest's: every file read, the values used.
        let info = find(out.path()).unwrap();
        assert_eq!(info.settings.inputs, read_files());
        assert_eq!(
            (info.settings.threads, info.settings.batch_tokens),
            (Some(16), Some(8192))
        );
    }

    #[test]
    fn settings_of_another_run_are_not_taken_for_the_recorded_one() {
        let out = tempfile::tempdir().unwrap();
        write_manifest(out.path(), &read_files());
        let recorded = find(out.path()).unwrap().settings;
        let base = given(out.path());
        let others = [
            RunSettings {
                batch_tokens: Some(4096),
                keep_features: false,
                samples: Vec::new(),
                ..base.clone()
            },
            RunSettings {
                threads: Some(4),
                ..base.clone()
            },
            RunSettings {
                classifier: "/m/300_model.pth".into(),
                length: 300,
                ..base.clone()
            },
            RunSettings {
                precision: Precision::Fp32,
                ..base.clone()
            },
            RunSettings {
                devices: vec!["cuda:0".into()],
                ..base.clone()
            },
            // A folder the run did not read, and a run that read only part of the inputs.
            RunSettings {
                inputs: vec!["/data/reads".into(), "/data/more".into()],
                ..base.clone()
            },
            RunSettings {
                inputs: vec!["/data/reads/a.fa".into()],
                ..base.clone()
            },
        ];
        for other in others {
            let info = find_as_given(out.path(), Some(&other)).unwrap();
            assert_eq!(info.settings, recorded, "{other:?}");
        }
        let none = tempfile::tempdir().unwrap();
        assert_eq!(find_as_given(none.path(), Some(&base)), None);
    }

    /// Keeping the feature files or not is part of the recorded run: settings given with
    /// the other choice (the folder was run since with the other one) are not taken for
    /// it, and the offer carries the manifest's choice. A manifest from before the setting
    /// reads as not kept.
    #[test]
    fn keep_features_is_part_of_the_recorded_run() {
        let out = tempfile::tempdir().unwrap();
        write_manifest(out.path(), &read_files());
        let given = given(out.path());
        assert!(
            !find(out.path()).unwrap().settings.keep_features,
            "absent: false"
        );

        let keeping = RunSettings {
            keep_features: true,
            ..given.clone()
        };
        let info = find_as_given(out.path(), Some(&keeping)).unwrap();
        assert_eq!(
            info.settings.inputs,
            read_files(),
            "the manifest's settings"
        );
        assert!(!info.settings.keep_features);

        // A run that kept them: so does the offer, and settings given with it describe it.
        let path = RunLayout::new(out.path()).manifest();
        let mut manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        manifest["settings"]["keep_features"] = json!(true);
        std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();
        assert!(find(out.path()).unwrap().settings.keep_features);
        let info = find_as_given(out.path(), Some(&keeping)).unwrap();
        assert_eq!(info.settings, keeping, "as given");
        let info = find_as_given(out.path(), Some(&given)).unwrap();
        assert_eq!(
            info.settings.inputs,
            read_files(),
            "the manifest's settings"
        );
        assert!(info.settings.keep_features);
    }

    /// An unknown precision (a newer engine, a hand edit) is not taken for fp32: the
    /// manifest is refused, naming the file and the field, and no resume is offered.
    #[test]
    fn an_unknown_precision_is_an_error_not_fp32() {
        let out = tempfile::tempdir().unwrap();
        write_manifest(out.path(), &read_files());
        let path = RunLayout::new(out.path()).manifest();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("\"bf16\"", "\"fp8\"")).unwrap();
        let err = load(out.path(), None).unwrap_err();
        assert_eq!(err.kind, crate::error::ErrorKind::Invalid);
        assert!(
            err.message.contains("run-manifest.json")
                && err.message.contains("settings.precision")
                && err.message.contains("fp8"),
            "{}",
            err.message
        );
        assert_eq!(find_as_given(out.path(), Some(&given(out.path()))), None);
    }
}
