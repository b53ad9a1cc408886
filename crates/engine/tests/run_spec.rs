//! A run's settings are checked before any work, each problem on the setting that causes
//! it: a model of the wrong kind on its own field (not a width error on the classifier),
//! and thread counts by the one rule of `core::threads`.
use std::path::{Path, PathBuf};

use virnucpro_core::threads::cores;
use virnucpro_engine::run::{validate, RunSpec, Setting, SpecProblem};
use virnucpro_testkit::{fixture, repo_root};

fn demo_spec(out: &Path) -> RunSpec {
    let demo = repo_root().join("demo");
    RunSpec::new(
        vec![demo.join("sample_reads.fa")],
        demo.join("models/dnabert_s_tiny"),
        demo.join("models/esm2_tiny/esm2_t2_tiny_fixture.pt"),
        demo.join("models/classifier_500_tiny.pth"),
        500,
        out.to_path_buf(),
    )
}

fn problems(spec: &RunSpec) -> Vec<SpecProblem> {
    match validate(spec) {
        Ok(_) => Vec::new(),
        Err(problems) => problems,
    }
}

fn settings(problems: &[SpecProblem]) -> Vec<&'static str> {
    problems.iter().map(|p| p.setting.flag()).collect()
}

#[test]
fn the_demo_is_valid() {
    let out = tempfile::tempdir().unwrap();
    assert_eq!(problems(&demo_spec(&out.path().join("run"))), []);
}

#[test]
fn a_model_of_the_other_kind_is_named_on_its_own_field() {
    let out = tempfile::tempdir().unwrap();
    let demo = demo_spec(&out.path().join("run"));
    let dnabert: PathBuf = fixture("models/dnabert_s_tiny");
    let esm_folder: PathBuf = fixture("models/esm2_tiny_hf");

    let dnabert_as_esm = RunSpec {
        esm: dnabert.clone(),
        ..demo.clone()
    };
    let found = problems(&dnabert_as_esm);
    assert_eq!(settings(&found), ["--esm"], "{found:?}");
    assert!(found[0].message.contains("dnabert_s_tiny"), "{found:?}");

    let esm_as_dnabert = RunSpec {
        dnabert: esm_folder,
        ..demo.clone()
    };
    let found = problems(&esm_as_dnabert);
    assert_eq!(settings(&found), ["--dnabert"], "{found:?}");
    assert!(found[0].message.contains("esm2_tiny_hf"), "{found:?}");
}

#[test]
fn a_width_mismatch_of_tiny_models_and_the_real_classifier_is_the_classifiers() {
    let out = tempfile::tempdir().unwrap();
    let real_classifier = RunSpec {
        classifier: fixture("classifier/mlp_3328x512_cpu.pth"),
        ..demo_spec(&out.path().join("run"))
    };
    let found = problems(&real_classifier);
    assert_eq!(settings(&found), ["--classifier"], "{found:?}");
    assert!(
        found[0]
            .message
            .contains("takes rows of 3328 values, but DNABERT-S (96) + ESM-2 (64) give 160"),
        "{found:?}"
    );
}

#[test]
fn threads_are_a_number_from_one_to_the_cores() {
    let out = tempfile::tempdir().unwrap();
    let demo = demo_spec(&out.path().join("run"));
    for ok in [1, cores()] {
        let spec = RunSpec {
            threads: Some(ok),
            ..demo.clone()
        };
        assert_eq!(problems(&spec), [], "{ok} threads");
    }
    for bad in [0, cores() + 1, 9999] {
        let spec = RunSpec {
            threads: Some(bad),
            ..demo.clone()
        };
        let found = problems(&spec);
        assert_eq!(settings(&found), ["--threads"], "{bad}: {found:?}");
        let expected = format!(
            "must be between 1 and {}, the CPU cores of this machine (got {bad})",
            cores()
        );
        assert_eq!(found[0].message, expected);
    }
}

/// `--prepare-threads` and `--merge-threads` each size their own stage, by the same rule,
/// and a problem is named by the setting given; `--threads` sizes both unless overridden.
#[test]
fn prepare_and_merge_threads_are_checked_and_named_each() {
    let out = tempfile::tempdir().unwrap();
    let demo = demo_spec(&out.path().join("run"));
    let spec = RunSpec {
        threads: Some(1),
        merge_threads: Some(cores()),
        ..demo.clone()
    };
    assert_eq!(problems(&spec), []);
    assert_eq!(spec.prepare_thread_count(), 1);
    assert_eq!(spec.merge_thread_count(), cores());
    let spec = RunSpec {
        prepare_threads: Some(0),
        merge_threads: Some(cores() + 1),
        ..demo.clone()
    };
    let found = problems(&spec);
    assert_eq!(
        settings(&found),
        ["--prepare-threads", "--merge-threads"],
        "{found:?}"
    );
    assert_eq!(demo.prepare_thread_count(), cores());
    assert_eq!(demo.merge_thread_count(), cores());
}

#[test]
fn a_classifier_named_for_the_other_length_is_a_warning() {
    let out = tempfile::tempdir().unwrap();
    let demo = demo_spec(&out.path().join("run"));
    let validated = validate(&demo).unwrap();
    assert_eq!(validated.warnings, []);

    let named_300 = out.path().join("300_model.pth");
    std::fs::copy(&demo.classifier, &named_300).unwrap();
    let spec = RunSpec {
        classifier: named_300,
        ..demo.clone()
    };
    let validated = validate(&spec).unwrap();
    let [warning] = validated.warnings.as_slice() else {
        panic!("{:?}", validated.warnings)
    };
    assert_eq!(warning.setting, Setting::Classifier);
    assert!(
        warning.message.contains(
            "300_model.pth looks like the classifier for 300 bp reads, but the read length is 500 bp"
        ),
        "{warning}"
    );
}
