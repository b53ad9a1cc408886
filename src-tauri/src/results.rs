//! A finished run's results for the results screen: `read_summary.tsv` (one row per read)
//! and a histogram of the reads' best virus scores up front, and one read's rows of
//! `prediction_results.txt` (its scored frames) when the user picks it. Sending every frame
//! up front would not scale: 100 000 reads are about a million frames, 110 MB as JSON.
//! A sample's results are those of its run folder, `out/NAME/`; the table across a run's
//! samples is its `summary.tsv` ([`load_samples`]).
use std::path::Path;

use virnucpro_core::pairs::PAIR_SUMMARY_FILE;
use virnucpro_core::report::{
    read_read_summary, read_results_where, read_samples, Label, ReadSummaryRow, ResultRow,
    RESULTS_FILE,
};
use virnucpro_core::run_folder::samples::{sample_dir, SUMMARY_FILE};
use virnucpro_core::run_folder::{ReportsState, RunLayout, RunManifest, RunState};

use crate::api::{
    FrameCall, FrameRow, Histogram, ReadCall, ReadRow, ReportsStatus, Results, RunSettings,
    SampleRow, SamplesTable,
};
use crate::demo::uses_demo_models;
use crate::error::{CommandError, CommandResult};

/// Bins of the histogram on [0, 1].
pub const BINS: usize = 20;

/// A row of `read_summary.tsv` (core's reader) in the UI's words.
fn read_row(row: ReadSummaryRow) -> ReadRow {
    use virnucpro_core::report::ReadCall as Call;
    ReadRow {
        read_id: row.read_id,
        chunks: row.chunks,
        frames: row.frames,
        virus_chunks: row.virus_chunks,
        best_virus_score: row.best_virus_score,
        call: match row.call {
            Call::Virus => ReadCall::Virus,
            Call::Others => ReadCall::NonVirus,
            Call::None => ReadCall::None,
        },
    }
}

/// A row of `prediction_results.txt` (core's reader) in the UI's words.
fn frame_row(row: ResultRow) -> FrameRow {
    FrameRow {
        sequence_id: row.sequence_id,
        read_id: row.read_id,
        chunk: row.chunk,
        frame: row.frame,
        prediction: match row.prediction {
            Label::Virus => FrameCall::Virus,
            Label::Others => FrameCall::Others,
        },
        score_other: row.score1,
        score_virus: row.score2,
    }
}

/// Reads per bin of their best virus score; reads without a score are not counted. The
/// last bin includes 1.0.
pub fn histogram(reads: &[ReadRow]) -> Histogram {
    let mut counts = vec![0u64; BINS];
    for score in reads.iter().filter_map(|r| r.best_virus_score) {
        if (0.0..=1.0).contains(&score) {
            let bin = ((score * BINS as f64) as usize).min(BINS - 1);
            counts[bin] += 1;
        }
    }
    Histogram {
        edges: (0..=BINS).map(|i| i as f64 / BINS as f64).collect(),
        counts,
    }
}

/// `read_summary.tsv` in `out_dir`; `not_found` before a run has written it.
fn load_reads_path(out_dir: &Path) -> CommandResult<std::path::PathBuf> {
    let summary = RunLayout::new(out_dir).read_summary();
    if !summary.exists() {
        return Err(CommandError::not_found(format!(
            "{}: no results yet (no read_summary.tsv)",
            out_dir.display()
        )));
    }
    Ok(summary)
}

/// The rows of `read_summary.tsv` in `out_dir`; `not_found` before a run has written it.
pub fn load_reads(out_dir: &Path) -> CommandResult<Vec<ReadRow>> {
    let rows = read_read_summary(&load_reads_path(out_dir)?)?;
    Ok(rows.into_iter().map(read_row).collect())
}

