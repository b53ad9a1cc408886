//! The classify stage of a run, on its own thread: merged shards are scored in shard order
//! as they arrive (while the devices embed later shards), on the run's first device; the
//! reports are put in place only when the run says every shard has come.
use std::path::{Path, PathBuf};

use crossbeam_channel::Receiver;
use tch::Device;
use virnucpro_core::features::{checksum_file, InputChecksum};
use virnucpro_core::report::ReadTotals;

use super::RunError;
use crate::classifier::{MlpClassifier, ScoreError, Scorer};

pub(super) enum ClassifyCmd {
    /// Score shard `index`'s merged file and append its rows to the reports.
    Shard { index: usize, path: PathBuf },
    /// Every shard has come: put the reports in place and write the read summary (next to
    /// them) from prepare's chunked reads.
    Finish { chunked: PathBuf },
}

/// What finished reports hold.
pub(super) struct ClassifyOutput {
    pub totals: ReadTotals,
    pub rows: u64,
    /// Checksums of the merged files scored, in order; `None` where one could not be read
    /// again (then the reports are not stamped for reuse).
    pub merged: Vec<Option<InputChecksum>>,
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
    let mut merged = Vec::new();
    for cmd in cmds {
        match cmd {
            ClassifyCmd::Shard { index, path } => {
                let result = match scorer.add_shard(&path) {
                    Err(ScoreError::Report(e)) => return Err(e.into()),
                    Ok(scores) => {
                        merged.push(checksum_file(&path).ok());
                        Ok(scores.rows)
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
                    merged,
                }));
            }
        }
    }
    Ok(None)
}
