//! Merge: for every shard, the nucleotide features and the protein features become one
//! merged feature file whose row `i` is `[nucleotide(dim_n) | protein(dim_p)]` of the
//! nucleotide file's ID `i` (protein rows are looked up by ID).
//!
//! Pairs are found by shard name ([`discover`]), merged on a pool of `threads` workers
//! (one pair per worker at a time, so memory stays at about `threads` pairs), and each
//! ends [`PairOutcome::Merged`], [`PairOutcome::Skipped`] (its output is valid and was made
//! from the same input bytes) or [`PairOutcome::Failed`] with a typed [`FailureKind`] and
//! structured [`FailureDetails`]. One pair failing never stops the others.
mod discover;
mod failures_file;
mod ids;
mod pair;
mod report;
mod source;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;

use crate::cancel::CancelToken;

pub use discover::{
    discover, expected_names, legacy_suffix, natural_cmp, shard_of, PairSpec,
    LEGACY_NUCLEOTIDE_SUFFIX, LEGACY_PROTEIN_SUFFIX,
};
pub use failures_file::{
    merge_failures_tsv, read_merge_failures, MergeFailureRow, MERGE_FAILURES_FILE,
    MERGE_FAILURES_HEADER,
};
pub use ids::match_ids;
pub use report::{
    FailureDetails, FailureKind, IdExamples, IdReport, MergeProgress, MergeReport, PairFailure,
    PairOutcome, PairReport, Side,
};

/// Errors that stop a merge before any pair is tried.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("cannot list {}: {source}", path.display())]
    ReadDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create output folder {}: {source}", path.display())]
    OutDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start {threads} worker threads: {reason}")]
    ThreadPool { threads: usize, reason: String },
}

#[derive(Debug, Clone)]
pub struct MergeOptions {
    /// Worker threads; `None` (or 0) = the number of available cores. Never more than
    /// there are pairs to merge; 1 runs on the calling thread, without a pool.
    pub threads: Option<usize>,
    pub cancel: CancelToken,
    /// IDs listed per category in an ID mismatch (the counts are always complete).
    pub max_id_examples: usize,
}

impl Default for MergeOptions {
    fn default() -> Self {
        Self {
            threads: None,
            cancel: CancelToken::new(),
            max_id_examples: 5,
        }
    }
}

impl MergeOptions {
    /// The threads a merge of `pairs` pairs with work to do will use.
    pub fn effective_threads(&self, pairs: usize) -> usize {
        let wanted = match self.threads {
            Some(n) if n > 0 => n,
            _ => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        wanted.min(pairs).max(1)
    }
}

/// Discover the pairs of `nucleotide_dir` and `protein_dir`, and merge them into
/// `out_dir` (created if needed).
pub fn merge_dirs(
    nucleotide_dir: &Path,
    protein_dir: &Path,
    out_dir: &Path,
    opts: &MergeOptions,
    progress: &(dyn Fn(&MergeProgress) + Sync),
) -> Result<MergeReport, MergeError> {
    let pairs = discover(nucleotide_dir, protein_dir, out_dir)?;
    std::fs::create_dir_all(out_dir).map_err(|source| MergeError::OutDir {
        path: out_dir.to_path_buf(),
        source,
    })?;
    merge_pairs(&pairs, opts, progress)
}

struct Totals {
    done: usize,
    bytes_in: u64,
    bytes_out: u64,
}

/// Merge `pairs` (output folders must exist). Reports come back in the order given.
pub fn merge_pairs(
    pairs: &[PairSpec],
    opts: &MergeOptions,
    progress: &(dyn Fn(&MergeProgress) + Sync),
) -> Result<MergeReport, MergeError> {
    let start = Instant::now();
    let with_work = pairs.iter().filter(|p| p.is_complete()).count();
    let threads = opts.effective_threads(with_work);
    let shared = pair::Shared::default();
    let totals = Mutex::new(Totals {
        done: 0,
        bytes_in: 0,
        bytes_out: 0,
    });
    let one = |spec: &PairSpec| {
        let report = pair::merge_pair(spec, opts, &shared);
        let mut t = totals
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        t.done += 1;
        t.bytes_in += report.bytes_in;
        t.bytes_out += report.bytes_out;
        progress(&MergeProgress {
            done: t.done,
            total: pairs.len(),
            pair: &report,
            bytes_in: t.bytes_in,
            bytes_out: t.bytes_out,
            elapsed: start.elapsed(),
        });
        drop(t);
        report
    };
    tracing::info!(pairs = pairs.len(), threads, "merge");
    let reports: Vec<PairReport> = if threads == 1 {
        pairs.iter().map(one).collect()
    } else {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("merge-{i}"))
            .build()
            .map_err(|e| MergeError::ThreadPool {
                threads,
                reason: e.to_string(),
            })?;
        // One item per task: a worker holds one pair at a time.
        pool.install(|| pairs.par_iter().with_max_len(1).map(one).collect())
    };
    Ok(MergeReport {
        threads,
        peak_pairs_in_flight: shared.gauge.peak(),
        elapsed: start.elapsed(),
        pairs: reports,
    })
}

/// Merge one pair on the calling thread (its output folder must exist): for callers that
/// schedule pairs themselves, such as a run that merges each shard as soon as its two
/// feature files exist.
pub fn merge_one(spec: &PairSpec, opts: &MergeOptions) -> PairReport {
    pair::merge_pair(spec, opts, &pair::Shared::default())
}

/// Merge a shard's two embedding tables held in memory (a run that does not keep its
/// features) with the checks of a file merge; `origins` (the files the tables were
/// embedded from) are named in failures.
pub fn merge_tables(
    nucleotide: std::sync::Arc<crate::features::FeatureTable>,
    protein: std::sync::Arc<crate::features::FeatureTable>,
    origins: [&Path; 2],
    opts: &MergeOptions,
) -> Result<crate::features::FeatureTable, PairFailure> {
    pair::merge_tables(nucleotide, protein, origins, opts)
}

/// A progress callback that ignores progress.
pub fn no_progress(_: &MergeProgress) {}
