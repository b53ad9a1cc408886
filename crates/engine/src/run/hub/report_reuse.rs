//! Which reports a run ends with. While an earlier run's reports are candidates for reuse,
//! each shard is checked against the scores file they were made from instead of being
//! classified; they are kept if every shard's earlier scores are current and match, and
//! the shards are classified (or their scores replayed) as soon as one does not. New
//! reports are published and stamped, for a later resume.
use virnucpro_core::events::Stage;
use virnucpro_core::features::{checksum_file, FeatureKind};
use virnucpro_core::report::{HIGHESTSCORE_FILE, RESULTS_FILE};

use super::super::classify_stage::{ClassifyCmd, ClassifyOutput, SaveScores, ShardRows};
use super::super::publish;
use super::super::RunError;
use super::shard::Step;
use super::Hub;
use virnucpro_core::run_folder::manifest::{ReportsRecord, ReportsState};
use virnucpro_core::run_folder::reports_stamp::{self, ReportsStamp};

/// Earlier reports and what this run's would be stamped with.
pub(super) struct ReportReuse<'a> {
    /// Earlier reports, still candidates for reuse while every merged shard matches.
    candidate: Option<ReportsStamp>,
    /// The earlier reports were kept as this run's.
    kept: bool,
    classifier_id: &'a str,
    classify_device: String,
    length: usize,
}

impl<'a> ReportReuse<'a> {
    pub fn new(
        candidate: Option<ReportsStamp>,
        classifier_id: &'a str,
        classify_device: tch::Device,
        length: usize,
    ) -> Self {
        Self {
            candidate,
            kept: false,
            classifier_id,
            classify_device: crate::embed::device_label(classify_device),
            length,
        }
    }
}

