//! The stage threads of a run and the channels that join them to the hub: one prepare
//! thread (unless an earlier prepare is reused), one embedding engine with both models on
//! every device, `threads` merge threads and one classify thread. Each thread reports on
//! one channel of [`Msg`]s; the hub hands out work through the [`Outlets`].
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::Scope;

use crossbeam_channel::{unbounded, Receiver, Sender};
use tch::Device;
use virnucpro_core::features::{FeatureFile, FeatureTable};
use virnucpro_core::merge::{
    merge_one, merge_tables, MergeOptions, PairOutcome, PairReport, PairSpec,
};
use virnucpro_core::CancelToken;

use super::super::classify_stage::{classify_thread, ClassifyCmd, ClassifyMsg};
use super::super::prepared::{run_prepare, Prepared, ShardInfo};
use super::super::RunError;
use crate::classifier::MlpClassifier;
use crate::embed::{
    embed_stream, EmbedError, EmbedEvent, EmbedOptions, EmbedReport, EngineModel, FileJob,
};
use virnucpro_core::run_folder::files::FileEntry;
use virnucpro_core::run_folder::layout::RunLayout;

/// What the stage threads report to the hub.
pub(super) enum Msg {
    PrepareProgress(u64),
    ShardReady {
        record: ShardInfo,
        staged_root: PathBuf,
    },
    PrepareDone(Result<Option<Prepared>, RunError>),
    Embed(EmbedEvent),
    EmbedDone(Result<EmbedReport, EmbedError>),
    Merged {
        shard: usize,
        report: PairReport,
        /// The merged rows, for a shard merged in memory.
        table: Option<Arc<FeatureTable>>,
    },
    Classify(ClassifyMsg),
    /// A stage thread panicked: its work will never be reported.
    Panicked(&'static str),
}

/// Where the hub hands out work. A stage's outlet is closed (`None`) once that stage has
/// all its work, or when the run stops; a thread ends when its outlet is closed and its
/// queue is empty.
pub(super) struct Outlets {
    pub jobs: Option<Sender<FileJob>>,
    pub merge: Option<Sender<(usize, MergeWork)>>,
    pub classify: Option<Sender<ClassifyCmd>>,
}

/// One shard's merge.
pub(super) enum MergeWork {
    /// Two feature files into a merged file (a run that keeps its features).
    Files(PairSpec),
    /// Two tables in memory into a merged table; `origins` are the shard's prepared files,
    /// named in failures.
    Tables {
        shard: String,
        dna: Arc<FeatureTable>,
        protein: Arc<FeatureTable>,
        origins: [PathBuf; 2],
    },
}

/// The receiving ends of the [`Outlets`], one per stage thread.
pub(super) struct Inlets {
    pub jobs: Receiver<FileJob>,
    pub merge: Receiver<(usize, MergeWork)>,
    pub classify: Receiver<ClassifyCmd>,
}

/// The work channels between the hub and the stage threads.
pub(super) fn work_channels() -> (Outlets, Inlets) {
    let (job_tx, job_rx) = unbounded::<FileJob>();
    let (merge_tx, merge_rx) = unbounded::<(usize, MergeWork)>();
    let (classify_tx, classify_rx) = unbounded::<ClassifyCmd>();
    let outlets = Outlets {
        jobs: Some(job_tx),
        merge: Some(merge_tx),
        classify: Some(classify_tx),
    };
    let inlets = Inlets {
        jobs: job_rx,
        merge: merge_rx,
        classify: classify_rx,
    };
    (outlets, inlets)
}

impl Outlets {
    /// Hand out no more work: every thread ends at its next boundary.
    pub fn close_all(&mut self) {
        self.jobs = None;
        self.merge = None;
        // Without `Finish` the classify thread drops the unfinished reports.
        self.classify = None;
    }
}

/// Run a stage thread's body; a panic becomes a message, so the hub stops the run instead
/// of waiting for work that will never be reported.
fn guarded(name: &'static str, tx: &Sender<Msg>, body: impl FnOnce()) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).is_err() {
        let _ = tx.send(Msg::Panicked(name));
    }
}

/// What the prepare thread works from.
pub(super) struct PrepareWork<'a> {
    pub layout: &'a RunLayout,
    pub inputs: &'a [PathBuf],
    pub entries: &'a [FileEntry],
    /// Read length, shard size and prepare's threads.
    pub settings: (usize, usize, usize),
    pub pairing: &'a virnucpro_core::pairs::Pairing,
}

