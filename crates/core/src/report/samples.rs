//! The summary across samples (`virnucpro summarize`): one line per sample, the totals of
//! its `read_summary.tsv`.
//!
//! Columns: `sample  reads  virus_reads  others_reads  unscored_reads  chunks  virus_chunks
//! frames`, where the read counts follow the `call` column of the read summary (`virus`,
//! `others`, `none`) and `chunks`, `virus_chunks`, `frames` are its column sums.
use std::path::{Path, PathBuf};

use super::error::{ReadSummaryError, ReportError};
use super::read_summary::{for_each_read_summary_row, ReadCall};
use super::reads::ReadTotals;

pub const SAMPLES_HEADER: &str =
    "sample\treads\tvirus_reads\tothers_reads\tunscored_reads\tchunks\tvirus_chunks\tframes\n";

/// The totals of one `read_summary.tsv`, checked line by line.
pub fn read_summary_totals(path: &Path) -> Result<ReadTotals, ReadSummaryError> {
    let mut totals = ReadTotals::default();
    for_each_read_summary_row(path, |row| {
        totals.reads += 1;
        totals.chunks += row.chunks;
        totals.frames += row.frames;
        totals.virus_chunks += row.virus_chunks;
        match row.call {
            ReadCall::Virus => totals.virus_reads += 1,
            ReadCall::None => totals.unscored_reads += 1,
            ReadCall::Others => {}
        }
    })?;
    Ok(totals)
}

/// One sample of the summary.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SampleTotals {
    pub sample: String,
    pub read_summary: PathBuf,
    pub reads: u64,
    pub virus_reads: u64,
    pub others_reads: u64,
    pub unscored_reads: u64,
    pub chunks: u64,
    pub virus_chunks: u64,
    pub frames: u64,
}

impl SampleTotals {
    pub fn new(sample: String, read_summary: PathBuf, totals: &ReadTotals) -> Self {
        Self {
            sample,
            read_summary,
            reads: totals.reads,
            virus_reads: totals.virus_reads,
            others_reads: totals.reads - totals.virus_reads - totals.unscored_reads,
            unscored_reads: totals.unscored_reads,
            chunks: totals.chunks,
            virus_chunks: totals.virus_chunks,
            frames: totals.frames,
        }
    }
}

/// The summary's text: the header, then one line per sample in the order given.
pub fn render_samples(samples: &[SampleTotals]) -> Result<String, ReportError> {
    let mut text = String::from(SAMPLES_HEADER);
    for s in samples {
        if s.sample.contains(['\t', '\n', '\r']) {
            return Err(ReportError::BadId {
                id: s.sample.clone(),
            });
        }
        let counts = [
            s.reads,
            s.virus_reads,
            s.others_reads,
            s.unscored_reads,
            s.chunks,
            s.virus_chunks,
            s.frames,
        ];
        text.push_str(&s.sample);
        for count in counts {
            text.push('\t');
            text.push_str(&count.to_string());
        }
        text.push('\n');
    }
    Ok(text)
}