/// The results in `out_dir`: every read, the histogram, the number of scored frames, and
/// whether the run used the demo's random models (`demo`: the Demo preset's settings).
pub fn load(out_dir: &Path, demo: Option<&RunSettings>) -> CommandResult<Results> {
    let reads = load_reads(out_dir)?;
    let manifest = RunManifest::load(&RunLayout::new(out_dir).manifest())?;
    Ok(Results {
        out_dir: out_dir.to_path_buf(),
        histogram: histogram(&reads),
        frames_scored: reads.iter().map(|r| r.frames).sum(),
        reads,
        reports: status_of(out_dir, manifest.as_ref()),
        // Without a manifest nothing says which models made the reports.
        demo_models: match (demo, manifest) {
            (Some(demo), Some(manifest)) => uses_demo_models(demo, &manifest.models),
            _ => false,
        },
        pair_summary: Some(out_dir.join(PAIR_SUMMARY_FILE)).filter(|path| path.is_file()),
    })
}

/// The table across the samples of the run in `out_dir` (its `summary.tsv`, core's
/// reader), each sample with its folder; `not_found` when `out_dir` is no run of samples or
/// the run has not written it yet.
pub fn load_samples(out_dir: &Path) -> CommandResult<SamplesTable> {
    let path = out_dir.join(SUMMARY_FILE);
    if !path.is_file() {
        return Err(CommandError::not_found(format!(
            "{}: no table across samples (no {SUMMARY_FILE})",
            out_dir.display()
        )));
    }
    let samples = read_samples(&path)?
        .into_iter()
        .map(|s| SampleRow {
            out_dir: sample_dir(out_dir, &s.sample),
            sample: s.sample,
            reads: s.reads,
            virus_reads: s.virus_reads,
            others_reads: s.others_reads,
            unscored_reads: s.unscored_reads,
            chunks: s.chunks,
            virus_chunks: s.virus_chunks,
            frames: s.frames,
        })
        .collect();
    Ok(SamplesTable { path, samples })
}

/// What the reports in `out_dir` are, as the last run's manifest (`None`: there is none)
/// records it. Manifests without the record (a run killed while running, or an older
/// version) say it by their state: only a run that ended `ok` vouches for its reports
/// being complete and current.
fn status_of(out_dir: &Path, manifest: Option<&RunManifest>) -> ReportsStatus {
    let Some(manifest) = manifest else {
        return ReportsStatus {
            state: ReportsState::Complete,
            partial_files: Vec::new(),
            last_run: None,
        };
    };
    let (state, partial_files) = match &manifest.reports {
        Some(record) => (
            record.state,
            record
                .partial_files
                .iter()
                .map(|f| out_dir.join(f))
                .collect(),
        ),
        None => (
            match manifest.state {
                RunState::Ok => ReportsState::Complete,
                RunState::Partial | RunState::Failed => ReportsState::Partial,
                RunState::Running | RunState::Cancelled => ReportsState::Earlier,
            },
            Vec::new(),
        ),
    };
    ReportsStatus {
        state,
        partial_files,
        last_run: Some(manifest.state.to_string()),
    }
}

/// [`status_of`] the manifest in `out_dir` (the tests' view; [`load`] reads the manifest
/// once for this and the demo check, and refuses one it cannot read).
#[cfg(test)]
fn reports_status(out_dir: &Path) -> ReportsStatus {
    let manifest = RunManifest::load(&RunLayout::new(out_dir).manifest()).expect("a manifest");
    status_of(out_dir, manifest.as_ref())
}

/// The scored frames of `read_id` in `out_dir`, in the report's order (chunk, then frame).
/// One streaming pass over `prediction_results.txt` that parses only the lines starting
/// with the ID, so a click on a read costs a file scan, not the whole report in memory.
pub fn load_read_frames(out_dir: &Path, read_id: &str) -> CommandResult<Vec<FrameRow>> {
    // Same "no results yet" error as `load` before a run has finished.
    load_reads_path(out_dir)?;
    let path = out_dir.join(RESULTS_FILE);
    // A run where no shard could be scored writes no frame report.
    if !path.exists() {
        return Ok(Vec::new());
    }
    let rows = read_results_where(
        &path,
        |line| line.starts_with(read_id),
        |row| row.read_id == read_id,
    )?;
    Ok(rows.into_iter().map(frame_row).collect())
}

