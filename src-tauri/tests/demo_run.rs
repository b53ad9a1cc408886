//! The demo run end to end through the shell's own modules, as the commands use them:
//! events as the UI receives them, results, the virus FASTA export, resume information,
//! and a corrupt feature file showing up under its failure kind, then fixed by a retry.
use std::path::Path;

use virnucpro_core::events::{RunEvent, RunStatus, Stage};
use virnucpro_core::features::{write_features, FeatureFile};
use virnucpro_core::CancelToken;
use virnucpro_desktop::api::{PairMode, ReadCall, RunSettings, SampleSettings, ShellEvent};
use virnucpro_desktop::demo::DemoFiles;
use virnucpro_desktop::{failures, results, resume, run, settings, virus_fasta};

fn demo_settings(out: &Path) -> RunSettings {
    DemoFiles::find(None)
        .expect("demo/")
        .settings(out.to_path_buf())
}

fn execute(settings: &RunSettings) -> (RunStatus, Vec<ShellEvent>) {
    let mut events = Vec::new();
    let summary = run::execute(
        &settings::to_spec(settings).expect("the demo's devices"),
        &settings::samples(settings),
        false,
        &CancelToken::new(),
        |e| events.push(e),
    )
    .expect("the run ends");
    (summary.summary.status, events)
}

#[test]
fn the_demo_runs_and_a_corrupt_shard_is_reported_then_retried() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    // Keep the feature files: the test damages one of them (a run keeps none by default).
    let settings = RunSettings {
        keep_features: true,
        ..demo_settings(&out)
    };
    let (status, events) = execute(&settings);
    assert_eq!(status, RunStatus::Ok);

    // The stream the UI sees: run_started first, run_finished last, each stage started
    // and finished in order, and the classify bar at 100 % before its stage ends.
    assert!(matches!(
        events[0],
        ShellEvent::Run(RunEvent::RunStarted { .. })
    ));
    assert!(matches!(
        events.last(),
        Some(ShellEvent::Run(RunEvent::RunFinished(_)))
    ));
    let finished: Vec<Stage> = events
        .iter()
        .filter_map(|e| match e {
            ShellEvent::Run(RunEvent::StageFinished { stage, .. }) => Some(*stage),
            _ => None,
        })
        .collect();
    assert_eq!(finished, Stage::ALL);
    let last_classify = events
        .iter()
        .rev()
        .find_map(|e| match e {
            ShellEvent::Run(RunEvent::StageProgress {
                stage: Stage::Classify,
                done,
                total,
                ..
            }) => Some((*done, *total)),
            _ => None,
        })
        .expect("classify progress");
    assert_eq!(Some(last_classify.0), last_classify.1, "100 %");

    let loaded = results::load(&out, Some(&settings)).unwrap();
    assert_eq!(loaded.reads.len(), 120);
    // The demo's models are random: the Results screen must say so.
    assert!(loaded.demo_models);
    let report = std::fs::read_to_string(out.join("prediction_results.txt")).unwrap();
    assert_eq!(loaded.frames_scored, report.lines().count() as u64 - 1);
    assert!(loaded.frames_scored > 0);
    // Each read's frames, asked for one read at a time, are the ones its summary counts.
    for read in &loaded.reads {
        let frames = results::load_read_frames(&out, &read.read_id).unwrap();
        assert_eq!(frames.len() as u64, read.frames, "{}", read.read_id);
        assert!(frames.iter().all(|f| f.read_id == read.read_id));
        let best = frames
            .iter()
            .map(|f| f.score_virus)
            .fold(None, |m: Option<f64>, s| Some(m.map_or(s, |m| m.max(s))));
        assert_eq!(best, read.best_virus_score, "{}", read.read_id);
    }
    let scored = loaded
        .reads
        .iter()
        .filter(|r| r.best_virus_score.is_some())
        .count();
    assert_eq!(loaded.histogram.counts.iter().sum::<u64>(), scored as u64);
    let virus = loaded
        .reads
        .iter()
        .filter(|r| r.call == ReadCall::Virus)
        .count();
    let fasta = dir.path().join("virus.fa");
    assert_eq!(virus_fasta::export(&out, &fasta).unwrap(), virus as u64);
    let text = std::fs::read_to_string(&fasta).unwrap();
    assert_eq!(text.lines().filter(|l| l.starts_with('>')).count(), virus);

    let info = resume::find(&out).expect("a manifest");
    assert_eq!(info.state, "ok");
    assert_eq!(info.settings.inputs, settings.inputs);
    assert_eq!(info.settings.esm, settings.esm);

    // A feature file damaged after the run fails its data checksum on resume and is
    // embedded again: the run completes with the same results.
    let victim = out.join("features/output_1.protein.safetensors");
    let mut bytes = std::fs::read(&victim).unwrap();
    let n = bytes.len();
    bytes[n - 64..].fill(0xFF);
    std::fs::write(&victim, bytes).unwrap();
    let (status, _) = execute(&settings);
    assert_eq!(status, RunStatus::Ok);
    assert_eq!(failures::read_failures(&out).unwrap(), []);
    assert_eq!(
        results::load(&out, Some(&settings)).unwrap().reads,
        loaded.reads
    );

    // NaNs written with a matching data checksum (as a model that produced them would
    // write them): only the merge, which checks every value, sees them.
    let file = FeatureFile::open(&victim).unwrap();
    let (meta, mut data) = (file.meta().clone(), file.to_vec());
    drop(file);
    let n = data.len();
    data[n - 16..].fill(f32::NAN);
    write_features(&victim, &meta, &data).unwrap();
    let (status, _) = execute(&settings);
    assert_ne!(status, RunStatus::Ok);
    let groups = failures::group(failures::read_failures(&out).unwrap());
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!((groups[0].kind.as_str(), groups[0].count), ("corrupt", 1));
    let entry = &groups[0].entries[0];
    assert_eq!(
        (entry.stage.as_str(), entry.item.as_str()),
        ("merge", "output_1")
    );
    assert!(entry.files.contains(&victim));

    // Retry failed, as the suggestion says: delete the files listed, resume.
    for file in &entry.files {
        std::fs::remove_file(file).unwrap();
    }
    let (status, _) = execute(&settings);
    assert_eq!(status, RunStatus::Ok);
    assert_eq!(failures::read_failures(&out).unwrap(), []);
    assert_eq!(
        results::load(&out, Some(&settings)).unwrap().reads,
        loaded.reads
    );
}

