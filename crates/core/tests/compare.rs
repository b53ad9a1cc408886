//! `compare_runs`: two runs of the same reads, report by report and feature by feature,
//! on the original tool's own output folders (../shared/fixtures) and on changed copies.
use std::path::{Path, PathBuf};

use virnucpro_core::compare::{
    compare_runs, CompareError, FolderKind, ReportKind, RunComparison, Side,
};
use virnucpro_core::features::{write_features, FeatureKind, FeatureMeta};
use virnucpro_testkit::fixture;

const RESULTS: &str = "prediction_results.txt";

/// A copy of the original tool's a500 outputs under `parent`: `input_merged/` (reports and
/// `output_1_merged.pt`), `input_nucleotide/` and `input_protein/` beside it.
fn original_copy(parent: &Path) -> PathBuf {
    let expected = fixture("e2e/a500/expected");
    for name in ["input_merged", "input_nucleotide", "input_protein"] {
        let to = parent.join(name);
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(expected.join(name)).unwrap() {
            let from = entry.unwrap().path();
            std::fs::copy(&from, to.join(from.file_name().unwrap())).unwrap();
        }
    }
    parent.join("input_merged")
}

fn two_copies() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let a = original_copy(&tmp.path().join("a"));
    let b = original_copy(&tmp.path().join("b"));
    (tmp, a, b)
}

fn report(cmp: &RunComparison, kind: ReportKind) -> &virnucpro_core::compare::ReportComparison {
    cmp.reports
        .iter()
        .find(|r| r.report == kind)
        .unwrap_or_else(|| panic!("{kind:?} not compared: {:?}", cmp.reports))
}

/// Rewrite the lines of `path` after the header with `edit`.
fn edit_rows(path: &Path, edit: impl FnOnce(&mut Vec<String>)) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let header = lines.remove(0);
    edit(&mut lines);
    lines.insert(0, header);
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn the_original_tools_folder_against_a_copy_is_the_same_everywhere() {
    let (_tmp, a, b) = two_copies();
    let cmp = compare_runs(&a, &b).unwrap();
    assert_eq!(cmp.a.kind, FolderKind::Reports);
    assert_eq!(cmp.a.precision, None);
    // The original writes no read_summary.tsv: only the two reports it writes are compared.
    assert_eq!(cmp.reports.len(), 2, "{:?}", cmp.reports);
    assert!(cmp.reports_only_in_one.is_empty());
    let frames = report(&cmp, ReportKind::Frames);
    assert_eq!(frames.rows_a, 329);
    assert_eq!(
        (frames.rows_b, frames.matched, frames.labels_agree),
        (329, 329, 329)
    );
    assert_eq!(frames.agreement_percent, 100.0);
    assert!(frames.identical && frames.disagreements.is_empty());
    assert_eq!(frames.scores.as_ref().unwrap().max, 0.0);
    let chunks = report(&cmp, ReportKind::Chunks);
    assert_eq!((chunks.rows_a, chunks.matched), (327, 327));
    assert!(chunks.identical && chunks.scores.is_none());

    let kinds: Vec<FeatureKind> = cmp.features.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [
            FeatureKind::Nucleotide,
            FeatureKind::Protein,
            FeatureKind::Merged
        ]
    );
    for f in &cmp.features {
        assert_eq!((f.shards, f.rows), (1, 329), "{f:?}");
        let stats = f.stats.as_ref().unwrap();
        assert_eq!((stats.max_abs_diff, stats.min_cosine), (0.0, 1.0), "{f:?}");
        assert_eq!(stats.mean_cosine, 1.0);
    }
    // The tiny models' widths: 96 + 64.
    assert_eq!(
        cmp.features.iter().map(|f| f.dim).collect::<Vec<_>>(),
        [96, 64, 160]
    );
    assert_eq!(cmp.lowest_agreement().unwrap().agreement_percent, 100.0);
    assert!(cmp.below(100.0).is_empty());
}