/// Read a summary across samples back (the desktop's table across samples), checked line
/// by line: the header, eight columns, whole counts. Each sample's `read_summary` is
/// `folder/NAME/read_summary.tsv`, `folder` being the summary's folder (a run's layout).
pub fn read_samples(path: &Path) -> Result<Vec<SampleTotals>, ReadSummaryError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReadSummaryError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let folder = path.parent().unwrap_or(Path::new(""));
    let bad = |line: usize, message: String| ReadSummaryError::Format {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut lines = text.lines();
    if lines.next() != Some(SAMPLES_HEADER.trim_end()) {
        return Err(bad(1, "not a summary across samples (wrong header)".into()));
    }
    let mut samples = Vec::new();
    for (i, line) in lines.enumerate() {
        let number = i + 2;
        let fields: Vec<&str> = line.split('\t').collect();
        let (sample, counts) = match fields.split_first() {
            Some((sample, counts)) if counts.len() == 7 && !sample.is_empty() => (sample, counts),
            _ => return Err(bad(number, format!("{} columns, not 8", fields.len()))),
        };
        let mut values = [0u64; 7];
        for (value, (text, name)) in values.iter_mut().zip(
            counts
                .iter()
                .zip(SAMPLES_HEADER.trim_end().split('\t').skip(1)),
        ) {
            *value = text
                .parse()
                .map_err(|_| bad(number, format!("{name} {text:?} is not a count")))?;
        }
        let [reads, virus_reads, others_reads, unscored_reads, chunks, virus_chunks, frames] =
            values;
        samples.push(SampleTotals {
            sample: (*sample).to_owned(),
            read_summary: folder.join(sample).join(super::READ_SUMMARY_FILE),
            reads,
            virus_reads,
            others_reads,
            unscored_reads,
            chunks,
            virus_chunks,
            frames,
        });
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::super::reads::READ_SUMMARY_HEADER;
    use super::*;

    fn summary(body: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("read_summary.tsv");
        std::fs::write(&path, format!("{READ_SUMMARY_HEADER}{body}")).unwrap();
        (dir, path)
    }

    #[test]
    fn totals_follow_the_calls_and_columns() {
        let (_dir, path) =
            summary("r\t2\t4\t1\t0.95\tvirus\nempty\t1\t0\t0\t\tnone\ns_x\t1\t1\t0\t0.2\tothers\n");
        let totals = read_summary_totals(&path).unwrap();
        let sample = SampleTotals::new("s1".into(), path.clone(), &totals);
        assert_eq!(
            (
                sample.reads,
                sample.virus_reads,
                sample.others_reads,
                sample.unscored_reads
            ),
            (3, 1, 1, 1)
        );
        assert_eq!(
            (sample.chunks, sample.virus_chunks, sample.frames),
            (4, 1, 5)
        );
        assert_eq!(
            render_samples(&[sample]).unwrap(),
            format!("{SAMPLES_HEADER}s1\t3\t1\t1\t1\t4\t1\t5\n")
        );
    }

    #[test]
    fn a_file_that_is_not_a_read_summary_is_named_with_its_line() {
        let (_dir, path) = summary("r\t2\t4\t1\t0.95\tmaybe\n");
        let err = read_summary_totals(&path).unwrap_err().to_string();
        assert!(err.contains(":2:") && err.contains("maybe"), "{err}");
        let (_dir, path) = summary("r\t2\tfour\t1\t0.95\tvirus\n");
        let err = read_summary_totals(&path).unwrap_err().to_string();
        assert!(err.contains("frames \"four\""), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.tsv");
        std::fs::write(&path, "a\tb\n").unwrap();
        let err = read_summary_totals(&path).unwrap_err().to_string();
        assert!(
            err.contains(":1:") && err.contains("not a read summary"),
            "{err}"
        );
        let err = read_summary_totals(&dir.path().join("missing.tsv")).unwrap_err();
        assert!(matches!(err, ReadSummaryError::Io { .. }));
    }

    #[test]
    fn a_summary_across_samples_reads_back_as_written() {
        let (dir, path) = summary("r\t2\t4\t1\t0.95\tvirus\nq\t1\t6\t0\t0.1\tothers\n");
        let totals = read_summary_totals(&path).unwrap();
        let rows = [
            SampleTotals::new(
                "gut_1".into(),
                dir.path().join("gut_1").join("read_summary.tsv"),
                &totals,
            ),
            SampleTotals::new(
                "b.2".into(),
                dir.path().join("b.2").join("read_summary.tsv"),
                &totals,
            ),
        ];
        let table = dir.path().join("summary.tsv");
        std::fs::write(&table, render_samples(&rows).unwrap()).unwrap();
        assert_eq!(read_samples(&table).unwrap(), rows);
        std::fs::write(&table, SAMPLES_HEADER).unwrap();
        assert_eq!(read_samples(&table).unwrap(), []);
    }

    #[test]
    fn a_damaged_summary_across_samples_is_named_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let table = dir.path().join("summary.tsv");
        let err = |text: &str| {
            std::fs::write(&table, text).unwrap();
            read_samples(&table).unwrap_err().to_string()
        };
        let e = err("read_id\tchunks\n");
        assert!(
            e.contains(":1:") && e.contains("not a summary across samples"),
            "{e}"
        );
        let e = err(&format!("{SAMPLES_HEADER}s1\t3\t1\n"));
        assert!(e.contains(":2:") && e.contains("3 columns"), "{e}");
        let e = err(&format!(
            "{SAMPLES_HEADER}s1\t3\t1\t1\t1\t4\t1\t5\ns2\t3\t1\t1\t-1\t4\t1\t5\n"
        ));
        assert!(
            e.contains(":3:") && e.contains("unscored_reads \"-1\""),
            "{e}"
        );
        std::fs::remove_file(&table).unwrap();
        assert!(matches!(
            read_samples(&table),
            Err(ReadSummaryError::Io { .. })
        ));
    }
}