/// The demo's settings with its reads as two samples, `gut_1` and `skin`.
fn two_samples_of_the_demo(out: &Path) -> RunSettings {
    let mut settings = demo_settings(out);
    let reads = std::mem::take(&mut settings.inputs);
    settings.samples = ["gut_1", "skin"]
        .iter()
        .map(|name| SampleSettings {
            name: (*name).into(),
            inputs: reads.clone(),
        })
        .collect();
    settings
}

/// Two samples of the demo reads in one run, as the app starts it: each sample's events
/// open with sample_started and end with its own run_finished, and the stream ends with
/// the last sample's (the throttler does not stop at the first); the result has both
/// samples and the table across them, and each sample's results are its folder's.
#[test]
fn two_samples_run_each_in_its_folder_with_the_table_across_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let settings = two_samples_of_the_demo(&out);
    let mut events = Vec::new();
    let result = run::execute(
        &settings::to_spec(&settings).unwrap(),
        &settings::samples(&settings),
        false,
        &CancelToken::new(),
        |e| events.push(e),
    )
    .expect("the run ends");

    let marks: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            ShellEvent::Run(RunEvent::SampleStarted {
                sample,
                index,
                total,
                out_dir,
            }) => {
                assert_eq!(*out_dir, out.join(sample));
                Some(format!("start {sample} {index}/{total}"))
            }
            ShellEvent::Run(RunEvent::RunFinished(s)) => Some(format!(
                "end {}",
                s.out_dir.strip_prefix(&out).unwrap().display()
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        marks,
        ["start gut_1 0/2", "end gut_1", "start skin 1/2", "end skin"]
    );
    assert!(matches!(
        events.last(),
        Some(ShellEvent::Run(RunEvent::RunFinished(_)))
    ));

    assert_eq!(result.summary.status, RunStatus::Ok);
    assert_eq!(result.summary.out_dir, out);
    assert_eq!(result.summary_table, Some(out.join("summary.tsv")));
    let names: Vec<(&str, RunStatus)> = result
        .samples
        .iter()
        .map(|s| (s.name.as_str(), s.status))
        .collect();
    assert_eq!(names, [("gut_1", RunStatus::Ok), ("skin", RunStatus::Ok)]);
    let each = result.samples[0].summary.as_ref().unwrap();
    assert_eq!(result.summary.reads, 2 * each.reads);
    assert_eq!(result.summary.frames_scored, 2 * each.frames_scored);

    let table = results::load_samples(&out).unwrap();
    assert_eq!(table.samples.len(), 2);
    for (row, sample) in table.samples.iter().zip(&result.samples) {
        assert_eq!((&row.sample, &row.out_dir), (&sample.name, &sample.out_dir));
        let loaded = results::load(&row.out_dir, Some(&settings)).unwrap();
        assert_eq!(loaded.reads.len() as u64, row.reads);
        assert_eq!(row.reads, each.reads);
        assert!(failures::read_failures(&row.out_dir).unwrap().is_empty());
    }
}

