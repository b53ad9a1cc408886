//! Merged feature shards → classifier → both reports, one shard at a time: the classify
//! step shared by `virnucpro classify` and a whole run. Only one shard's rows are in memory.
use std::path::{Path, PathBuf};

use virnucpro_core::merged_input::{read_merged, MergedInputError};
use virnucpro_core::report::{
    Label, PredictionRow, ReadTally, ReadTotals, ReportError, ReportSummary, ReportWriter,
    READ_SUMMARY_FILE,
};

use super::{ClassifierError, MlpClassifier, Prediction};

/// Why one shard could not be scored (nothing of it reached the reports), or the reports
/// could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    #[error(transparent)]
    Input(#[from] MergedInputError),
    #[error(transparent)]
    Model(#[from] ClassifierError),
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// One scored shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardScores {
    pub path: PathBuf,
    pub rows: u64,
    pub virus_rows: u64,
}

/// The per-read summary being gathered: the tally, prepare's chunked reads (which give the
/// reads and their order) and where the summary goes.
struct ReadSummary {
    tally: ReadTally,
    /// `None` until the caller names it (`finish_with_reads`).
    chunked: Option<PathBuf>,
    path: PathBuf,
}

/// Reports being written from scored shards, in the order the shards are added.
pub struct Scorer<'a> {
    model: &'a MlpClassifier,
    writer: ReportWriter,
    reads: ReadSummary,
    pub rows: u64,
    pub virus_rows: u64,
}

impl<'a> Scorer<'a> {
    /// Start the reports in `out_dir` (which must exist). With `chunked_reads`, prepare's
    /// `reads_chunked{L}.fa`, also write `read_summary.tsv` there: one line per read of
    /// that file, in its order.
    pub fn create(
        model: &'a MlpClassifier,
        out_dir: &Path,
        chunked_reads: Option<&Path>,
    ) -> Result<Self, ReportError> {
        Ok(Self {
            model,
            writer: ReportWriter::create(out_dir)?,
            // Always tallied (the current read in memory, finished reads spilled to
            // `out_dir`): a pipelined run knows the chunked reads only once prepare has
            // finished, after the first shards are scored.
            reads: ReadSummary {
                tally: ReadTally::new(out_dir),
                chunked: chunked_reads.map(Path::to_path_buf),
                path: out_dir.join(READ_SUMMARY_FILE),
            },
            rows: 0,
            virus_rows: 0,
        })
    }

    /// Score one merged shard and append its rows. A shard that cannot be read or scored
    /// adds nothing; only a failed write leaves the reports unusable (they are never put
    /// in place then).
    pub fn add_shard(&mut self, path: &Path) -> Result<ShardScores, ScoreError> {
        let table = read_merged(path)?;
        let (scores, _) = self.add_rows(table.ids, &table.rows, table.dim)?;
        Ok(ShardScores {
            path: path.to_path_buf(),
            ..scores
        })
    }

    /// Score rows held in memory (`ids.len()` rows of `dim` values) and append them; the
    /// scores come back with the counts, for the shard's scores file.
    pub fn add_rows(
        &mut self,
        ids: Vec<String>,
        rows: &[f32],
        dim: usize,
    ) -> Result<(ShardScores, Vec<(f32, f32)>), ScoreError> {
        let predictions = self.model.classify(rows, dim)?;
        let scores: Vec<(f32, f32)> = predictions
            .iter()
            .map(|p| (p.p_others, p.p_virus))
            .collect();
        let counts = self.add_scores(ids, &scores)?;
        Ok((counts, scores))
    }

    /// Append rows scored earlier (a shard's scores file), exactly as they were scored.
    pub fn add_scores(
        &mut self,
        ids: Vec<String>,
        scores: &[(f32, f32)],
    ) -> Result<ShardScores, ScoreError> {
        let mut counts = ShardScores {
            path: PathBuf::new(),
            rows: 0,
            virus_rows: 0,
        };
        for (id, &(p_others, p_virus)) in ids.into_iter().zip(scores) {
            let prediction = Prediction::new(p_others, p_virus);
            let row = PredictionRow {
                id,
                p_others,
                p_virus,
            };
            self.writer.push(&row)?;
            self.reads.tally.add(&row)?;
            counts.rows += 1;
            counts.virus_rows += u64::from(prediction.label == Label::Virus);
        }
        self.rows += counts.rows;
        self.virus_rows += counts.virus_rows;
        Ok(counts)
    }

    /// Put both reports in place, then the per-read summary when one was asked for (its
    /// totals come back).
    pub fn finish(self) -> Result<(ReportSummary, Option<ReadTotals>), ReportError> {
        let summary = self.writer.finish()?;
        let reads = self.reads;
        let totals = match reads.chunked {
            Some(chunked) => Some(reads.tally.write(&chunked, &reads.path)?),
            None => None,
        };
        Ok((summary, totals))
    }

    /// `finish`, with the per-read summary made from `chunked_reads` (prepare's
    /// `reads_chunked{L}.fa`), for a caller that learns that file only after scoring began.
    pub fn finish_with_reads(
        mut self,
        chunked_reads: &Path,
    ) -> Result<(ReportSummary, ReadTotals), ReportError> {
        self.reads.chunked = Some(chunked_reads.to_path_buf());
        let (summary, totals) = self.finish()?;
        Ok((summary, totals.unwrap_or_default()))
    }
}
