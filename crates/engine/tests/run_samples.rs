//! A run of several samples: each sample's reports are byte for byte those of a run of
//! that sample alone, the models are loaded once for all samples, and `summary.tsv` has
//! one line per sample (tiny fixture models, ../shared/fixtures/e2e/a500).
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tch::Device;
use virnucpro_core::events::{RunEvent, RunStatus};
use virnucpro_core::run_folder::samples::Sample;
use virnucpro_core::CancelToken;
use virnucpro_engine::embed::{EmbedError, Encode, EncoderFactory};
use virnucpro_engine::run::{
    run_prediction, run_validated_samples, validate_samples, RunError, RunOptions, RunSpec,
};
use virnucpro_testkit::fixture;

mod common;

const REPORTS: [&str; 3] = [
    "prediction_results.txt",
    "prediction_results_highestscore.csv",
    "read_summary.tsv",
];

/// The first `n` records of the a500 input, as a sample of its own.
fn first_records(dir: &Path, n: usize) -> PathBuf {
    let text = std::fs::read_to_string(fixture("e2e/a500/input.fa")).unwrap();
    let mut out = String::new();
    let mut records = 0;
    for line in text.lines() {
        if line.starts_with('>') {
            records += 1;
            if records > n {
                break;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    let path = dir.join("first.fa");
    std::fs::write(&path, out).unwrap();
    path
}

/// Counts the loads of the factory it wraps.
struct Counting(Box<dyn EncoderFactory>, Arc<AtomicUsize>);

impl EncoderFactory for Counting {
    fn load(&self, device: Device) -> Result<Box<dyn Encode>, EmbedError> {
        self.1.fetch_add(1, Ordering::SeqCst);
        self.0.load(device)
    }
}

fn spec(out: &Path) -> RunSpec {
    RunSpec {
        shard_size: 40,
        ..common::a500_spec(out)
    }
}

#[test]
fn two_samples_in_one_run_match_two_single_runs_and_load_the_models_once() {
    let inputs = tempfile::tempdir().unwrap();
    let small = first_records(inputs.path(), 7);
    // The same reads in both samples: IDs need only be unique within a sample.
    let samples = vec![
        Sample {
            name: "whole".into(),
            inputs: vec![fixture("e2e/a500/input.fa")],
        },
        Sample {
            name: "first-7".into(),
            inputs: vec![small.clone()],
        },
    ];
    let out = tempfile::tempdir().unwrap();
    let mut validated = validate_samples(&spec(out.path()), &samples).unwrap();
    let loads = Arc::new(AtomicUsize::new(0));
    for setup in [&mut validated.dnabert, &mut validated.esm] {
        let inner = std::mem::replace(&mut setup.factory, Box::new(fail));
        setup.factory = Box::new(Counting(inner, Arc::clone(&loads)));
    }
    let mut events = Vec::new();
    let outcome = run_validated_samples(
        &mut validated,
        &samples,
        RunOptions::default(),
        &CancelToken::new(),
        &mut |e| events.push(e.clone()),
    )
    .unwrap();
    assert_eq!(outcome.status(), RunStatus::Ok);
    // DNABERT-S and ESM-2, once each on the one device, for both samples.
    assert_eq!(loads.load(Ordering::SeqCst), 2);
    let started: Vec<(String, usize, usize)> = events
        .iter()
        .filter_map(|e| match e {
            RunEvent::SampleStarted {
                sample,
                index,
                total,
                ..
            } => Some((sample.clone(), *index, *total)),
            _ => None,
        })
        .collect();
    assert_eq!(
        started,
        [("whole".to_string(), 0, 2), ("first-7".to_string(), 1, 2)]
    );

    for (sample, input) in samples.iter().zip([fixture("e2e/a500/input.fa"), small]) {
        let alone = tempfile::tempdir().unwrap();
        let spec = RunSpec {
            inputs: vec![input],
            ..spec(alone.path())
        };
        let single = run_prediction(
            &spec,
            RunOptions::default(),
            &CancelToken::new(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(single.summary.status, RunStatus::Ok);
        for report in REPORTS {
            assert_eq!(
                std::fs::read(out.path().join(&sample.name).join(report)).unwrap(),
                std::fs::read(alone.path().join(report)).unwrap(),
                "{}: {report}",
                sample.name
            );
        }
    }
    let summary = std::fs::read_to_string(out.path().join("summary.tsv")).unwrap();
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(lines.len(), 3, "{summary}");
    assert!(lines[1].starts_with("whole\t"), "{summary}");
    assert!(lines[2].starts_with("first-7\t7\t"), "{summary}");
}

fn fail(_: Device) -> Result<Box<dyn Encode>, EmbedError> {
    Err(EmbedError::Settings("placeholder".into()))
}

#[test]
fn bad_sample_names_and_missing_inputs_are_all_listed_before_any_work() {
    let out = tempfile::tempdir().unwrap();
    let samples = vec![
        Sample {
            name: "a/b".into(),
            inputs: vec![fixture("e2e/a500/input.fa")],
        },
        Sample {
            name: "ok".into(),
            inputs: vec!["/no/such/reads.fa".into()],
        },
        Sample {
            name: "ok".into(),
            inputs: vec![fixture("e2e/a500/input.fa")],
        },
    ];
    let Err(RunError::Invalid(problems)) = validate_samples(&spec(out.path()), &samples) else {
        panic!("the samples are refused");
    };
    let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(problems.len(), 3, "{text:#?}");
    assert!(text[0].contains("\"a/b\""), "{text:#?}");
    assert!(text[1].contains("given twice"), "{text:#?}");
    assert!(text[2].contains("/no/such/reads.fa"), "{text:#?}");
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}

#[test]
fn pairs_given_explicitly_are_refused_with_samples_before_any_work() {
    let out = tempfile::tempdir().unwrap();
    let reads = fixture("e2e/a500/input.fa");
    let mut spec = spec(out.path());
    spec.pairing
        .explicit
        .push((reads.clone(), fixture("e2e/a300/input.fa")));
    let samples = vec![Sample {
        name: "one".into(),
        inputs: vec![reads],
    }];
    let Err(RunError::Invalid(problems)) = validate_samples(&spec, &samples) else {
        panic!("explicit pairs with samples are refused");
    };
    let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert!(
        text.iter()
            .any(|t| t.contains("--pair") && t.contains("samples")),
        "{text:#?}"
    );
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}
