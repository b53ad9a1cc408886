//! Merged feature shards → classifier → both reports, one shard at a time: the classify
//! step shared by `virnucpro classify` and a whole run. Only one shard's rows are in memory.
use std::path::{Path, PathBuf};

use virnucpro_core::merged_input::{read_merged, MergedInputError};
use virnucpro_core::report::{
    Label, PredictionRow, ReadTally, ReportError, ReportSummary, ReportWriter,
};

use super::{ClassifierError, MlpClassifier};

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

/// Reports being written from scored shards, in the order the shards are added.
pub struct Scorer<'a> {
    model: &'a MlpClassifier,
    writer: ReportWriter,
    reads: Option<ReadTally>,
    pub rows: u64,
    pub virus_rows: u64,
}

impl<'a> Scorer<'a> {
    /// Start the reports in `out_dir` (which must exist); with `tally_reads`, also gather
    /// the per-read summary.
    pub fn create(
        model: &'a MlpClassifier,
        out_dir: &Path,
        tally_reads: bool,
    ) -> Result<Self, ReportError> {
        Ok(Self {
            model,
            writer: ReportWriter::create(out_dir)?,
            reads: tally_reads.then(ReadTally::new),
            rows: 0,
            virus_rows: 0,
        })
    }

    /// Score one merged shard and append its rows. A shard that cannot be read or scored
    /// adds nothing; only a failed write leaves the reports unusable (they are never put
    /// in place then).
    pub fn add_shard(&mut self, path: &Path) -> Result<ShardScores, ScoreError> {
        let table = read_merged(path)?;
        let predictions = self.model.classify(&table.rows, table.dim)?;
        let mut scores = ShardScores {
            path: path.to_path_buf(),
            rows: 0,
            virus_rows: 0,
        };
        for (id, prediction) in table.ids.into_iter().zip(predictions) {
            let row = PredictionRow {
                id,
                p_others: prediction.p_others,
                p_virus: prediction.p_virus,
            };
            self.writer.push(&row)?;
            if let Some(reads) = &mut self.reads {
                reads.add(&row);
            }
            scores.rows += 1;
            scores.virus_rows += u64::from(prediction.label == Label::Virus);
        }
        self.rows += scores.rows;
        self.virus_rows += scores.virus_rows;
        Ok(scores)
    }

    /// Put both reports in place; the read tally comes back for the summary file.
    pub fn finish(self) -> Result<(ReportSummary, Option<ReadTally>), ReportError> {
        Ok((self.writer.finish()?, self.reads))
    }
}
