//! The reports of two runs, row by row, matched by ID: label agreement and score
//! differences. Each report is read by its owner in `core::report`; only
//! `prediction_results_highestscore.csv`, which nothing else reads back, is read here.
use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use super::{note_id, CompareError, ComparedRun, Side};
use crate::features::checksum_file;
use crate::merge::IdExamples;
use crate::report::{
    for_each_read_summary_row, for_each_result_row, HIGHESTSCORE_FILE, HIGHESTSCORE_HEADER,
    READ_SUMMARY_FILE, RESULTS_FILE,
};
use crate::tsv::for_each_line;

/// How many disagreeing rows a comparison lists.
pub const DISAGREEMENT_EXAMPLES: usize = 10;

/// The reports a run writes, each compared when both runs have it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// `prediction_results.txt`: one row per scored frame, `Prediction`, `score1`, `score2`.
    Frames,
    /// `prediction_results_highestscore.csv`: one verdict per chunk, `Is_Virus`.
    Chunks,
    /// `read_summary.tsv`: one row per read, `call` and `best_virus_score`.
    Reads,
}

impl ReportKind {
    pub const ALL: [ReportKind; 3] = [Self::Frames, Self::Chunks, Self::Reads];

    pub fn file_name(self) -> &'static str {
        match self {
            Self::Frames => RESULTS_FILE,
            Self::Chunks => HIGHESTSCORE_FILE,
            Self::Reads => READ_SUMMARY_FILE,
        }
    }
}

/// How far apart the scores of the matched rows are.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ScoreDiff {
    /// Matched rows with a score on both sides.
    pub rows: u64,
    /// The largest |Δ| (for frames, of `score1` and `score2`; for reads, of
    /// `best_virus_score`), and the row it is in.
    pub max: f64,
    pub max_id: Option<String>,
    pub mean: f64,
}

/// A row whose label differs between the runs, with the virus score of each (`score2`,
/// or `best_virus_score`; none for chunks).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Disagreement {
    pub id: String,
    pub label_a: String,
    pub label_b: String,
    pub score_a: Option<f64>,
    pub score_b: Option<f64>,
}

/// One report of both runs, compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportComparison {
    pub report: ReportKind,
    pub file: &'static str,
    pub rows_a: u64,
    pub rows_b: u64,
    /// Rows whose ID is in both.
    pub matched: u64,
    pub only_in_a: IdExamples,
    pub only_in_b: IdExamples,
    /// Matched rows with the same label (`Prediction`, `Is_Virus`, `call`).
    pub labels_agree: u64,
    /// `labels_agree` over the rows in either run (a row only in one run does not agree);
    /// 100 when both reports are empty.
    pub agreement_percent: f64,
    /// `None` for the chunk report, which has no scores.
    pub scores: Option<ScoreDiff>,
    /// The first [`DISAGREEMENT_EXAMPLES`] rows whose labels differ, in B's order.
    pub disagreements: Vec<Disagreement>,
    /// The two files are byte for byte the same.
    pub identical: bool,
}

/// A report only one of the runs has (e.g. `read_summary.tsv`, which the original tool
/// does not write).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportSkip {
    pub report: ReportKind,
    pub file: &'static str,
    pub only_in: Side,
}

/// A report's row as compared: its ID, label, and scores (`[virus, others]`).
struct KeyedRow {
    id: String,
    label: &'static str,
    scores: [Option<f64>; 2],
}

/// Every report both runs have, compared; those only one has, listed.
pub(super) fn compare_reports(
    a: &ComparedRun,
    b: &ComparedRun,
) -> Result<(Vec<ReportComparison>, Vec<ReportSkip>), CompareError> {
    let mut compared = Vec::new();
    let mut skipped = Vec::new();
    for report in ReportKind::ALL {
        let file = report.file_name();
        let (path_a, path_b) = (a.path.join(file), b.path.join(file));
        match (path_a.is_file(), path_b.is_file()) {
            (true, true) => compared.push(compare_report(report, &path_a, &path_b)?),
            (true, false) => skipped.push(ReportSkip {
                report,
                file,
                only_in: Side::A,
            }),
            (false, true) => skipped.push(ReportSkip {
                report,
                file,
                only_in: Side::B,
            }),
            (false, false) => {}
        }
    }
    Ok((compared, skipped))
}

/// One report of the two runs: A is held (compactly), B streamed past it.
pub fn compare_report(
    report: ReportKind,
    path_a: &Path,
    path_b: &Path,
) -> Result<ReportComparison, CompareError> {
    let mut rows_a = Vec::new();
    read_rows(report, path_a, |row| rows_a.push(row))?;
    let mut matcher = Matcher::new(rows_a);
    let mut tally = Tally::default();
    read_rows(report, path_b, |row| tally.add(&mut matcher, row))?;
    let identical = same_bytes(path_a, path_b)?;
    Ok(tally.finish(report, matcher, identical))
}

fn same_bytes(a: &Path, b: &Path) -> Result<bool, CompareError> {
    let a = checksum_file(a).map_err(CompareError::io(a))?;
    let b = checksum_file(b).map_err(CompareError::io(b))?;
    Ok(a.bytes == b.bytes && a.xxh3 == b.xxh3)
}

