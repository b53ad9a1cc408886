//! `pair_summary.tsv`: one line per pair of mates, made from `read_summary.tsv` (one
//! line per read, in reading order) and where each pair's reads are in it (prepare's
//! `pairs[]`). Mates are consecutive reads there (R1's record i, then R2's), so this is
//! one streaming pass holding one mate at a time.
//!
//! Columns: `pair_id  mate1_call  mate2_call  best_virus_score  call`. A mate's call is its
//! `call` in the read summary, or `missing` when the mate was skipped (a bad record);
//! `best_virus_score` is the higher of the mates' (empty when neither had a frame scored);
//! `call` is `virus` when either mate is, `others` when any mate is, else `none`.
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Mate, PairRecord};
use crate::atomic::AtomicFile;
use crate::report::{
    for_each_read_summary_row, numpy_f32, ReadCall, ReadSummaryError, ReadSummaryRow,
};

pub const PAIR_SUMMARY_HEADER: &str = "pair_id\tmate1_call\tmate2_call\tbest_virus_score\tcall\n";

/// Why `pair_summary.tsv` could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PairSummaryError {
    #[error(transparent)]
    ReadSummary(#[from] ReadSummaryError),
    /// The read summary is not of the prepare whose pairs are given.
    #[error("{}: {message}; it is not the read summary of these reads", path.display())]
    Mismatch { path: PathBuf, message: String },
    #[error("{}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What the pair summary holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PairTotals {
    pub pairs: u64,
    pub virus_pairs: u64,
    /// Pairs with one mate skipped.
    pub lone_mates: u64,
}

/// One mate as the read summary has it.
struct MateRow {
    base: String,
    mate: Mate,
    call: ReadCall,
    best: Option<f64>,
}

/// Write `out` from the read summary at `read_summary` of a prepare that read `reads`
/// reads, `pairs` among them. Atomic: `out` is whole or as it was.
pub fn write_pair_summary(
    read_summary: &Path,
    pairs: &[PairRecord],
    reads: u64,
    out: &Path,
) -> Result<PairTotals, PairSummaryError> {
    let write_error = |source| PairSummaryError::Write {
        path: out.to_path_buf(),
        source,
    };
    let mismatch = |message: String| PairSummaryError::Mismatch {
        path: read_summary.to_path_buf(),
        message,
    };
    let mut writer = PairWriter {
        file: AtomicFile::create(out).map_err(write_error)?,
        line: String::new(),
        pending: None,
        totals: PairTotals::default(),
    };
    writer
        .file
        .write_all(PAIR_SUMMARY_HEADER.as_bytes())
        .map_err(write_error)?;
    let mut index = 0u64;
    let mut problem: Option<PairSummaryError> = None;
    for_each_read_summary_row(read_summary, |row| {
        let at = index;
        index += 1;
        if problem.is_some() {
            return;
        }
        let pair = pairs
            .iter()
            .find(|p| (p.first_read..p.first_read + p.reads).contains(&at));
        let result = match pair {
            None => writer.flush().map_err(write_error),
            Some(pair) => if at == pair.first_read {
                writer.flush().map_err(write_error)
            } else {
                Ok(())
            }
            .and_then(|()| match mate_row(row) {
                Ok(mate) => writer.mate(mate).map_err(write_error),
                Err(message) => Err(mismatch(format!("read {}: {message}", at + 1))),
            }),
        };
        if let Err(e) = result {
            problem = Some(e);
        }
    })?;
    if let Some(e) = problem {
        return Err(e);
    }
    writer.flush().map_err(write_error)?;
    if index != reads {
        return Err(mismatch(format!("{index} reads listed, {reads} prepared")));
    }
    writer.file.commit().map_err(write_error)?;
    Ok(writer.totals)
}

/// A read of a pair: its ID must name its mate.
fn mate_row(row: ReadSummaryRow) -> Result<MateRow, String> {
    let (base, mate) = Mate::of_read_id(&row.read_id).ok_or_else(|| {
        format!(
            "'{}' is a read of a pair but does not end in /1 or /2",
            row.read_id
        )
    })?;
    Ok(MateRow {
        base: base.to_owned(),
        mate,
        call: row.call,
        best: row.best_virus_score,
    })
}

struct PairWriter {
    file: AtomicFile,
    line: String,
    /// An R1 waiting for its R2, the next read.
    pending: Option<MateRow>,
    totals: PairTotals,
}

impl PairWriter {
    /// The next mate: an R1 waits for the read after it; an R2 completes the R1 before it
    /// when they have the same name, else stands alone (its R1 was skipped).
    fn mate(&mut self, mate: MateRow) -> std::io::Result<()> {
        match mate.mate {
            Mate::R1 => {
                self.flush()?;
                self.pending = Some(mate);
                Ok(())
            }
            Mate::R2 => match self.pending.take() {
                Some(first) if first.base == mate.base => self.write(Some(first), Some(mate)),
                other => {
                    self.pending = other;
                    self.flush()?;
                    self.write(None, Some(mate))
                }
            },
        }
    }

    /// The waiting R1, alone: its R2 was skipped.
    fn flush(&mut self) -> std::io::Result<()> {
        match self.pending.take() {
            Some(first) => self.write(Some(first), None),
            None => Ok(()),
        }
    }

    fn write(&mut self, first: Option<MateRow>, second: Option<MateRow>) -> std::io::Result<()> {
        let calls = [&first, &second].map(|m| m.as_ref().map(|m| m.call));
        let call = if calls.contains(&Some(ReadCall::Virus)) {
            ReadCall::Virus
        } else if calls.contains(&Some(ReadCall::Others)) {
            ReadCall::Others
        } else {
            ReadCall::None
        };
        let best = [&first, &second]
            .into_iter()
            .filter_map(|m| m.as_ref().and_then(|m| m.best))
            .reduce(|a, b| if b > a || a.is_nan() { b } else { a });
        let Some(base) = first.as_ref().or(second.as_ref()).map(|m| m.base.as_str()) else {
            return Ok(());
        };
        let word = |c: Option<ReadCall>| c.map_or("missing", ReadCall::as_str);
        self.line.clear();
        self.line.push_str(base);
        for field in [word(calls[0]), word(calls[1])] {
            self.line.push('\t');
            self.line.push_str(field);
        }
        self.line.push('\t');
        if let Some(best) = best {
            // The read summary's own formatting: its scores are f32s.
            numpy_f32::write(&mut self.line, best as f32);
        }
        self.line.push('\t');
        self.line.push_str(call.as_str());
        self.line.push('\n');
        self.totals.pairs += 1;
        self.totals.virus_pairs += u64::from(call == ReadCall::Virus);
        self.totals.lone_mates += u64::from(first.is_none() || second.is_none());
        self.file.write_all(self.line.as_bytes())
    }
}
