//! Disk space before and during a run, on small file systems of their own (tmpfs mounted
//! by the test; it needs the right to mount and fails without it): the space check refuses
//! a run that does not fit, naming both numbers; a disk that fills mid-run stops the run
//! with one clear error, leaves no damaged file under a final name, and the run resumes on
//! a bigger disk to the reports of an uninterrupted run; the estimate is within 2× of what
//! the run really writes (tiny fixture models, ../shared/fixtures/e2e/a500).
use std::path::{Path, PathBuf};

use virnucpro_core::disk::{estimate_run, EstimateSettings, PreparedLife, SpaceEstimate, Widths};
use virnucpro_core::events::{RunEvent, RunStatus};
use virnucpro_core::features::FeatureFile;
use virnucpro_core::CancelToken;
use virnucpro_engine::run::{run_prediction, validate, RunError, RunOptions, RunOutcome, RunSpec};
use virnucpro_testkit::small_fs::SmallFs;

mod common;

const REPORTS: [&str; 3] = [
    "prediction_results.txt",
    "prediction_results_highestscore.csv",
    "read_summary.tsv",
];

fn spec(out: &Path, keep_features: bool, space_check: bool) -> RunSpec {
    RunSpec {
        keep_features,
        space_check,
        ..common::a500_spec(out)
    }
}

/// Run `spec`; `on_event` sees every event.
fn run(spec: &RunSpec, on_event: &mut dyn FnMut(&RunEvent)) -> Result<RunOutcome, RunError> {
    run_prediction(spec, RunOptions::default(), &CancelToken::new(), on_event)
}

/// The files under `dir`, relative to it, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// An uninterrupted run of the fixture into `out`.
fn reference(out: &Path, keep_features: bool) {
    let outcome = run(&spec(out, keep_features, false), &mut |_| {}).unwrap();
    assert_eq!(outcome.summary.status, RunStatus::Ok);
}

/// The estimate the engine makes for `spec`: the loaded models' widths, prepared shards
/// kept (what a run does today).
fn estimate(spec: &RunSpec) -> SpaceEstimate {
    let run = validate(spec).unwrap();
    let widths = Widths {
        dna: run.dnabert.dim.unwrap(),
        protein: run.esm.dim.unwrap(),
    };
    let settings = EstimateSettings {
        shard_size: spec.shard_size,
        keep_features: spec.keep_features,
        widths,
        prepared: PreparedLife::Kept,
    };
    estimate_run(&run.inputs, spec.length, &settings).unwrap()
}

#[test]
fn the_space_check_refuses_a_run_that_does_not_fit_and_can_be_turned_off() {
    let fs = SmallFs::mount(64 << 10);
    let out = fs.path().join("run");
    let err = run(&spec(&out, false, true), &mut |_| {}).unwrap_err();
    let RunError::NoSpace {
        folder,
        needed,
        available,
    } = &err
    else {
        panic!("not refused for space: {err}");
    };
    assert_eq!(folder, &out);
    assert!(needed > available, "{needed} > {available}");
    assert!(*available <= 64 << 10);
    let message = err.to_string();
    for part in [
        out.display().to_string(),
        virnucpro_models::fetch::human_bytes(*needed),
        virnucpro_models::fetch::human_bytes(*available),
        "--no-space-check".to_string(),
    ] {
        assert!(message.contains(&part), "{part:?} in {message}");
    }
    assert!(!out.join("prepared").exists(), "refused before any work");
    // Without the check the run starts, and stops only when the disk is full.
    let err = run(&spec(&out, false, false), &mut |_| {}).unwrap_err();
    assert!(matches!(err, RunError::DiskFull { .. }), "{err}");
}

#[test]
fn a_run_on_a_disk_that_fills_stops_cleanly_and_resumes_on_a_bigger_one() {
    for keep_features in [false, true] {
        let reference_dir = tempfile::tempdir().unwrap();
        reference(reference_dir.path(), keep_features);
        let written = disk_use(reference_dir.path());
        // The disk fills early (prepare), in the middle, and late (features, reports).
        for percent in [30, 60, 90] {
            let name = format!("keep_features {keep_features}, disk of {percent}%");
            fill_and_resume(
                reference_dir.path(),
                written * percent / 100,
                keep_features,
                &name,
            );
        }
    }
}