#[cfg(test)]
mod tests {
    use virnucpro_core::report::{READ_SUMMARY_HEADER, RESULTS_HEADER};

    use super::*;

    fn write_run(dir: &Path) {
        std::fs::write(
            dir.join("read_summary.tsv"),
            format!(
                "{READ_SUMMARY_HEADER}r1\t2\t4\t1\t0.95\tvirus\nempty\t1\t0\t0\t\tnone\n\
                 s_x\t1\t1\t0\t0.2\tothers\ntop\t1\t1\t1\t1\tvirus\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join(RESULTS_FILE),
            format!(
                "{RESULTS_HEADER}r1_chunk_1F1\tothers\t0.9\t0.1\nr1_chunk_2R3\tvirus\t0.05\t0.95\n\
                 s_x_chunk_1F3\tothers\t0.8\t0.2\n"
            ),
        )
        .unwrap();
    }

    #[test]
    fn reads_frames_and_histogram_load() {
        let dir = tempfile::tempdir().unwrap();
        write_run(dir.path());
        let results = load(dir.path(), None).unwrap();
        assert_eq!(results.reads.len(), 4);
        assert_eq!(results.frames_scored, 4 + 1 + 1);
        assert_eq!(results.reads[0].best_virus_score, Some(0.95));
        assert_eq!(results.reads[1].best_virus_score, None);
        let calls: Vec<ReadCall> = results.reads.iter().map(|r| r.call).collect();
        assert_eq!(
            calls,
            [
                ReadCall::Virus,
                ReadCall::None,
                ReadCall::NonVirus,
                ReadCall::Virus
            ]
        );
        let h = &results.histogram;
        assert_eq!(h.edges.len(), BINS + 1);
        assert_eq!((h.edges[0], h.edges[BINS]), (0.0, 1.0));
        // 0.2 → bin 4, 0.95 and 1.0 → the last bin; the unscored read is not counted.
        assert_eq!(h.counts.iter().sum::<u64>(), 3);
        assert_eq!(h.counts[4], 1);
        assert_eq!(h.counts[BINS - 1], 2);
        assert_eq!(results.pair_summary, None, "no pairs: none");
        let pairs = dir.path().join("pair_summary.tsv");
        std::fs::write(
            &pairs,
            "pair_id\tmate1_call\tmate2_call\tbest_virus_score\tcall\n",
        )
        .unwrap();
        assert_eq!(load(dir.path(), None).unwrap().pair_summary, Some(pairs));
    }

    #[test]
    fn a_read_s_frames_load_on_their_own() {
        let dir = tempfile::tempdir().unwrap();
        write_run(dir.path());
        // `r1` is a prefix of `r10`, whose frames are not r1's.
        std::fs::write(
            dir.path().join(RESULTS_FILE),
            format!(
                "{RESULTS_HEADER}r1_chunk_1F1\tothers\t0.9\t0.1\nr10_chunk_1F2\tvirus\t0.3\t0.7\n\
                 r1_chunk_2R3\tvirus\t0.05\t0.95\ns_x_chunk_1F3\tothers\t0.8\t0.2\n"
            ),
        )
        .unwrap();
        let frames = load_read_frames(dir.path(), "r1").unwrap();
        let got: Vec<_> = frames
            .iter()
            .map(|f| {
                (
                    f.sequence_id.as_str(),
                    f.chunk,
                    f.frame.as_str(),
                    f.prediction,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("r1_chunk_1F1", 1, "F1", FrameCall::Others),
                ("r1_chunk_2R3", 2, "R3", FrameCall::Virus)
            ]
        );
        assert_eq!((frames[1].score_other, frames[1].score_virus), (0.05, 0.95));
        assert_eq!(load_read_frames(dir.path(), "s_x").unwrap().len(), 1);
        assert!(load_read_frames(dir.path(), "empty").unwrap().is_empty());
        // No frame report (no shard could be scored): no frames, not an error.
        std::fs::remove_file(dir.path().join(RESULTS_FILE)).unwrap();
        assert!(load_read_frames(dir.path(), "r1").unwrap().is_empty());
    }

    /// A `run-manifest.json` of a run in `state` with these models (DNABERT-S, ESM-2,
    /// classifier) and reports record.
    fn write_manifest(dir: &Path, state: &str, reports: serde_json::Value, models: [&Path; 3]) {
        let [dnabert, esm, classifier] =
            models.map(|path| serde_json::json!({"path": path, "model_id": "m", "files": []}));
        let json = serde_json::json!({
            "manifest_version": 1, "state": state, "started_unix": 0,
            "software": {"app": "virnucpro", "libtorch": "2", "cuda": "none"},
            "inputs": [],
            "models": {"dnabert": dnabert, "esm": esm, "classifier": classifier},
            "settings": {"length": 500, "shard_size": 10, "devices": ["cpu"], "threads": 1,
                         "precision": "fp32", "batch_tokens": 1},
            "plan": [], "stages": [], "failures": [], "error": null, "summary": null,
            "reports": reports,
        });
        std::fs::write(
            dir.join("run-manifest.json"),
            serde_json::to_vec(&json).unwrap(),
        )
        .unwrap();
    }

    /// Results made with any of the Demo preset's random models say so, whichever way the
    /// run wrote the path; a run with other models, or without a manifest, does not.
    #[test]
    fn results_of_the_demo_models_are_marked() {
        let demo = crate::demo::DemoFiles::find(None)
            .unwrap()
            .settings("/out".into());
        let dir = tempfile::tempdir().unwrap();
        write_run(dir.path());
        assert!(!load(dir.path(), Some(&demo)).unwrap().demo_models);

        let released = Path::new("/models/500_model.pth");
        write_manifest(
            dir.path(),
            "ok",
            serde_json::Value::Null,
            [&demo.dnabert, &demo.esm, released],
        );
        assert!(load(dir.path(), Some(&demo)).unwrap().demo_models);
        // Only the classifier from the demo, named through a detour: still random scores.
        let detour = demo
            .classifier
            .parent()
            .unwrap()
            .join("../models/classifier_500_tiny.pth");
        let other = Path::new("/models/DNABERT-S");
        write_manifest(
            dir.path(),
            "ok",
            serde_json::Value::Null,
            [other, other, &detour],
        );
        assert!(load(dir.path(), Some(&demo)).unwrap().demo_models);

        write_manifest(
            dir.path(),
            "ok",
            serde_json::Value::Null,
            [other, other, released],
        );
        assert!(!load(dir.path(), Some(&demo)).unwrap().demo_models);
        // An app without the demo files knows no demo models.
        write_manifest(
            dir.path(),
            "ok",
            serde_json::Value::Null,
            [&demo.dnabert, &demo.esm, &demo.classifier],
        );
        assert!(!load(dir.path(), None).unwrap().demo_models);
    }

    #[test]
    fn the_reports_status_comes_from_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        write_run(dir.path());
        // No manifest: nothing says the reports are not complete.
        assert_eq!(
            load(dir.path(), None).unwrap().reports.state,
            ReportsState::Complete
        );
        let with = |state: &str, reports: serde_json::Value| {
            let model = Path::new("/m");
            write_manifest(dir.path(), state, reports, [model, model, model]);
            reports_status(dir.path())
        };
        let kept = with(
            "partial",
            serde_json::json!({"state": "earlier", "partial_files": ["prediction_results.partial.txt"]}),
        );
        assert_eq!(kept.state, ReportsState::Earlier);
        assert_eq!(
            kept.partial_files,
            [dir.path().join("prediction_results.partial.txt")]
        );
        assert_eq!(kept.last_run.as_deref(), Some("partial"));
        // Manifests without the record: a killed run's reports are an earlier run's.
        assert_eq!(
            with("running", serde_json::Value::Null).state,
            ReportsState::Earlier
        );
        assert_eq!(
            with("failed", serde_json::Value::Null).state,
            ReportsState::Partial
        );
        assert_eq!(
            with("ok", serde_json::Value::Null).state,
            ReportsState::Complete
        );
    }

    #[test]
    fn missing_or_foreign_files_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = load(dir.path(), None).unwrap_err();
        assert_eq!(err.kind, crate::error::ErrorKind::NotFound);
        let err = load_read_frames(dir.path(), "r1").unwrap_err();
        assert_eq!(err.kind, crate::error::ErrorKind::NotFound);
        write_run(dir.path());
        std::fs::write(
            dir.path().join(RESULTS_FILE),
            format!("{RESULTS_HEADER}r1_chunk_1F1\tmaybe\t0.9\t0.1\n"),
        )
        .unwrap();
        let err = load_read_frames(dir.path(), "r1").unwrap_err();
        assert!(
            err.message.contains("prediction_results.txt: line 2"),
            "{}",
            err.message
        );
        std::fs::write(dir.path().join(RESULTS_FILE), "id\tcall\n").unwrap();
        let err = load_read_frames(dir.path(), "r1").unwrap_err();
        assert!(
            err.message
                .contains("prediction_results.txt: unexpected header"),
            "{}",
            err.message
        );
    }