#[test]
fn a_flipped_label_is_named_with_both_scores_and_counted_against_agreement() {
    let (_tmp, a, b) = two_copies();
    let mut flipped = None;
    edit_rows(&b.join(RESULTS), |rows| {
        let at = rows.iter().position(|r| r.contains("\tvirus\t")).unwrap();
        let fields: Vec<&str> = rows[at].split('\t').collect();
        flipped = Some((fields[0].to_owned(), fields[3].parse::<f64>().unwrap()));
        rows[at] = format!("{}\tothers\t0.75\t0.25", fields[0]);
    });
    let (id, score_a) = flipped.unwrap();
    let cmp = compare_runs(&a, &b).unwrap();
    let frames = report(&cmp, ReportKind::Frames);
    assert_eq!((frames.matched, frames.labels_agree), (329, 328));
    assert_eq!(frames.agreement_percent, 100.0 * 328.0 / 329.0);
    assert!(!frames.identical);
    let d = &frames.disagreements[..];
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].id, id);
    assert_eq!(
        (d[0].label_a.as_str(), d[0].label_b.as_str()),
        ("virus", "others")
    );
    assert_eq!((d[0].score_a, d[0].score_b), (Some(score_a), Some(0.25)));
    let scores = frames.scores.as_ref().unwrap();
    assert_eq!(scores.max_id.as_deref(), Some(id.as_str()));
    assert_eq!(scores.max, (score_a - 0.25).abs());
    assert!(scores.mean > 0.0 && scores.mean < scores.max);
    // The chunk report is untouched and still agrees; the lowest agreement is the frames'.
    assert_eq!(report(&cmp, ReportKind::Chunks).agreement_percent, 100.0);
    assert_eq!(cmp.lowest_agreement().unwrap().report, ReportKind::Frames);
    assert_eq!(cmp.below(99.9).len(), 1);
    assert!(cmp.below(99.6).is_empty());
}

#[test]
fn rows_in_another_order_still_match_and_a_missing_row_is_named() {
    let (_tmp, a, b) = two_copies();
    let mut dropped = String::new();
    edit_rows(&b.join(RESULTS), |rows| {
        dropped = rows.remove(0).split('\t').next().unwrap().to_owned();
        rows.reverse();
    });
    let cmp = compare_runs(&a, &b).unwrap();
    let frames = report(&cmp, ReportKind::Frames);
    assert_eq!(
        (frames.rows_a, frames.rows_b, frames.matched),
        (329, 328, 328)
    );
    assert_eq!(frames.labels_agree, 328);
    assert_eq!(frames.only_in_a.count, 1);
    assert_eq!(frames.only_in_a.examples, [dropped]);
    assert_eq!(frames.only_in_b.count, 0);
    // A row in one run only does not agree.
    assert_eq!(frames.agreement_percent, 100.0 * 328.0 / 329.0);
    assert_eq!(frames.scores.as_ref().unwrap().max, 0.0);
}

#[test]
fn a_report_only_one_run_has_is_listed_not_compared() {
    let (_tmp, a, b) = two_copies();
    std::fs::remove_file(b.join("prediction_results_highestscore.csv")).unwrap();
    let cmp = compare_runs(&a, &b).unwrap();
    assert_eq!(cmp.reports.len(), 1);
    assert_eq!(cmp.reports_only_in_one.len(), 1);
    assert_eq!(cmp.reports_only_in_one[0].report, ReportKind::Chunks);
    assert_eq!(cmp.reports_only_in_one[0].only_in, Side::A);
}

fn meta(kind: FeatureKind, dim: usize, ids: &[&str]) -> FeatureMeta {
    FeatureMeta {
        kind,
        model: "test".into(),
        dim,
        ids: ids.iter().map(|s| s.to_string()).collect(),
        inputs: Vec::new(),
    }
}

/// A reports folder `{parent}/s_merged` with the fixture's report and our nucleotide
/// features in `{parent}/s_nucleotide/{shard}.nucleotide.safetensors`.
fn ours(parent: &Path, shard: &str, meta: &FeatureMeta, data: &[f32]) -> PathBuf {
    let merged = parent.join("s_merged");
    std::fs::create_dir_all(&merged).unwrap();
    let report = fixture("e2e/a500/expected/input_merged").join(RESULTS);
    std::fs::copy(report, merged.join(RESULTS)).unwrap();
    let features = parent.join("s_nucleotide");
    std::fs::create_dir_all(&features).unwrap();
    let path = features.join(FeatureKind::Nucleotide.file_name(shard));
    write_features(&path, meta, data).unwrap();
    merged
}