fn fill_and_resume(reference_dir: &Path, disk: u64, keep_features: bool, name: &str) {
    let fs = SmallFs::mount(disk);
    let out = fs.path().join("run");
    let spec = spec(&out, keep_features, false);
    let mut failures = Vec::new();
    let err = run(&spec, &mut |event| {
        if let RunEvent::Failure(failure) = event {
            failures.push(failure.clone());
        }
    })
    .unwrap_err();
    // A full disk stops the run; it is not a shard's failure (a feature or merged file
    // that cannot be written is not listed as a failed shard).
    assert!(failures.is_empty(), "{name}: {failures:?}");
    let RunError::DiskFull { folder, path, .. } = &err else {
        panic!("{name}: not a disk-full error: {err}");
    };
    assert_eq!(folder, &out, "{name}: {err}");
    let message = err.to_string();
    assert!(
        message.contains(&format!(
            "the disk holding {} is full while writing",
            out.display()
        )) && message.contains(&path.display().to_string())
            && message.contains("the run resumes"),
        "{name}: {message}"
    );
    eprintln!("{name}: {message}");
    no_damaged_file(&out, reference_dir, name);
    fs.grow(64 << 20);
    let outcome = run(&spec, &mut |_| {}).unwrap();
    assert_eq!(outcome.summary.status, RunStatus::Ok, "{name}");
    for report in REPORTS {
        assert_eq!(
            std::fs::read(out.join(report)).unwrap(),
            std::fs::read(reference_dir.join(report)).unwrap(),
            "{name}: {report}"
        );
    }
}

/// Every file under a final name in the stopped run's outputs is whole: a feature, merged
/// or scores file verifies, any other is the uninterrupted run's byte for byte; no report
/// was put in place.
fn no_damaged_file(out: &Path, reference: &Path, name: &str) {
    for report in REPORTS {
        assert!(
            !out.join(report).exists(),
            "{name}: {report} of a stopped run"
        );
    }
    for file in files(out) {
        let top = file
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let hidden = file
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
        if hidden || !["prepared", "features", "merged", "scores"].contains(&top.as_ref()) {
            continue;
        }
        let path = out.join(&file);
        if file.extension().is_some_and(|e| e == "safetensors") {
            FeatureFile::open(&path)
                .and_then(|f| f.verify_data())
                .unwrap_or_else(|e| panic!("{name}: {} is damaged: {e}", file.display()));
        } else if file.file_name().is_some_and(|n| n != "run-inputs.json") {
            assert_eq!(
                std::fs::read(&path).unwrap(),
                std::fs::read(reference.join(&file)).unwrap(),
                "{name}: {} differs from the uninterrupted run's",
                file.display()
            );
        }
    }
}

/// Bytes allocated to the files under `dir`.
fn disk_use(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    files(dir)
        .iter()
        .map(|f| std::fs::metadata(dir.join(f)).unwrap().blocks() * 512)
        .sum()
}

#[test]
fn the_estimate_is_within_twice_what_a_run_writes() {
    for keep_features in [false, true] {
        let fs = SmallFs::mount(64 << 20);
        let out = fs.path().join("run");
        let spec = spec(&out, keep_features, true);
        let estimate = estimate(&spec);
        let before = fs.used();
        let mut peak = 0;
        run(&spec, &mut |_| peak = peak.max(fs.used())).unwrap();
        let peak = peak.max(fs.used()) - before;
        let after = fs.used() - before;
        eprintln!(
            "keep_features {keep_features}: estimate peak {} after {}, written peak {peak} \
             after {after}; {:?}",
            estimate.peak, estimate.after, estimate.parts
        );
        for (what, estimated, written) in [
            ("peak", estimate.peak, peak),
            ("after", estimate.after, after),
        ] {
            assert!(
                estimated <= 2 * written && written <= 2 * estimated,
                "keep_features {keep_features}: {what}: estimated {estimated}, written {written}"
            );
        }
    }
}