/// Each row of the report at `path`, in file order, read by the report's own reader.
fn read_rows(
    report: ReportKind,
    path: &Path,
    mut each: impl FnMut(KeyedRow),
) -> Result<(), CompareError> {
    match report {
        ReportKind::Frames => for_each_result_row(
            path,
            |_| true,
            |row| {
                each(KeyedRow {
                    id: row.sequence_id,
                    label: row.prediction.as_str(),
                    scores: [Some(row.score2), Some(row.score1)],
                })
            },
        )?,
        ReportKind::Chunks => read_highestscore(path, each)?,
        ReportKind::Reads => for_each_read_summary_row(path, |row| {
            each(KeyedRow {
                id: row.read_id,
                label: row.call.as_str(),
                scores: [row.best_virus_score, None],
            })
        })?,
    }
    Ok(())
}

/// `prediction_results_highestscore.csv`: `Modified_ID`, `Is_Virus` (`True`/`False`).
fn read_highestscore(path: &Path, mut each: impl FnMut(KeyedRow)) -> Result<(), CompareError> {
    for_each_line(path, HIGHESTSCORE_HEADER, |line| {
        let (id, verdict) = line
            .split_once('\t')
            .ok_or_else(|| "1 field instead of 2".to_owned())?;
        let label = match verdict {
            "True" => "True",
            "False" => "False",
            other => return Err(format!("Is_Virus {other:?} is not True or False")),
        };
        each(KeyedRow {
            id: id.to_owned(),
            label,
            scores: [None, None],
        });
        Ok(())
    })?;
    Ok(())
}

/// Finds B's rows among A's: in step while both come in the same order (two runs of the
/// same reads do), through an index of A's IDs, built once, when they do not.
struct Matcher {
    rows: Vec<KeyedRow>,
    matched: Vec<bool>,
    next: usize,
    index: Option<HashMap<String, usize>>,
}

impl Matcher {
    fn new(rows: Vec<KeyedRow>) -> Self {
        let matched = vec![false; rows.len()];
        Self {
            rows,
            matched,
            next: 0,
            index: None,
        }
    }

    /// A's row with this ID, once: a second row of the same ID in B matches nothing.
    fn find(&mut self, id: &str) -> Option<&KeyedRow> {
        let at = match self.rows.get(self.next) {
            Some(row) if row.id == id && !self.matched[self.next] => self.next,
            _ => {
                let rows = &self.rows;
                let index = self.index.get_or_insert_with(|| {
                    let mut index = HashMap::with_capacity(rows.len());
                    for (i, row) in rows.iter().enumerate() {
                        index.entry(row.id.clone()).or_insert(i);
                    }
                    index
                });
                *index.get(id).filter(|&&i| !self.matched[i])?
            }
        };
        self.matched[at] = true;
        self.next = at + 1;
        Some(&self.rows[at])
    }
}

#[derive(Default)]
struct Tally {
    rows_b: u64,
    matched: u64,
    agree: u64,
    only_in_b: IdExamples,
    scored: u64,
    sum: f64,
    max: f64,
    max_id: Option<String>,
    disagreements: Vec<Disagreement>,
}

impl Tally {
    fn add(&mut self, matcher: &mut Matcher, b: KeyedRow) {
        self.rows_b += 1;
        let Some(a) = matcher.find(&b.id) else {
            note_id(&mut self.only_in_b, &b.id);
            return;
        };
        self.matched += 1;
        if a.label == b.label {
            self.agree += 1;
        } else if self.disagreements.len() < DISAGREEMENT_EXAMPLES {
            self.disagreements.push(Disagreement {
                id: b.id.clone(),
                label_a: a.label.to_owned(),
                label_b: b.label.to_owned(),
                score_a: a.scores[0],
                score_b: b.scores[0],
            });
        }
        let deltas = a
            .scores
            .iter()
            .zip(&b.scores)
            .filter_map(|pair| match pair {
                (Some(x), Some(y)) => Some((x - y).abs()),
                _ => None,
            });
        // NaN never compares greater, so fold it in by hand: a NaN score is the worst.
        let Some(delta) = deltas.reduce(|m, d| if d > m || d.is_nan() { d } else { m }) else {
            return;
        };
        self.scored += 1;
        self.sum += delta;
        let worse = match self.max_id {
            None => true,
            Some(_) => !self.max.is_nan() && (delta.is_nan() || delta > self.max),
        };
        if worse {
            self.max = delta;
            self.max_id = Some(b.id);
        }
    }

    fn finish(self, report: ReportKind, matcher: Matcher, identical: bool) -> ReportComparison {
        let mut only_in_a = IdExamples::default();
        for (row, matched) in matcher.rows.iter().zip(&matcher.matched) {
            if !matched {
                note_id(&mut only_in_a, &row.id);
            }
        }
        let union = self.matched + only_in_a.count as u64 + self.only_in_b.count as u64;
        let agreement_percent = if union == 0 {
            100.0
        } else {
            100.0 * self.agree as f64 / union as f64
        };
        let has_scores = report != ReportKind::Chunks;
        ReportComparison {
            report,
            file: report.file_name(),
            rows_a: matcher.rows.len() as u64,
            rows_b: self.rows_b,
            matched: self.matched,
            only_in_a,
            only_in_b: self.only_in_b,
            labels_agree: self.agree,
            agreement_percent,
            scores: has_scores.then(|| ScoreDiff {
                rows: self.scored,
                max: self.max,
                max_id: self.max_id,
                mean: if self.scored == 0 {
                    0.0
                } else {
                    self.sum / self.scored as f64
                },
            }),
            disagreements: self.disagreements,
            identical,
        }
    }
}