/// A run of two samples cancelled once the first has finished, as the app does it: Setup
/// offers to resume it (the folder has no manifest of its own, its samples do), saying
/// which sample finished and which did not start; resuming (no restart) reuses the
/// finished sample, every stage from its files, and runs the other.
#[test]
fn a_cancelled_run_of_samples_is_offered_and_resumed_reusing_the_finished_sample() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let settings = two_samples_of_the_demo(&out);
    let names: Vec<String> = settings.samples.iter().map(|s| s.name.clone()).collect();
    let spec = settings::to_spec(&settings).unwrap();
    let cancel = CancelToken::new();
    let result = run::execute(&spec, &settings::samples(&settings), false, &cancel, |e| {
        // The first sample's end: the run stops before the next sample starts.
        if matches!(e, ShellEvent::Run(RunEvent::RunFinished(_))) {
            cancel.cancel();
        }
    })
    .expect("the run ends");
    assert_eq!(result.summary.status, RunStatus::Cancelled);
    assert_eq!(result.samples.len(), 1);

    let info = resume::find_for(&out, Some(&settings), &names).expect("a run of samples");
    assert_eq!(info.state, "cancelled");
    assert_eq!(info.settings, settings);
    let each: Vec<(&str, Option<&str>, usize)> = info
        .samples
        .iter()
        .map(|s| (s.name.as_str(), s.state.as_deref(), s.stages_done.len()))
        .collect();
    assert_eq!(each, [("gut_1", Some("ok"), 5), ("skin", None, 0)]);
    // The command line's view (no settings kept by the app): the sample folder found.
    let found = resume::find(&out).expect("its sample folder");
    assert_eq!(found.samples.len(), 1);
    assert_eq!(found.settings.samples[0].inputs.len(), 1);

    let mut events = Vec::new();
    let result = run::execute(
        &spec,
        &settings::samples(&settings),
        false,
        &CancelToken::new(),
        |e| events.push(e),
    )
    .expect("the resumed run ends");
    assert_eq!(result.summary.status, RunStatus::Ok);
    let plans: Vec<Vec<String>> = events
        .iter()
        .filter_map(|e| match e {
            ShellEvent::Run(RunEvent::RunStarted { plan, .. }) => Some(
                plan.iter()
                    .map(|p| format!("{:?}", p.action).to_lowercase())
                    .collect(),
            ),
            _ => None,
        })
        .collect();
    assert_eq!(
        plans,
        [vec!["resume"; 5], vec!["run"; 5]],
        "gut_1 reused, skin run"
    );
    let computed: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            ShellEvent::Run(RunEvent::StageFinished { counts, .. }) => Some(counts.done),
            _ => None,
        })
        .collect();
    assert!(computed[..5].iter().all(|done| *done == 0), "{computed:?}");
    assert!(computed[5..].iter().all(|done| *done > 0), "{computed:?}");
    let info = resume::find_for(&out, Some(&settings), &names).unwrap();
    assert_eq!(info.state, "ok");
    assert_eq!(results::load_samples(&out).unwrap().samples.len(), 2);
}

/// Paired reads through the shell: the demo reads as the R1 and R2 files of one pair
/// (the same names in both, as mates have). Detected by name (the default), each mate is a
/// read of its own (`/1`, `/2`) and Results offers `pair_summary.tsv`; treated as
/// single-end, the same IDs in two files stop the run.
#[test]
fn paired_reads_are_read_as_mates_by_default_and_single_end_when_off() {
    let dir = tempfile::tempdir().unwrap();
    let demo = demo_settings(&dir.path().join("unused"));
    let reads = dir.path().join("reads");
    std::fs::create_dir(&reads).unwrap();
    for mate in ["x_R1.fa", "x_R2.fa"] {
        std::fs::copy(&demo.inputs[0], reads.join(mate)).unwrap();
    }
    let out = dir.path().join("paired");
    let settings = RunSettings {
        inputs: vec![reads.clone()],
        out_dir: out.clone(),
        ..demo.clone()
    };
    assert_eq!(settings.pairs, PairMode::Auto);
    let (status, _) = execute(&settings);
    assert_eq!(status, RunStatus::Ok);
    let loaded = results::load(&out, None).unwrap();
    assert_eq!(loaded.reads.len(), 240, "120 pairs, each mate a read");
    let mates: Vec<&str> = loaded.reads[..2]
        .iter()
        .map(|r| &r.read_id[r.read_id.len() - 2..])
        .collect();
    assert_eq!(mates, ["/1", "/2"]);
    assert_eq!(loaded.pair_summary, Some(out.join("pair_summary.tsv")));

    let single_end = RunSettings {
        out_dir: dir.path().join("single-end"),
        pairs: PairMode::Off,
        ..settings
    };
    let spec = settings::to_spec(&single_end).unwrap();
    let err = run::execute(&spec, &[], false, &CancelToken::new(), |_| {})
        .expect_err("the same read IDs in two files");
    assert!(
        err.message.contains("x_R2.fa") && err.message.contains("used by an earlier record"),
        "{}",
        err.message
    );
    assert!(results::load(&single_end.out_dir, None).is_err());
}
