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
//!
//! How the reads were paired is part of it too (`pairs`, the manifest's `settings.pairing`;
//! older manifests, of versions without pairs, read as off): another choice prepares the
//! reads again. A run given explicit pairs (the CLI's `--pair`) is never described by the
//! app's settings, which have none.
//!
//! A run of samples has no manifest of its own: each sample is a run in `out/NAME/` with
//! its own ([`find_for`]). Resuming it runs the samples again without restart: each sample
//! resumes its folder, and a finished one is reused.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use virnucpro_core::run_folder::manifest::RunState;
use virnucpro_core::run_folder::samples::{check_name, sample_dir};
use virnucpro_core::run_folder::{RunLayout, RunManifest};

use crate::api::{ResumeInfo, RunSettings, SampleResume, SampleSettings};
use crate::error::CommandResult;

/// The run recorded in `out_dir` (or its sample folders) with its settings as the
/// manifests record them, or `None` when there is no readable manifest.
pub fn find(out_dir: &Path) -> Option<ResumeInfo> {
    find_as_given(out_dir, None)
}

/// [`find_for`] without samples in the setup screen's settings.
pub fn find_as_given(out_dir: &Path, given: Option<&RunSettings>) -> Option<ResumeInfo> {
    find_for(out_dir, given, &[])
}

/// [`load_for`], for the setup screen: a manifest that cannot be read (one that is not ours,
/// or holds a value this version does not know, such as an unknown precision) offers no
/// resume, and the log says why, naming the file and the field.
pub fn find_for(
    out_dir: &Path,
    given: Option<&RunSettings>,
    samples: &[String],
) -> Option<ResumeInfo> {
    load_for(out_dir, given, samples)
        .map_err(|err| tracing::warn!("no resume offered: {}", err.message))
        .ok()
        .flatten()
}

/// The earlier run in `out_dir`: with `samples` (the names of the samples in the setup
/// screen's settings), the run of those samples when one of them has a manifest in its
/// folder `out_dir/NAME/`; else the folder's own run ([`load`]); else a run of the samples
/// `given` names or, without those, of the sample folders with a manifest in `out_dir` (a
/// run of the command line).
pub fn load_for(
    out_dir: &Path,
    given: Option<&RunSettings>,
    samples: &[String],
) -> CommandResult<Option<ResumeInfo>> {
    if !samples.is_empty() {
        if let Some(info) = load_samples(out_dir, given, samples)? {
            return Ok(Some(info));
        }
    }
    if let Some(info) = load(out_dir, given)? {
        return Ok(Some(info));
    }
    let names: Vec<String> = match given.filter(|g| !g.samples.is_empty()) {
        Some(given) => given.samples.iter().map(|s| s.name.clone()).collect(),
        None => sample_folders(out_dir),
    };
    if names.is_empty() || names == samples {
        return Ok(None);
    }
    load_samples(out_dir, given, &names)
}

/// The folders in `out_dir` named as samples are (core's `check_name`) that hold a run
/// manifest, by name.
fn sample_folders(out_dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(out_dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| check_name(name).is_ok())
        .filter(|name| {
            RunLayout::new(&sample_dir(out_dir, name))
                .manifest()
                .is_file()
        })
        .collect();
    names.sort();
    names
}

/// One sample folder: its name, its run folder and its manifest (`None`: not started).
struct SampleFolder {
    name: String,
    out_dir: PathBuf,
    manifest: Option<RunManifest>,
}

/// The run of `names` in `out_dir`, each in `out_dir/NAME/`; `None` when none of them has
/// a manifest. A manifest that cannot be read is an error, as for a single run.
fn load_samples(
    out_dir: &Path,
    given: Option<&RunSettings>,
    names: &[String],
) -> CommandResult<Option<ResumeInfo>> {
    let mut folders = Vec::with_capacity(names.len());
    for name in names {
        let dir = sample_dir(out_dir, name);
        let manifest = RunManifest::load(&RunLayout::new(&dir).manifest())?;
        folders.push(SampleFolder {
            name: name.clone(),
            out_dir: dir,
            manifest,
        });
    }
    let Some(first) = folders.iter().find_map(|f| f.manifest.as_ref()) else {
        return Ok(None);
    };
    let settings = match given.filter(|given| describes_samples(given, &folders)) {
        Some(given) => RunSettings {
            out_dir: out_dir.to_path_buf(),
            ..given.clone()
        },
        None => recorded_samples_settings(out_dir, first, &folders),
    };
    let samples: Vec<SampleResume> = folders
        .iter()
        .map(|folder| SampleResume {
            name: folder.name.clone(),
            out_dir: folder.out_dir.clone(),
            state: folder.manifest.as_ref().map(|m| m.state.to_string()),
            stages_done: folder
                .manifest
                .as_ref()
                .map(stage_names)
                .unwrap_or_default(),
        })
        .collect();
    // The stages every sample finished: a sample not started finished none.
    let stages_done = samples
        .iter()
        .map(|s| s.stages_done.clone())
        .reduce(|all, some| all.into_iter().filter(|s| some.contains(s)).collect())
        .unwrap_or_default();
    Ok(Some(ResumeInfo {
        out_dir: out_dir.to_path_buf(),
        state: samples_state(&folders).to_owned(),
        settings,
        stages_done,
        samples,
    }))
}