    /// A run of two samples: each sample's results are its folder's, and the table across
    /// samples is read from summary.tsv as core wrote it.
    #[test]
    fn a_run_of_samples_has_each_sample_s_results_and_the_table() {
        use virnucpro_core::run_folder::samples::{write_summary, Sample};
        let out = tempfile::tempdir().unwrap();
        let err = load_samples(out.path()).unwrap_err();
        assert_eq!(err.kind, crate::error::ErrorKind::NotFound);
        let samples: Vec<Sample> = ["gut_1", "skin"]
            .iter()
            .map(|name| Sample {
                name: (*name).into(),
                inputs: vec!["r.fa".into()],
            })
            .collect();
        let gut = out.path().join("gut_1");
        std::fs::create_dir_all(&gut).unwrap();
        write_run(&gut);
        std::fs::create_dir_all(out.path().join("skin")).unwrap();
        std::fs::write(
            out.path().join("skin").join("read_summary.tsv"),
            format!("{READ_SUMMARY_HEADER}only\t1\t6\t0\t0.1\tothers\n"),
        )
        .unwrap();
        write_summary(out.path(), &samples).unwrap();

        let table = load_samples(out.path()).unwrap();
        assert_eq!(table.path, out.path().join("summary.tsv"));
        let rows: Vec<(&str, u64, u64, u64, u64)> = table
            .samples
            .iter()
            .map(|s| {
                (
                    s.sample.as_str(),
                    s.reads,
                    s.virus_reads,
                    s.others_reads,
                    s.frames,
                )
            })
            .collect();
        assert_eq!(rows, [("gut_1", 4, 2, 1, 6), ("skin", 1, 0, 1, 6)]);
        assert_eq!(table.samples[1].out_dir, out.path().join("skin"));

        let gut = load(&table.samples[0].out_dir, None).unwrap();
        assert_eq!(gut.reads.len(), 4);
        assert_eq!(gut.out_dir, out.path().join("gut_1"));
        let skin = load(&table.samples[1].out_dir, None).unwrap();
        assert_eq!(skin.reads[0].read_id, "only");

        std::fs::write(out.path().join("summary.tsv"), "sample\treads\n").unwrap();
        let err = load_samples(out.path()).unwrap_err();
        assert!(err.message.contains("summary.tsv:1:"), "{}", err.message);
    }
}
