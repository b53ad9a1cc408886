//! The state machine of each shard: its four steps (DNA embedding, protein embedding,
//! merge, classify) are each waiting, done or failed. A shard is merged once both its
//! embeddings are done, and a shard with a failed step goes no further.
use std::collections::HashMap;
use std::ops::{Index, IndexMut};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use virnucpro_core::events::Stage;
use virnucpro_core::features::{FeatureTable, InputChecksum};

use super::super::prepared::ShardInfo;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    Waiting,
    Ok,
    Failed,
}

pub(super) struct Shard {
    pub record: ShardInfo,
    pub dna: Step,
    pub protein: Step,
    pub merge: Step,
    pub classify: Step,
    /// The shard's two prepared files by content, what its scores are made from; `None`
    /// when they could not be read (the embedding then reports why).
    pub inputs: Option<Vec<InputChecksum>>,
    /// Its scores file from an earlier run is current: it is replayed, not recomputed.
    pub scores_reused: bool,
    /// Rows in memory on their way to the classifier (a run that keeps no features).
    pub tables: Tables,
}

/// A shard's rows held in memory, each dropped as soon as the next stage has its own.
#[derive(Default)]
pub(super) struct Tables {
    pub dna: Option<Arc<FeatureTable>>,
    pub protein: Option<Arc<FeatureTable>>,
    pub merged: Option<Arc<FeatureTable>>,
}

impl Shard {
    fn new(record: ShardInfo) -> Self {
        Self {
            record,
            dna: Step::Waiting,
            protein: Step::Waiting,
            merge: Step::Waiting,
            classify: Step::Waiting,
            inputs: None,
            scores_reused: false,
            tables: Tables::default(),
        }
    }

    /// Its scores file is current: every step before classify is done (reused).
    pub fn reuse_scores(&mut self) {
        self.scores_reused = true;
        self.dna = Step::Ok;
        self.protein = Step::Ok;
        self.merge = Step::Ok;
    }

    pub fn name(&self) -> String {
        self.record.name()
    }

    pub fn failed(&self) -> bool {
        [self.dna, self.protein, self.merge, self.classify].contains(&Step::Failed)
    }

    /// Whether the shard is done with merging: merged, or it never will be.
    pub fn merge_settled(&self) -> bool {
        self.merge != Step::Waiting || self.dna == Step::Failed || self.protein == Step::Failed
    }

    /// The step of an embedding stage (`EmbedDna` or `EmbedProtein`).
    pub fn embedding(&self, stage: Stage) -> Step {
        if stage == Stage::EmbedDna {
            self.dna
        } else {
            self.protein
        }
    }

    /// Record how an embedding stage's file ended (with its rows when they are kept in
    /// memory); `true` when both embeddings are now done and the shard is ready to merge.
    pub fn embedded(&mut self, stage: Stage, step: Step, rows: Option<Arc<FeatureTable>>) -> bool {
        match stage {
            Stage::EmbedDna => (self.dna, self.tables.dna) = (step, rows),
            _ => (self.protein, self.tables.protein) = (step, rows),
        }
        self.dna == Step::Ok && self.protein == Step::Ok
    }
}

/// Every shard announced so far, in shard order, and which shard and stage each
/// embedding job is for.
#[derive(Default)]
pub(super) struct Shards {
    list: Vec<Shard>,
    /// The shard and stage of each embedding job, in the order they were handed over.
    jobs: Vec<(usize, Stage)>,
    /// The stage of each embedding job's input file (the engine names a queued file by it).
    job_inputs: HashMap<PathBuf, Stage>,
}

impl Shards {
    /// A new shard, waiting at every step; its index.
    pub fn push(&mut self, record: ShardInfo) -> usize {
        self.list.push(Shard::new(record));
        self.list.len() - 1
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn get(&self, index: usize) -> Option<&Shard> {
        self.list.get(index)
    }

    pub fn get_mut(&mut self, index: usize) -> Option<&mut Shard> {
        self.list.get_mut(index)
    }

    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, Shard> {
        self.list.iter_mut()
    }

    /// An embedding job for shard `index` was handed to the engine (job ids count up).
    pub fn job_sent(&mut self, index: usize, stage: Stage, input: PathBuf) {
        self.jobs.push((index, stage));
        self.job_inputs.insert(input, stage);
    }

    /// The shard and stage of embedding job `job`.
    pub fn job(&self, job: usize) -> Option<(usize, Stage)> {
        self.jobs.get(job).copied()
    }

    /// The stage of the embedding job whose input is `input`.
    pub fn stage_of_input(&self, input: &Path) -> Option<Stage> {
        self.job_inputs.get(input).copied()
    }

    /// Whether some shard still waits for one of its embeddings.
    pub fn embedding_unfinished(&self) -> bool {
        self.list
            .iter()
            .any(|s| s.dna == Step::Waiting || s.protein == Step::Waiting)
    }

    /// Whether every shard is through embedding stage `stage`, written or failed.
    pub fn all_embedded(&self, stage: Stage) -> bool {
        self.list
            .iter()
            .all(|s| s.embedding(stage) != Step::Waiting)
    }

    pub fn all_merge_settled(&self) -> bool {
        self.list.iter().all(Shard::merge_settled)
    }

    /// The records (frames) of every shard.
    pub fn records(&self) -> u64 {
        self.list.iter().map(|s| s.record.records as u64).sum()
    }

    /// The records (frames) of the merged shards: what classify will score.
    pub fn merged_records(&self) -> u64 {
        self.list
            .iter()
            .filter(|s| s.merge == Step::Ok)
            .map(|s| s.record.records as u64)
            .sum()
    }

    /// How many shards are scored (their rows are in the reports).
    pub fn scored(&self) -> usize {
        self.list.iter().filter(|s| s.classify == Step::Ok).count()
    }

    /// The names of the shards with a failed step.
    pub fn failed_names(&self) -> Vec<String> {
        self.list
            .iter()
            .filter(|s| s.failed())
            .map(Shard::name)
            .collect()
    }
}

impl Index<usize> for Shards {
    type Output = Shard;

    fn index(&self, index: usize) -> &Shard {
        &self.list[index]
    }
}

impl IndexMut<usize> for Shards {
    fn index_mut(&mut self, index: usize) -> &mut Shard {
        &mut self.list[index]
    }
}