/// The state of a run of samples, from its samples' (see [`ResumeInfo::state`]).
fn samples_state(folders: &[SampleFolder]) -> &'static str {
    let states: Vec<Option<RunState>> = folders
        .iter()
        .map(|f| f.manifest.as_ref().map(|m| m.state))
        .collect();
    if states.iter().all(|s| *s == Some(RunState::Ok)) {
        "ok"
    } else if states.contains(&Some(RunState::Running)) {
        "running"
    } else if states
        .iter()
        .any(|s| matches!(s, None | Some(RunState::Cancelled)))
    {
        "cancelled"
    } else if states.iter().all(|s| *s == Some(RunState::Failed)) {
        "failed"
    } else {
        "partial"
    }
}

/// Whether `given`, settings of samples, started the runs in `folders`: each sample that
/// has a manifest is one of its samples, and its run is the one `given` with that
/// sample's inputs describes.
fn describes_samples(given: &RunSettings, folders: &[SampleFolder]) -> bool {
    folders.iter().all(|folder| {
        let Some(manifest) = &folder.manifest else {
            return true;
        };
        given
            .samples
            .iter()
            .find(|sample| sample.name == folder.name)
            .is_some_and(|sample| {
                let as_run = RunSettings {
                    inputs: sample.inputs.clone(),
                    samples: Vec::new(),
                    ..given.clone()
                };
                describes(&as_run, manifest)
            })
    })
}

/// The settings of a run of samples as its manifests have them: the options of `first`
/// (the first sample's manifest), and each sample that has a manifest with the files it
/// read (a sample not started has no record of its inputs).
fn recorded_samples_settings(
    out_dir: &Path,
    first: &RunManifest,
    folders: &[SampleFolder],
) -> RunSettings {
    let samples = folders
        .iter()
        .filter_map(|folder| {
            let manifest = folder.manifest.as_ref()?;
            Some(SampleSettings {
                name: folder.name.clone(),
                inputs: manifest.inputs.iter().map(|i| i.path.clone()).collect(),
            })
        })
        .collect();
    RunSettings {
        inputs: Vec::new(),
        samples,
        ..recorded_settings(out_dir, first)
    }
}

