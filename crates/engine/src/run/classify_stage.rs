//! The classify stage of a run, on its own thread: merged shards are scored in shard order
//! as they arrive (while the devices embed later shards), on the run's first device; the
//! reports are put in place only when the run says every shard has come.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crossbeam_channel::Receiver;
use tch::Device;
use virnucpro_core::features::{checksum_file, FeatureError, FeatureTable, InputChecksum};
use virnucpro_core::merged_input::{read_merged, MergedInputError};
use virnucpro_core::report::{ReadTotals, ReportError};
use virnucpro_core::run_folder::scores::{read_scores, write_scores};

use super::RunError;
use crate::classifier::{MlpClassifier, ScoreError, Scorer};

pub(super) enum ClassifyCmd {
    /// Score shard `index` and append its rows to the reports.
    Shard {
        index: usize,
        rows: ShardRows,
        /// Where to keep the shard's scores, for a resume; `None`: not kept.
        save: Option<SaveScores>,
    },
    /// Every shard has come: put the reports in place and write the read summary (next to
    /// them) from prepare's chunked reads.
    Finish { chunked: PathBuf },
}

/// Where a shard's rows come from.
pub(super) enum ShardRows {
    /// Its merged feature file (a run that keeps its features).
    Merged(PathBuf),
    /// Its merged rows in memory.
    Table(Arc<FeatureTable>),
    /// Its scores file from an earlier run: replayed, not scored again.
    Scored(PathBuf),
}

/// A shard's scores file and what it is made from (`core::run_folder::scores`).
pub(super) struct SaveScores {
    pub path: PathBuf,
    pub model: String,
    pub inputs: Vec<InputChecksum>,
}

/// What finished reports hold.
pub(super) struct ClassifyOutput {
    pub totals: ReadTotals,
    pub rows: u64,
    /// Checksums of the shards' scores files, in order; `None` where one was not kept or
    /// could not be read again (then the reports are not stamped for reuse).
    pub scored: Vec<Option<InputChecksum>>,
}

pub(super) enum ClassifyMsg {
    /// A shard was scored (its rows), or could not be (nothing of it is in the reports).
    Scored {
        index: usize,
        result: Result<u64, ScoreError>,
    },
    /// The thread ended: reports in place (`Some`), dropped unfinished (`None`: the run
    /// stopped), or a fatal error.
    Done(Result<Option<ClassifyOutput>, RunError>),
}

/// Serve `cmds` until `Finish` or until the channel closes (the run stopped: nothing is
/// put in place). The classifier is the one validation loaded, lent to this thread alone
/// (tensors are `Send`, not `Sync`) and moved to the classify device here.
pub(super) fn classify_thread(
    classifier: &mut MlpClassifier,
    device: Device,
    out_dir: &Path,
    cmds: Receiver<ClassifyCmd>,
    send: &dyn Fn(ClassifyMsg),
) {
    send(ClassifyMsg::Done(serve(
        classifier, device, out_dir, cmds, send,
    )));
}

fn serve(
    model: &mut MlpClassifier,
    device: Device,
    out_dir: &Path,
    cmds: Receiver<ClassifyCmd>,
    send: &dyn Fn(ClassifyMsg),
) -> Result<Option<ClassifyOutput>, RunError> {
    model.move_to(device)?;
    tracing::info!("classifying on {device:?}");
    let mut scorer = Scorer::create(model, out_dir, None)?;
    let mut scored = Vec::new();
    for cmd in cmds {
        match cmd {
            ClassifyCmd::Shard { index, rows, save } => {
                let result = match score_shard(&mut scorer, rows, save) {
                    Err(ScoreError::Report(e)) => return Err(e.into()),
                    Ok((rows, kept)) => {
                        scored.push(kept);
                        Ok(rows)
                    }
                    Err(e) => Err(e),
                };
                send(ClassifyMsg::Scored { index, result });
            }
            ClassifyCmd::Finish { chunked } => {
                let rows = scorer.rows;
                let (_, totals) = scorer.finish_with_reads(&chunked)?;
                return Ok(Some(ClassifyOutput {
                    totals,
                    rows,
                    scored,
                }));
            }
        }
    }
    Ok(None)
}

/// Score (or replay) one shard into the reports and keep its scores: its rows, and the
/// checksum of its scores file when there is one.
fn score_shard(
    scorer: &mut Scorer,
    rows: ShardRows,
    save: Option<SaveScores>,
) -> Result<(u64, Option<InputChecksum>), ScoreError> {
    let (counts, scores) = match rows {
        ShardRows::Scored(path) => {
            let saved = read_scores(&path).map_err(MergedInputError::from)?;
            let counts = scorer.add_scores(saved.ids, &saved.scores)?;
            return Ok((counts.rows, checksum_file(&path).ok()));
        }
        ShardRows::Merged(path) => {
            let table = read_merged(&path)?;
            let ids = table.ids.clone();
            let (counts, scores) = scorer.add_rows(table.ids, &table.rows, table.dim)?;
            (counts, Some((ids, scores)))
        }
        ShardRows::Table(table) => {
            let ids = table.meta.ids.clone();
            let (counts, scores) = scorer.add_rows(ids.clone(), &table.rows, table.meta.dim)?;
            (counts, Some((ids, scores)))
        }
    };
    let kept = match (save, scores) {
        (Some(save), Some((ids, scores))) => Some(keep_scores(save, ids, &scores)?),
        _ => None,
    };
    Ok((counts.rows, kept))
}

/// Write a shard's scores file and checksum it for the reports stamp. A failure to write
/// it (a full disk) stops the run like a failed report write: its rows are in the reports
/// being written, which could not be resumed from.
fn keep_scores(
    save: SaveScores,
    ids: Vec<String>,
    scores: &[(f32, f32)],
) -> Result<InputChecksum, ScoreError> {
    let io = |path: PathBuf, source| ScoreError::Report(ReportError::Io { path, source });
    match write_scores(&save.path, &save.model, save.inputs, ids, scores) {
        Ok(_) => {}
        Err(FeatureError::Write { path, source }) => return Err(io(path, source)),
        Err(e) => return Err(io(save.path, std::io::Error::other(e.to_string()))),
    }
    checksum_file(&save.path).map_err(|source| io(save.path, source))
}
