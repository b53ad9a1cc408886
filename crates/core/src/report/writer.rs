//! Writing both report files atomically (complete or absent).
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::consensus::{Consensus, GROUP_LIMIT};
use super::error::ReportError;
use super::{numpy_f32, PredictionRow};
use crate::atomic::AtomicFile;

pub const RESULTS_FILE: &str = "prediction_results.txt";
pub const HIGHESTSCORE_FILE: &str = "prediction_results_highestscore.csv";
pub const RESULTS_HEADER: &str = "Sequence_ID\tPrediction\tscore1\tscore2\n";
pub const HIGHESTSCORE_HEADER: &str = "Modified_ID\tIs_Virus\n";

fn check_id(id: &str) -> Result<(), ReportError> {
    if id.contains(['\t', '\n', '\r']) {
        return Err(ReportError::BadId { id: id.to_owned() });
    }
    Ok(())
}

fn push_row(line: &mut String, row: &PredictionRow) {
    line.push_str(&row.id);
    line.push('\t');
    line.push_str(row.label().as_str());
    line.push('\t');
    numpy_f32::write(line, row.p_others);
    line.push('\t');
    numpy_f32::write(line, row.p_virus);
    line.push('\n');
}

/// Write `prediction_results_highestscore.csv` (tab-separated) to `out`, the file at
/// `path` (named in errors), and return its rows (header excluded).
pub fn write_highestscore<W: Write>(
    out: &mut W,
    path: &Path,
    consensus: Consensus,
) -> Result<u64, ReportError> {
    out.write_all(HIGHESTSCORE_HEADER.as_bytes())
        .map_err(io_at(path))?;
    let mut groups = 0;
    for verdict in consensus.into_verdicts()? {
        let (id, is_virus) = verdict?;
        out.write_all(id.as_bytes()).map_err(io_at(path))?;
        out.write_all(if is_virus { b"\tTrue\n" } else { b"\tFalse\n" })
            .map_err(io_at(path))?;
        groups += 1;
    }
    Ok(groups)
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Both reports in folder `dir`, fed one prediction at a time (in output order). Nothing
/// appears in `dir` until [`ReportWriter::finish`]; dropping the writer leaves no files.
pub struct ReportWriter {
    results: AtomicFile,
    highestscore_path: PathBuf,
    consensus: Consensus,
    line: String,
    rows: u64,
}

/// What [`ReportWriter::finish`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSummary {
    pub results: PathBuf,
    pub highestscore: PathBuf,
    /// Rows of `prediction_results.txt` (header excluded).
    pub rows: u64,
    /// Rows of `prediction_results_highestscore.csv` (header excluded).
    pub groups: u64,
}

impl ReportWriter {
    /// Start both files in `dir`, which must exist; the per-chunk maxima spill there
    /// beyond [`GROUP_LIMIT`] chunks (unnamed temporary files, gone when dropped).
    pub fn create(dir: &Path) -> Result<Self, ReportError> {
        Self::with_group_limit(dir, GROUP_LIMIT)
    }

    /// [`ReportWriter::create`] holding at most `group_limit` chunk groups in memory.
    pub fn with_group_limit(dir: &Path, group_limit: usize) -> Result<Self, ReportError> {
        let path = dir.join(RESULTS_FILE);
        let mut results = AtomicFile::create(&path).map_err(io_at(&path))?;
        results
            .write_all(RESULTS_HEADER.as_bytes())
            .map_err(io_at(&path))?;
        Ok(Self {
            results,
            highestscore_path: dir.join(HIGHESTSCORE_FILE),
            consensus: Consensus::with_group_limit(dir, group_limit),
            line: String::with_capacity(128),
            rows: 0,
        })
    }

    /// Append one prediction.
    pub fn push(&mut self, row: &PredictionRow) -> Result<(), ReportError> {
        check_id(&row.id)?;
        self.line.clear();
        push_row(&mut self.line, row);
        self.results
            .write_all(self.line.as_bytes())
            .map_err(|source| ReportError::Io {
                path: self.results.target().to_path_buf(),
                source,
            })?;
        self.consensus.add(row)?;
        self.rows += 1;
        Ok(())
    }

    /// Write the per-chunk verdicts and put both files in place (results first).
    pub fn finish(self) -> Result<ReportSummary, ReportError> {
        let results = self.results.target().to_path_buf();
        self.results.commit().map_err(io_at(&results))?;
        let path = self.highestscore_path;
        let mut file = AtomicFile::create(&path).map_err(io_at(&path))?;
        let groups = write_highestscore(&mut file, &path, self.consensus)?;
        file.commit().map_err(io_at(&path))?;
        Ok(ReportSummary {
            results,
            highestscore: path,
            rows: self.rows,
            groups,
        })
    }
}

/// Write both reports for `rows` into folder `dir`.
pub fn write_reports<'a>(
    dir: &Path,
    rows: impl IntoIterator<Item = &'a PredictionRow>,
) -> Result<ReportSummary, ReportError> {
    let mut writer = ReportWriter::create(dir)?;
    for row in rows {
        writer.push(row)?;
    }
    writer.finish()
}