fn stage_names(manifest: &RunManifest) -> Vec<String> {
    manifest
        .stages_done()
        .into_iter()
        .map(|stage| stage.as_str().to_owned())
        .collect()
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
        stages_done: stage_names(&manifest),
        settings,
        state: manifest.state.to_string(),
        samples: Vec::new(),
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
        // Explicit pairs (the CLI's --pair) have no place in the app's settings: a resume
        // with these prepares the reads again.
        pairs: settings.pairing.mode,
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
        && given.keep_features == recorded.keep_features
        && given.pairs == recorded.pairing.mode
        && recorded.pairing.explicit.is_empty();
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
    use crate::api::{PairMode, Precision};

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
                         "precision": "bf16", "batch_tokens": 8192, "classify_device": "cuda:0",
                         "pairing": {"mode": "auto", "explicit": []}},
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
            pairs: PairMode::Auto,
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

    /// How the reads were paired is part of the recorded run, like keep_features: settings
    /// with the other mode are not taken for it, and the offer carries the manifest's. A
    /// manifest from before paired reads reads as off; one with explicit pairs (the CLI's
    /// --pair) is described by no settings of the app.
    #[test]
    fn the_pairing_is_part_of_the_recorded_run() {
        let out = tempfile::tempdir().unwrap();
        write_manifest(out.path(), &read_files());
        let given = given(out.path());
        assert_eq!(
            find_as_given(out.path(), Some(&given)).unwrap().settings,
            given
        );
        let single_end = RunSettings {
            pairs: PairMode::Off,
            ..given.clone()
        };
        let info = find_as_given(out.path(), Some(&single_end)).unwrap();
        assert_eq!(
            info.settings.inputs,
            read_files(),
            "the manifest's settings"
        );
        assert_eq!(info.settings.pairs, PairMode::Auto);

        let path = RunLayout::new(out.path()).manifest();
        let edit = |change: &dyn Fn(&mut serde_json::Value)| {
            let mut manifest: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            change(&mut manifest);
            std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();
        };
        edit(&|m| {
            m["settings"]["pairing"]["explicit"] = json!([["/data/x_R1.fq", "/data/y_R2.fq"]])
        });
        let info = find_as_given(out.path(), Some(&given)).unwrap();
        assert_eq!(
            info.settings.inputs,
            read_files(),
            "explicit pairs: not as given"
        );

        edit(&|m| {
            m["settings"].as_object_mut().unwrap().remove("pairing");
        });
        assert_eq!(
            find(out.path()).unwrap().settings.pairs,
            PairMode::Off,
            "absent: off"
        );
        assert_eq!(
            find_as_given(out.path(), Some(&single_end))
                .unwrap()
                .settings,
            single_end
        );
        let info = find_as_given(out.path(), Some(&given)).unwrap();
        assert_eq!(info.settings.pairs, PairMode::Off);
    }

    /// A manifest in `dir` for a run that read `files`, ended `state` and finished
    /// `stages`.
    fn write_run(dir: &Path, files: &[PathBuf], state: &str, stages: &[&str]) {
        std::fs::create_dir_all(dir).unwrap();
        write_manifest(dir, files);
        let path = RunLayout::new(dir).manifest();
        let mut manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        manifest["state"] = json!(state);
        manifest["stages"] = stages
            .iter()
            .map(|stage| json!({"stage": stage, "seconds": 1.0, "counts": {"done": 1, "reused": 0, "failed": 0}}))
            .collect();
        std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    }

    /// Samples `gut` (a folder of reads) and `soil` (one file), as the setup screen had
    /// them.
    fn given_samples(out_dir: &Path) -> RunSettings {
        RunSettings {
            inputs: Vec::new(),
            samples: vec![
                SampleSettings {
                    name: "gut".into(),
                    inputs: vec!["/data/reads".into()],
                },
                SampleSettings {
                    name: "soil".into(),
                    inputs: vec!["/data/soil.fq".into()],
                },
            ],
            ..given(out_dir)
        }
    }

    fn sample_names(settings: &RunSettings) -> Vec<String> {
        settings.samples.iter().map(|s| s.name.clone()).collect()
    }

    /// A run of samples cancelled in its second sample, then one cancelled before its
    /// second: a folder without a manifest of its own is recognised by its samples' (the
    /// ones in the setup screen's settings, else the ones it was started with, else the
    /// sample folders found), each sample says how far it got, and the whole run is
    /// cancelled.
    #[test]
    fn a_run_of_samples_is_found_by_its_samples_manifests() {
        let out = tempfile::tempdir().unwrap();
        let given = given_samples(out.path());
        let names = sample_names(&given);
        assert_eq!(find_for(out.path(), Some(&given), &names), None);

        write_run(&out.path().join("gut"), &read_files(), "ok", &ALL_STAGES);
        let soil = vec![PathBuf::from("/data/soil.fq")];
        write_run(&out.path().join("soil"), &soil, "cancelled", &["prepare"]);
        let info = find_for(out.path(), Some(&given), &names).expect("a run of samples");
        assert_eq!(info.out_dir, out.path());
        assert_eq!(info.state, "cancelled");
        assert_eq!(info.settings, given, "as given: the folder, the samples");
        assert_eq!(
            info.stages_done,
            ["prepare"],
            "the stages every sample finished"
        );
        let each: Vec<(&str, Option<&str>, usize)> = info
            .samples
            .iter()
            .map(|s| (s.name.as_str(), s.state.as_deref(), s.stages_done.len()))
            .collect();
        assert_eq!(
            each,
            [("gut", Some("ok"), 5), ("soil", Some("cancelled"), 1)]
        );
        assert_eq!(info.samples[1].out_dir, out.path().join("soil"));

        // Soil not started: its folder has no manifest.
        std::fs::remove_file(RunLayout::new(&out.path().join("soil")).manifest()).unwrap();
        let info = find_for(out.path(), Some(&given), &names).unwrap();
        assert_eq!(info.state, "cancelled");
        assert_eq!(
            (info.samples[1].state.as_deref(), info.stages_done.len()),
            (None, 0)
        );
        assert_eq!(info.settings, given);

        // Without samples in the setup screen's settings: the ones the run was started
        // with, and without those (a run of the command line) the sample folders found,
        // with the settings their manifests record.
        assert_eq!(find_for(out.path(), Some(&given), &[]), Some(info.clone()));
        let found = find(out.path()).expect("the sample folder with a manifest");
        assert_eq!(names_of(&found), ["gut"]);
        assert_eq!(found.settings.samples[0].inputs, read_files());
        assert!(found.settings.inputs.is_empty());
        assert_eq!(found.settings.batch_tokens, Some(8192));
    }

    fn names_of(info: &ResumeInfo) -> Vec<&str> {
        info.samples.iter().map(|s| s.name.as_str()).collect()
    }

    const ALL_STAGES: [&str; 5] = ["prepare", "embed_dna", "embed_protein", "merge", "classify"];

    /// The whole run's state from its samples', and settings that do not describe a
    /// sample's run (another input, another option) are not taken for it.
    #[test]
    fn a_run_of_samples_states_and_settings_that_do_not_describe_it() {
        let out = tempfile::tempdir().unwrap();
        let given = given_samples(out.path());
        let names = sample_names(&given);
        let soil = vec![PathBuf::from("/data/soil.fq")];
        let state_with = |gut: &str, soil_state: &str| {
            write_run(&out.path().join("gut"), &read_files(), gut, &[]);
            write_run(&out.path().join("soil"), &soil, soil_state, &[]);
            find_for(out.path(), Some(&given), &names).unwrap().state
        };
        assert_eq!(state_with("ok", "ok"), "ok");
        assert_eq!(state_with("ok", "partial"), "partial");
        assert_eq!(state_with("failed", "ok"), "partial");
        assert_eq!(state_with("failed", "failed"), "failed");
        assert_eq!(state_with("partial", "cancelled"), "cancelled");
        assert_eq!(state_with("running", "cancelled"), "running");

        let others = [
            RunSettings {
                length: 300,
                ..given.clone()
            },
            RunSettings {
                keep_features: true,
                ..given.clone()
            },
            RunSettings {
                samples: vec![
                    given.samples[1].clone(),
                    SampleSettings {
                        name: "gut".into(),
                        inputs: vec!["/data/other".into()],
                    },
                ],
                ..given.clone()
            },
            // A sample that ran is not among them.
            RunSettings {
                samples: vec![given.samples[0].clone()],
                ..given.clone()
            },
        ];
        for other in others {
            let info = find_for(out.path(), Some(&other), &names).unwrap();
            assert_eq!(sample_names(&info.settings), ["gut", "soil"], "{other:?}");
            assert_eq!(info.settings.samples[1].inputs, soil);
            assert_eq!(info.settings.length, 500);
            assert!(!info.settings.keep_features);
        }
    }

    /// Samples in the setup screen's settings are looked for first; without a manifest in
    /// their folders, the folder's own run is offered.
    #[test]
    fn a_single_run_is_offered_when_the_samples_have_no_manifest() {
        let out = tempfile::tempdir().unwrap();
        write_manifest(out.path(), &read_files());
        let info = find_for(out.path(), None, &["gut".into()]).unwrap();
        assert!(info.samples.is_empty());
        assert_eq!(info.settings.inputs, read_files());
        write_run(&out.path().join("gut"), &read_files(), "cancelled", &[]);
        let info = find_for(out.path(), None, &["gut".into()]).unwrap();
        assert_eq!(names_of(&info), ["gut"]);
        assert_eq!(find(out.path()).unwrap().samples, [], "its own run first");
    }

    /// A sample's manifest that cannot be read offers no resume, as for a single run.
    #[test]
    fn an_unreadable_sample_manifest_offers_no_resume() {
        let out = tempfile::tempdir().unwrap();
        let given = given_samples(out.path());
        write_run(&out.path().join("gut"), &read_files(), "ok", &[]);
        write_run(&out.path().join("soil"), &[], "ok", &[]);
        let path = RunLayout::new(&out.path().join("soil")).manifest();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("\"bf16\"", "\"fp8\"")).unwrap();
        let err = load_for(out.path(), Some(&given), &sample_names(&given)).unwrap_err();
        assert!(err.message.contains("soil"), "{}", err.message);
        assert_eq!(
            find_for(out.path(), Some(&given), &sample_names(&given)),
            None
        );
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