#[test]
fn feature_rows_are_matched_by_id_and_the_worst_row_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let nuc = FeatureKind::Nucleotide;
    let a = ours(
        &tmp.path().join("a"),
        "output_1",
        &meta(nuc, 3, &["r1", "r2", "r3"]),
        &[1.0, 2.0, 3.0, 0.0, 1.0, 0.0, 4.0, 4.0, 4.0],
    );
    // B: r2 turned a right angle and r3 moved by 0.5, in another order; r1 missing, r4 new.
    let b = ours(
        &tmp.path().join("b"),
        "output_1",
        &meta(nuc, 3, &["r3", "r4", "r2"]),
        &[4.0, 4.5, 4.0, 9.0, 9.0, 9.0, 1.0, 0.0, 0.0],
    );
    let cmp = compare_runs(&a, &b).unwrap();
    assert_eq!(cmp.features.len(), 1, "{:?}", cmp.features);
    let f = &cmp.features[0];
    assert_eq!((f.kind, f.shards, f.dim, f.rows), (nuc, 1, 3, 2));
    assert_eq!((f.only_in_a.count, f.only_in_b.count), (1, 1));
    assert_eq!(
        (
            f.only_in_a.examples[0].as_str(),
            f.only_in_b.examples[0].as_str()
        ),
        ("r1", "r4")
    );
    let stats = f.stats.as_ref().unwrap();
    assert_eq!(
        (stats.max_abs_diff, stats.max_abs_diff_id.as_str()),
        (1.0, "r2")
    );
    assert_eq!(
        (stats.min_cosine, stats.min_cosine_id.as_str()),
        (0.0, "r2")
    );
    let r3_cosine = 50.0 / (48f64 * 52.25).sqrt();
    assert!(
        (stats.mean_cosine - r3_cosine / 2.0).abs() < 1e-12,
        "{stats:?}"
    );
}

#[test]
fn features_of_different_kinds_or_widths_are_errors_naming_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let a = ours(
        &tmp.path().join("a"),
        "output_1",
        &meta(FeatureKind::Nucleotide, 2, &["r1"]),
        &[1.0, 2.0],
    );
    let wide = ours(
        &tmp.path().join("wide"),
        "output_1",
        &meta(FeatureKind::Nucleotide, 3, &["r1"]),
        &[1.0, 2.0, 3.0],
    );
    match compare_runs(&a, &wide) {
        Err(CompareError::WidthMismatch {
            dim_a: 2, dim_b: 3, ..
        }) => {}
        other => panic!("{other:?}"),
    }
    // Protein rows in a file named as nucleotide features.
    let wrong = ours(
        &tmp.path().join("wrong"),
        "output_1",
        &meta(FeatureKind::Protein, 2, &["r1"]),
        &[1.0, 2.0],
    );
    let err = compare_runs(&a, &wrong).unwrap_err();
    assert!(matches!(
        err,
        CompareError::WrongKind {
            found: FeatureKind::Protein,
            expected: FeatureKind::Nucleotide,
            ..
        }
    ));
    assert!(
        err.to_string().contains("output_1.nucleotide.safetensors"),
        "{err}"
    );
}

#[test]
fn the_same_shard_twice_in_one_folder_is_an_error() {
    let (_tmp, a, b) = two_copies();
    let nuc_dir = b.with_file_name("input_nucleotide");
    let meta = meta(FeatureKind::Nucleotide, 96, &["r1"]);
    write_features(
        &nuc_dir.join("output_1.nucleotide.safetensors"),
        &meta,
        &[0.0; 96],
    )
    .unwrap();
    let err = compare_runs(&a, &b).unwrap_err();
    assert!(matches!(err, CompareError::DuplicateShard { ref shard, .. } if shard == "output_1"));
    let text = err.to_string();
    assert!(
        text.contains("output_1_DNABERT_S.pt") && text.contains("output_1.nucleotide.safetensors"),
        "{text}"
    );
}

#[test]
fn folders_that_are_not_runs_are_refused_with_the_reason() {
    let (tmp, a, _b) = two_copies();
    let missing = tmp.path().join("nowhere");
    assert!(matches!(
        compare_runs(&a, &missing),
        Err(CompareError::NotFound { .. })
    ));
    let file = a.join(RESULTS);
    let err = compare_runs(&file, &a).unwrap_err();
    assert!(matches!(err, CompareError::NotAFolder { .. }), "{err}");
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = compare_runs(&a, &empty).unwrap_err();
    assert!(matches!(err, CompareError::NotARunFolder { .. }), "{err}");
    assert!(
        err.to_string().starts_with(&empty.display().to_string()),
        "{err}"
    );
    // A run of several samples: the message says to compare its sample folders.
    std::fs::write(empty.join("summary.tsv"), "sample\n").unwrap();
    let err = compare_runs(&a, &empty).unwrap_err();
    assert!(err.to_string().contains("several samples"), "{err}");
}

#[test]
fn a_report_that_does_not_parse_names_its_file_and_line() {
    let (_tmp, a, b) = two_copies();
    edit_rows(&b.join(RESULTS), |rows| {
        rows[4] = "read_1_chunk_1F1\tmaybe\t0.5\t0.5".into()
    });
    let err = compare_runs(&a, &b).unwrap_err().to_string();
    assert!(
        err.contains(&b.join(RESULTS).display().to_string()),
        "{err}"
    );
    assert!(err.contains("line 6") && err.contains("maybe"), "{err}");
}
