//! `compare_runs` as the shell answers it: the original tool's reports of the a500 fixture
//! against a copy with one label flipped, and folders that are not runs.
use std::path::Path;

use virnucpro_core::compare::{FolderKind, ReportKind};
use virnucpro_desktop::compare::compare;
use virnucpro_desktop::error::ErrorKind;

const RESULTS: &str = "prediction_results.txt";
const CHUNKS: &str = "prediction_results_highestscore.csv";

fn original() -> std::path::PathBuf {
    virnucpro_testkit::fixture("e2e/a500/expected/input_merged")
}

/// A copy of the original's two reports in `dir/input_merged`, the frame `flip` turned
/// from `virus` to `others` (its scores kept).
fn copy_with_flip(dir: &Path, flip: &str) -> std::path::PathBuf {
    let copy = dir.join("input_merged");
    std::fs::create_dir_all(&copy).unwrap();
    std::fs::copy(original().join(CHUNKS), copy.join(CHUNKS)).unwrap();
    let text = std::fs::read_to_string(original().join(RESULTS)).unwrap();
    let mut flipped = 0;
    let lines: Vec<String> = text
        .lines()
        .map(
            |line| match line.strip_prefix(&format!("{flip}\tvirus\t")) {
                Some(scores) => {
                    flipped += 1;
                    format!("{flip}\tothers\t{scores}")
                }
                None => line.to_owned(),
            },
        )
        .collect();
    assert_eq!(flipped, 1, "{flip} is a virus frame of the fixture");
    std::fs::write(copy.join(RESULTS), lines.join("\n") + "\n").unwrap();
    copy
}

#[test]
fn a_flipped_label_is_one_disagreement_of_the_frames_only() {
    let dir = tempfile::tempdir().unwrap();
    let flip = "read_11_2_chunk_1R1";
    let copy = copy_with_flip(dir.path(), flip);
    let cmp = compare(&original(), &copy).unwrap();
    assert_eq!(cmp.comparison.a.kind, FolderKind::Reports);
    assert!(cmp.warnings.is_empty(), "{:?}", cmp.warnings);
    let reports: Vec<ReportKind> = cmp.comparison.reports.iter().map(|r| r.report).collect();
    assert_eq!(reports, [ReportKind::Frames, ReportKind::Chunks]);

    let frames = &cmp.comparison.reports[0];
    assert_eq!(
        (frames.rows_a, frames.rows_b, frames.matched),
        (329, 329, 329)
    );
    assert_eq!(frames.labels_agree, 328);
    assert!((frames.agreement_percent - 100.0 * 328.0 / 329.0).abs() < 1e-9);
    assert!(!frames.identical);
    assert_eq!(frames.scores.as_ref().map(|s| s.max), Some(0.0));
    assert_eq!(frames.disagreements.len(), 1);
    let d = &frames.disagreements[0];
    assert_eq!((d.id.as_str(), d.label_a.as_str()), (flip, "virus"));
    assert_eq!(d.label_b, "others");
    assert_eq!(d.score_a, d.score_b);

    let chunks = &cmp.comparison.reports[1];
    assert_eq!((chunks.rows_a, chunks.labels_agree), (327, 327));
    assert_eq!(chunks.agreement_percent, 100.0);
    assert!(chunks.identical);
    assert_eq!(
        cmp.comparison.lowest_agreement().map(|r| r.report),
        Some(ReportKind::Frames)
    );
}

#[test]
fn a_run_compared_with_itself_agrees_fully() {
    let cmp = compare(&original(), &original()).unwrap();
    assert!(!cmp.comparison.reports.is_empty());
    for report in &cmp.comparison.reports {
        assert_eq!(report.agreement_percent, 100.0, "{}", report.file);
        assert!(report.identical && report.disagreements.is_empty());
    }
    let json = serde_json::to_value(&cmp).unwrap();
    assert_eq!(json["a"]["kind"], "reports", "flattened: {json}");
    assert_eq!(json["warnings"], serde_json::json!([]));
}

#[test]
fn a_missing_folder_is_not_found_and_a_folder_without_reports_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("gone");
    let err = compare(&original(), &missing).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert!(err.message.contains("gone"), "{}", err.message);
    let err = compare(dir.path(), &original()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert!(err.message.contains("not a run folder"), "{}", err.message);
}
