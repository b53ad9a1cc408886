//! The hub's stage bookkeeping: each message of a stage thread becomes a step of its shard
//! (`shard`), counts and progress of its stage (`StageBook`) and the run's events, and
//! shards that are ready go on to the next stage.
use std::path::PathBuf;
use std::sync::Arc;

use virnucpro_core::events::{FailureKind as RunFailureKind, Stage};
use virnucpro_core::features::{checksum_file, FeatureKind, FeatureTable, InputChecksum};
use virnucpro_core::merge::{FailureKind as MergeFailure, PairOutcome, PairReport, PairSpec};

use super::super::classify_stage::ClassifyMsg;
use super::super::cleanup::remove_stale_shards;
use super::super::prepared::{Prepared, ShardInfo};
use super::super::RunError;
use super::shard::Step;
use super::threads::{MergeWork, Msg};
use super::window::ShardPaths;
use super::Hub;
use crate::classifier::ScoreError;
use crate::embed::{
    Delivery, EmbedEvent, EmbedReport, FailureKind, FileFailure, FileJob, FileOutcome, FileStatus,
};
use virnucpro_core::run_folder::scores;

impl Hub<'_, '_, '_> {
    pub(super) fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::PrepareProgress(reads) => {
                let stage = Stage::Prepare;
                let done = reads.saturating_sub(self.book.done(stage));
                self.book.advance(stage, done, self.events, false);
            }
            Msg::ShardReady {
                record,
                staged_root,
            } => {
                let prepared = self.layout.prepared();
                let paths = [&record.nucleotide, &record.protein]
                    .map(|p| (staged_root.join(p), Some(prepared.join(p))));
                self.add_shard(record, paths);
            }
            Msg::PrepareDone(Ok(Some(prepared))) => self.prepare_finished(prepared),
            Msg::PrepareDone(Ok(None)) => self.stop(None),
            Msg::PrepareDone(Err(e)) => self.stop(Some(e)),
            Msg::Embed(event) => self.embed_event(event),
            Msg::EmbedDone(Ok(report)) => self.embedding_ended(&report),
            Msg::EmbedDone(Err(e)) => self.stop(Some(e.into())),
            Msg::Merged {
                shard,
                report,
                table,
            } => self.merged(shard, report, table),
            Msg::Classify(ClassifyMsg::Scored { index, result }) => self.scored(index, result),
            Msg::Classify(ClassifyMsg::Done(Ok(output))) => {
                if let Some(output) = output {
                    self.classify_output = Some(output);
                    self.book.complete(Stage::Classify, self.events);
                }
            }
            Msg::Classify(ClassifyMsg::Done(Err(e))) => self.stop(Some(e)),
            Msg::Panicked(stage) => self.stop(Some(RunError::Worker(format!(
                "the {stage} thread panicked"
            )))),
        }
    }

    /// The embedding engine ended: before every shard was embedded, only if the run stops.
    fn embedding_ended(&mut self, report: &EmbedReport) {
        if !self.stopping && self.shards.embedding_unfinished() {
            let message = "the embedding engine ended before every shard was embedded";
            self.stop(Some(RunError::Worker(message.into())));
        }
        self.devices.worked(&report.devices);
        for d in &report.devices {
            tracing::info!(
                device = d.device,
                sequences = d.sequences,
                forward_seconds = d.seconds,
                wait_seconds = d.wait_seconds,
                "embedding worker finished"
            );
        }
    }

    /// A reused prepare: every shard is ready at once.
    pub(super) fn prepared_all(&mut self, prepared: Prepared) {
        self.book.start(Stage::Prepare, self.events);
        self.prepare_reused = true;
        // Its reads are all there: the stage says so ("12,000 / 12,000 reads"), not "0 reads".
        let reads = prepared.record.reads;
        self.book.set_total(Stage::Prepare, reads);
        self.book.advance(Stage::Prepare, reads, self.events, true);
        let prepared_dir = self.layout.prepared();
        for record in prepared.record.shards.clone() {
            let paths = [&record.nucleotide, &record.protein].map(|p| (prepared_dir.join(p), None));
            self.add_shard(record, paths);
        }
        self.prepare_finished(prepared);
    }

    /// A new shard (`paths`: each side's input, and where prepare will have moved it):
    /// its earlier scores are reused when they are current, else its two embedding jobs go
    /// to the engine.
    fn add_shard(&mut self, record: ShardInfo, paths: ShardPaths) {
        let index = self.shards.push(record);
        self.shards[index].inputs = shard_inputs(&paths);
        // Kept features are checked first, by the embedding and the merge (see `merged`).
        if !self.scores.keep_features && self.scores_current(index) {
            return self.reuse_scores(index);
        }
        self.hold_jobs(index, paths);
    }

    /// Hand shard `index`'s two embedding jobs to the engine (when the window has room).
    pub(super) fn send_jobs(&mut self, index: usize, paths: ShardPaths) {
        let name = self.shards[index].name();
        let Some(job_tx) = &self.outlets.jobs else {
            return;
        };
        let delivery = if self.scores.keep_features {
            Delivery::File
        } else {
            Delivery::Memory
        };
        for ((stage, kind), (input, moved_to)) in [
            (Stage::EmbedDna, FeatureKind::Nucleotide),
            (Stage::EmbedProtein, FeatureKind::Protein),
        ]
        .into_iter()
        .zip(paths)
        {
            let job = FileJob {
                model: usize::from(stage == Stage::EmbedProtein),
                input,
                moved_to,
                output: self.layout.feature_file(&name, kind),
                delivery,
            };
            let input = job.input.clone();
            if job_tx.send(job).is_ok() {
                self.shards.job_sent(index, stage, input);
                self.book.start(stage, self.events);
            }
        }
    }

    /// Whether shard `index`'s scores file from an earlier run is current: made by these
    /// models from exactly its prepared files.
    fn scores_current(&self, index: usize) -> bool {
        let shard = &self.shards[index];
        let Some(inputs) = &shard.inputs else {
            return false;
        };
        let path = self.layout.feature_file(&shard.name(), FeatureKind::Scores);
        scores::up_to_date(&path, &self.scores.model, inputs) == Some(shard.record.records)
    }

    /// Shard `index` is embedded and merged already, in effect: its scores are replayed.
    fn reuse_scores(&mut self, index: usize) {
        self.shards[index].reuse_scores();
        let frames = self.shards[index].record.records as u64;
        for stage in [Stage::EmbedDna, Stage::EmbedProtein, Stage::Merge] {
            self.book.start(stage, self.events);
            self.book.counts(stage).reused += 1;
            let units = if stage == Stage::Merge { 1 } else { frames };
            self.book.advance(stage, units, self.events, true);
        }
    }

    fn prepare_finished(&mut self, prepared: Prepared) {
        let stage = Stage::Prepare;
        if prepared.record.shards.len() != self.shards.len() {
            let message = format!(
                "prepare announced {} shards but wrote {}",
                self.shards.len(),
                prepared.record.shards.len()
            );
            return self.stop(Some(RunError::Worker(message)));
        }
        for warning in &prepared.warnings {
            self.events.warning(Some(stage), warning.clone());
        }
        let records = self.shards.records();
        self.book.set_total(Stage::EmbedDna, records);
        self.book.set_total(Stage::EmbedProtein, records);
        self.book.set_total(Stage::Merge, self.shards.len() as u64);
        let shards = self.shards.len() as u64;
        let counts = self.book.counts(stage);
        if self.prepare_reused {
            counts.reused = shards;
        } else {
            counts.done = shards;
        }
        if let Err(e) = remove_stale_shards(self.layout, &prepared.record.shards) {
            return self.stop(Some(e));
        }
        self.prepared = Some(prepared);
        self.prepare_done = true;
        // Once every job is handed over (the window may hold some back), the engine ends
        // when it has done them.
        self.release_jobs();
        self.book.complete(stage, self.events);
    }

    fn embed_event(&mut self, event: EmbedEvent) {
        match event {
            EmbedEvent::BatchDone {
                device,
                model,
                sequences,
                tokens,
                seconds,
            } => {
                let stage = [Stage::EmbedDna, Stage::EmbedProtein][model.min(1)];
                let work = (sequences as u64, tokens as u64, seconds);
                self.book.batch(stage, &device, work, self.events);
            }
            EmbedEvent::BudgetHalved { device, parts } => self.events.warning(
                None,
                format!("{device}: out of memory; batches now run in {parts} pieces"),
            ),
            EmbedEvent::WorkerReady {
                device,
                model,
                load_seconds,
                ..
            } => {
                tracing::info!("{model} loaded on {device} in {load_seconds:.1} s");
                self.devices.loaded(device, model, load_seconds);
            }
            EmbedEvent::FileQueued {
                input,
                sequences,
                tokens,
                ..
            } => {
                if let Some(stage) = self.shards.stage_of_input(&input) {
                    self.book.queued(stage, sequences as u64, tokens as u64);
                }
            }
            EmbedEvent::FileDone(outcome) => self.file_embedded(outcome),
        }
    }

    /// One side of a shard is embedded (or failed); with both sides done it is merged.
    fn file_embedded(&mut self, outcome: FileOutcome) {
        let Some((index, stage)) = self.shards.job(outcome.job) else {
            return;
        };
        if self.error.is_some() && matches!(outcome.status, FileStatus::Failed(_)) {
            // After the error that stops the run, a failure is its consequence (a staged
            // shard removed with prepare's staging), not the shard's: resume redoes it.
            return;
        }
        if let FileStatus::Failed(FileFailure {
            disk_full: Some(code),
            ..
        }) = outcome.status
        {
            // Not the shard's fault: every later write would fail too.
            let kind = match stage {
                Stage::EmbedDna => FeatureKind::Nucleotide,
                _ => FeatureKind::Protein,
            };
            let path = self.layout.feature_file(&self.shards[index].name(), kind);
            let source = std::io::Error::from_raw_os_error(code);
            self.stop(Some(RunError::disk_full_at(&path, source)));
            return;
        }
        // Every file's end is a progress event (its batches were thinned out).
        let mut units = 0;
        let mut rows = None;
        let step = match outcome.status {
            FileStatus::Written => {
                self.book.counts(stage).done += 1;
                Step::Ok
            }
            FileStatus::Embedded { rows: table } => {
                self.book.counts(stage).done += 1;
                rows = table.map(|t| t.0);
                Step::Ok
            }
            FileStatus::UpToDate => {
                self.book.counts(stage).reused += 1;
                units = self.shards[index].record.records as u64;
                Step::Ok
            }
            // Not a failure of the shard: the run is stopping.
            FileStatus::Failed(f) if f.kind == FailureKind::Cancelled => return,
            FileStatus::Failed(f) => {
                self.book.counts(stage).failed += 1;
                let name = self.shards[index].name();
                self.events
                    .failure(stage, &name, f.kind.category(), f.message.clone());
                Step::Failed
            }
        };
        self.book.advance(stage, units, self.events, true);
        if self.shards[index].embedded(stage, step, rows) {
            self.dispatch_merge(index);
        }
    }

    fn dispatch_merge(&mut self, index: usize) {
        let Some(merge_tx) = &self.outlets.merge else {
            return;
        };
        let shard = &mut self.shards[index];
        let name = shard.name();
        let work = match (shard.tables.dna.take(), shard.tables.protein.take()) {
            (Some(dna), Some(protein)) => MergeWork::Tables {
                origins: [&shard.record.nucleotide, &shard.record.protein]
                    .map(|p| self.layout.prepared().join(p)),
                shard: name,
                dna,
                protein,
            },
            _ => MergeWork::Files(PairSpec {
                nucleotide: vec![self.layout.feature_file(&name, FeatureKind::Nucleotide)],
                protein: vec![self.layout.feature_file(&name, FeatureKind::Protein)],
                output: self.layout.feature_file(&name, FeatureKind::Merged),
                shard: name,
            }),
        };
        if merge_tx.send((index, work)).is_ok() {
            self.book.start(Stage::Merge, self.events);
        }
    }

    fn merged(&mut self, index: usize, report: PairReport, table: Option<Arc<FeatureTable>>) {
        let stage = Stage::Merge;
        if let PairOutcome::Failed(f) = &report.outcome {
            if self.error.is_some() {
                return; // a consequence of the error that stops the run
            }
            if let Some(source) = f.disk_full() {
                let path = self.layout.feature_file(&report.shard, FeatureKind::Merged);
                self.stop(Some(RunError::disk_full_at(&path, source)));
                return;
            }
        }
        let step = match &report.outcome {
            PairOutcome::Merged { .. } => {
                self.book.counts(stage).done += 1;
                Step::Ok
            }
            PairOutcome::Skipped { .. } => {
                self.book.counts(stage).reused += 1;
                // Its kept features and merged file are sound and current: so are its
                // scores, if they were made from the same shard by the same models.
                if self.scores_current(index) {
                    self.shards[index].scores_reused = true;
                }
                Step::Ok
            }
            PairOutcome::Failed(f) if f.kind == MergeFailure::Cancelled => return,
            PairOutcome::Failed(f) => {
                self.book.counts(stage).failed += 1;
                self.events
                    .failure(stage, &report.shard, f.kind.category(), f.to_string());
                Step::Failed
            }
        };
        self.shards[index].merge = step;
        self.shards[index].tables.merged = table;
        self.book.advance(stage, 1, self.events, true);
    }

    fn scored(&mut self, index: usize, result: Result<u64, ScoreError>) {
        let stage = Stage::Classify;
        let stopped = self.error.is_some();
        let Some(shard) = self.shards.get_mut(index) else {
            return;
        };
        match result {
            // A consequence of the error that stops the run, not the shard's failure.
            Err(_) if stopped => shard.classify = Step::Failed,
            Ok(rows) => {
                shard.classify = Step::Ok;
                let counts = self.book.counts(stage);
                if shard.scores_reused {
                    counts.reused += 1;
                } else {
                    counts.done += 1;
                }
                self.book.advance(stage, rows, self.events, true);
            }
            Err(e) => {
                shard.classify = Step::Failed;
                let name = shard.name();
                self.book.counts(stage).failed += 1;
                let kind = match e {
                    ScoreError::Input(_) => RunFailureKind::Unreadable,
                    _ => RunFailureKind::Model,
                };
                self.events.failure(stage, &name, kind, e.to_string());
            }
        }
    }

    /// After each message: hand shards to classify, close the channels of stages that
    /// have all their work, and end stages that are complete.
    pub(super) fn settle(&mut self) {
        if self.stopping {
            return;
        }
        self.release_jobs();
        if self.prepare_done {
            self.complete_embed_and_merge();
        }
        self.advance_classify();
    }

    fn complete_embed_and_merge(&mut self) {
        for stage in [Stage::EmbedDna, Stage::EmbedProtein] {
            if self.shards.all_embedded(stage) && !self.book.is_complete(stage) {
                self.book.complete(stage, self.events);
            }
        }
        if self.shards.all_merge_settled() && !self.book.is_complete(Stage::Merge) {
            self.outlets.merge = None;
            let frames = self.shards.merged_records();
            self.book.set_total(Stage::Classify, frames);
            self.book.complete(Stage::Merge, self.events);
        }
    }
}

/// The checksums of a shard's two prepared files (each read where it is now: in prepare's
/// staging folder or already moved into place); `None` when either cannot be read.
fn shard_inputs(paths: &[(PathBuf, Option<PathBuf>); 2]) -> Option<Vec<InputChecksum>> {
    paths
        .iter()
        .map(|(staged, moved_to)| {
            checksum_file(staged)
                .or_else(|e| match moved_to {
                    Some(moved) if e.kind() == std::io::ErrorKind::NotFound => checksum_file(moved),
                    _ => Err(e),
                })
                .ok()
        })
        .collect()
}