/// Prepare writes the shards, announcing each as soon as it is complete.
pub(super) fn spawn_prepare<'scope>(
    scope: &'scope Scope<'scope, '_>,
    tx: Sender<Msg>,
    work: PrepareWork<'scope>,
    halt: &'scope CancelToken,
) {
    scope.spawn(move || {
        guarded("prepare", &tx, || {
            let result = run_prepare(
                work.layout,
                (work.inputs, work.pairing),
                work.entries,
                work.settings,
                halt,
                &mut |reads| {
                    let _ = tx.send(Msg::PrepareProgress(reads));
                },
                &mut |staged| {
                    let _ = tx.send(Msg::ShardReady {
                        record: staged.info.clone(),
                        staged_root: staged.staged_root.to_path_buf(),
                    });
                },
            );
            let _ = tx.send(Msg::PrepareDone(result));
        })
    });
}

/// The embedding engine embeds the jobs the hub hands it, into `features` (`None`: every
/// job's rows stay in memory).
pub(super) fn spawn_embedding<'scope>(
    scope: &'scope Scope<'scope, '_>,
    tx: Sender<Msg>,
    models: &'scope [EngineModel<'scope>],
    jobs: Receiver<FileJob>,
    (features, options): (Option<PathBuf>, &'scope EmbedOptions),
    halt: &'scope CancelToken,
) {
    scope.spawn(move || {
        guarded("embedding", &tx, || {
            let out = features.as_deref();
            let result = embed_stream(models, jobs, out, options, halt, &mut |e| {
                let _ = tx.send(Msg::Embed(e.clone()));
            });
            let _ = tx.send(Msg::EmbedDone(result));
        })
    });
}

/// `threads` merge threads (at least one) take pairs from one queue, one pair at a time
/// each.
pub(super) fn spawn_merges<'scope>(
    scope: &'scope Scope<'scope, '_>,
    tx: &Sender<Msg>,
    pairs: Receiver<(usize, MergeWork)>,
    threads: usize,
    halt: &CancelToken,
) {
    for _ in 0..threads.max(1) {
        let (tx, pairs) = (tx.clone(), pairs.clone());
        let options = MergeOptions {
            threads: Some(1),
            cancel: halt.clone(),
            ..MergeOptions::default()
        };
        scope.spawn(move || {
            guarded("merge", &tx, || {
                for (shard, work) in pairs {
                    let (report, table) = merge_work(work, &options);
                    let _ = tx.send(Msg::Merged {
                        shard,
                        report,
                        table,
                    });
                }
            })
        });
    }
}

/// Merge one shard, from files or in memory.
fn merge_work(work: MergeWork, options: &MergeOptions) -> (PairReport, Option<Arc<FeatureTable>>) {
    let (shard, dna, protein, origins) = match work {
        MergeWork::Files(spec) => {
            remove_damaged_merged(&spec.output);
            return (merge_one(&spec, options), None);
        }
        MergeWork::Tables {
            shard,
            dna,
            protein,
            origins,
        } => (shard, dna, protein, origins),
    };
    let [nucleotide, protein_file] = &origins;
    let result = merge_tables(dna, protein, [nucleotide, protein_file], options);
    let (outcome, table) = match result {
        Ok(table) => (
            PairOutcome::Merged { rows: table.len() },
            Some(Arc::new(table)),
        ),
        Err(failure) => (PairOutcome::Failed(failure), None),
    };
    let report = PairReport {
        shard,
        nucleotide: vec![nucleotide.clone()],
        protein: vec![protein_file.clone()],
        output: PathBuf::new(),
        outcome,
        bytes_in: 0,
        bytes_out: 0,
    };
    (report, table)
}

/// The classify thread scores merged shards with the classifier validation loaded, on
/// `device`, writing the reports under `staging`.
pub(super) fn spawn_classify<'scope>(
    scope: &'scope Scope<'scope, '_>,
    tx: Sender<Msg>,
    (classifier, device): (&'scope mut MlpClassifier, Device),
    staging: PathBuf,
    cmds: Receiver<ClassifyCmd>,
) {
    scope.spawn(move || {
        guarded("classify", &tx, || {
            classify_thread(classifier, device, &staging, cmds, &|m| {
                let _ = tx.send(Msg::Classify(m));
            })
        })
    });
}

/// Merge reuses a merged file whose header names the same inputs without reading its
/// data; one that fails its data checks is removed first, so that it is merged again
/// instead of being scored.
fn remove_damaged_merged(path: &Path) {
    if !path.is_file() {
        return;
    }
    if let Err(e) = FeatureFile::open(path).and_then(|file| file.verify_data()) {
        tracing::warn!("{e}; merging it again");
        if let Err(e) = std::fs::remove_file(path) {
            tracing::warn!("cannot remove {}: {e}", path.display());
        }
    }
}