impl Hub<'_, '_, '_> {
    /// Hand the merged shards to classify in shard order, or, while earlier reports are
    /// candidates for reuse, check each against them instead.
    pub(super) fn advance_classify(&mut self) {
        while let Some(shard) = self.shards.get(self.next_classify) {
            if !shard.merge_settled() {
                return;
            }
            let index = self.next_classify;
            if self.reuse.candidate.is_some() && !self.same_as_reported(index) {
                self.drop_reports(index);
            }
            if self.reuse.candidate.is_none() && self.shards[index].merge == Step::Ok {
                self.send_classify(index);
            }
            self.next_classify += 1;
        }
        let all_handed = self.prepare_done && self.next_classify == self.shards.len();
        if !all_handed || self.outlets.classify.is_none() {
            return;
        }
        let kept = match &self.reuse.candidate {
            Some(stamp) => stamp.scored.len() == self.shards.len(),
            None => false,
        };
        if self.reuse.candidate.is_some() && !kept {
            self.drop_reports(self.shards.len());
        }
        if self.cancel.is_cancelled() {
            // Not `Finish`: a cancelled run puts no reports in place.
            return self.stop(None);
        }
        if kept {
            self.keep_reports();
        } else if let (Some(tx), Some(prepared)) = (&self.outlets.classify, &self.prepared) {
            self.book.start(Stage::Classify, self.events);
            let _ = tx.send(ClassifyCmd::Finish {
                chunked: self.layout.prepared().join(&prepared.record.chunked),
            });
        }
        self.outlets.classify = None;
    }

    /// Whether shard `index`'s current scores are exactly those the earlier reports hold.
    fn same_as_reported(&self, index: usize) -> bool {
        let Some(stamp) = &self.reuse.candidate else {
            return false;
        };
        let shard = &self.shards[index];
        if !shard.scores_reused {
            return false;
        }
        let path = self.layout.feature_file(&shard.name(), FeatureKind::Scores);
        match (stamp.scored.get(index), checksum_file(&path)) {
            (Some(expected), Ok(actual)) => *expected == actual,
            _ => false,
        }
    }

    /// The earlier reports cannot be kept as this run's: classify the shards checked so
    /// far (before `upto`). The earlier reports stay in the folder until this run's are
    /// ready to replace them (`publish`).
    fn drop_reports(&mut self, upto: usize) {
        self.reuse.candidate = None;
        tracing::info!("the shards changed: classifying again");
        for index in 0..upto {
            if self.shards[index].merge == Step::Ok {
                self.send_classify(index);
            }
        }
    }

    fn send_classify(&mut self, index: usize) {
        let Some(tx) = &self.outlets.classify else {
            return;
        };
        let shard = &mut self.shards[index];
        let name = shard.name();
        let scores_path = self.layout.feature_file(&name, FeatureKind::Scores);
        let rows = if shard.scores_reused {
            ShardRows::Scored(scores_path.clone())
        } else if let Some(table) = shard.tables.merged.take() {
            ShardRows::Table(table)
        } else {
            ShardRows::Merged(self.layout.feature_file(&name, FeatureKind::Merged))
        };
        let save = match (&rows, &shard.inputs) {
            (ShardRows::Scored(_), _) | (_, None) => None,
            (_, Some(inputs)) => Some(SaveScores {
                path: scores_path,
                model: self.scores.model.clone(),
                inputs: inputs.clone(),
            }),
        };
        let cmd = ClassifyCmd::Shard { index, rows, save };
        if tx.send(cmd).is_ok() {
            self.book.start(Stage::Classify, self.events);
        }
    }

    fn keep_reports(&mut self) {
        let stage = Stage::Classify;
        self.book.start(stage, self.events);
        let Some(stamp) = &self.reuse.candidate else {
            return;
        };
        let frames = stamp.frames_scored;
        for shard in self.shards.iter_mut() {
            shard.classify = Step::Ok;
        }
        self.book.counts(stage).reused = self.shards.len() as u64;
        self.book.advance(stage, frames, self.events, true);
        tracing::info!(
            "reports kept: {} and {} were made from the same shard scores, classifier and settings",
            RESULTS_FILE,
            HIGHESTSCORE_FILE
        );
        self.reuse.kept = true;
        self.book.complete(stage, self.events);
    }

    /// Frames scored, virus chunks and virus reads of the reports the run ends with.
    pub(super) fn report_figures(&self) -> (u64, u64, u64) {
        match (&self.classify_output, &self.reuse.candidate) {
            (Some(out), _) => (out.rows, out.totals.virus_chunks, out.totals.virus_reads),
            (None, Some(stamp)) if self.reuse.kept => {
                (stamp.frames_scored, stamp.virus_chunks, stamp.virus_reads)
            }
            _ => (0, 0, 0),
        }
    }

    /// Put this run's reports where they belong (`publish`) and stamp the usual ones
    /// when they are this run's.
    pub(super) fn place_reports(&self) -> Result<ReportsRecord, RunError> {
        let io_error = |source| RunError::Io {
            path: self.layout.root.clone(),
            source,
        };
        if self.reuse.kept {
            // Verified to be what this run would write: current, and complete.
            publish::remove_partial_reports(self.layout).map_err(io_error)?;
            publish::remove_staging(self.layout);
            return Ok(ReportsRecord {
                state: ReportsState::Complete,
                partial_files: Vec::new(),
            });
        }
        let Some(output) = &self.classify_output else {
            publish::remove_staging(self.layout);
            return Ok(publish::untouched(self.layout));
        };
        let complete = self.events.failures.is_empty();
        let record = publish::publish(self.layout, complete).map_err(io_error)?;
        if record.state != ReportsState::Earlier {
            self.stamp_reports(output)?;
        }
        Ok(record)
    }

    /// Record what the new reports were made from, for a later resume.
    fn stamp_reports(&self, output: &ClassifyOutput) -> Result<(), RunError> {
        let Some(prepared) = &self.prepared else {
            return Ok(());
        };
        let chunked_path = self.layout.prepared().join(&prepared.record.chunked);
        let scored: Option<Vec<_>> = output.scored.iter().cloned().collect();
        let (Some(scored), Ok(chunked), Ok(outputs)) = (
            scored,
            checksum_file(&chunked_path),
            reports_stamp::output_checksums(self.layout),
        ) else {
            tracing::warn!("the reports cannot be stamped for reuse; a resume classifies again");
            return Ok(());
        };
        let stamp = ReportsStamp {
            classifier: self.reuse.classifier_id.to_owned(),
            device: self.reuse.classify_device.clone(),
            length: self.reuse.length,
            chunked,
            scored,
            outputs,
            frames_scored: output.rows,
            virus_chunks: output.totals.virus_chunks,
            virus_reads: output.totals.virus_reads,
        };
        let path = self.layout.reports_stamp();
        reports_stamp::write(self.layout, &stamp).map_err(super::super::io_error(&path))
    }
}
