//! `pair_summary.tsv`, the per-pair view of `read_summary.tsv` for a run whose inputs
//! had pairs of mates (`core::pairs`): made from the read summary once this run's reports
//! are in place, and made again by every run that puts reports there (a resume too). It
//! is not one of the stamped reports (`reports-inputs.json`): it is only ever derived.
//!
//! A run whose reports went beside an earlier run's as partial reports (`publish`) makes
//! `pair_summary.partial.tsv` from `read_summary.partial.tsv` instead, and lists it with
//! them; it goes when they go (`publish::remove_partial_reports`).
use std::io;
use std::path::{Path, PathBuf};

use virnucpro_core::pairs::{PairRecord, PairSummaryError, PAIR_SUMMARY_FILE};
use virnucpro_core::run_folder::layout::{RunLayout, READ_SUMMARY_FILE};
use virnucpro_core::run_folder::manifest::{ReportsRecord, ReportsState};

use super::cleanup::remove_file_if_present;
use super::error::io_error;
use super::hub::Finished;
use super::publish::partial_name;
use super::RunError;

/// Write the pair summary beside this run's read summary when the run had pairs: at the
/// usual name beside its usual reports, at the partial name beside its partial reports.
/// Without pairs, the pair summary the run's read summary would have had is removed, and
/// without reports of this run an earlier run's stays with theirs (removed when there are
/// none). The reports record, with the partial pair summary among the partial files when
/// it was written.
pub(super) fn write_pair_summary(
    layout: &RunLayout,
    done: &Finished,
) -> Result<ReportsRecord, RunError> {
    let mut reports = done.reports.clone();
    let pairs = done
        .prepared
        .as_ref()
        .map(|p| &p.record)
        .filter(|r| !r.pairs.is_empty())
        .map(|r| (r.pairs.as_slice(), r.reads));
    let (read_summary, pair_summary) = match reports.state {
        ReportsState::Complete | ReportsState::Partial => {
            (layout.read_summary(), layout.root.join(PAIR_SUMMARY_FILE))
        }
        ReportsState::Missing => {
            remove_file_if_present(&layout.root.join(PAIR_SUMMARY_FILE))?;
            return Ok(reports);
        }
        // This run's reports, if any, are the partial ones beside the earlier.
        ReportsState::Earlier if reports.partial_files.is_empty() => return Ok(reports),
        ReportsState::Earlier => (
            layout.root.join(partial_name(READ_SUMMARY_FILE)),
            layout.root.join(partial_name(PAIR_SUMMARY_FILE)),
        ),
    };
    let Some((pairs, reads)) = pairs else {
        remove_file_if_present(&pair_summary)?;
        return Ok(reports);
    };
    write_from(&read_summary, pairs, reads, &pair_summary)?;
    if reports.state == ReportsState::Earlier {
        reports.partial_files.push(partial_name(PAIR_SUMMARY_FILE));
    }
    Ok(reports)
}

fn write_from(
    read_summary: &Path,
    pairs: &[PairRecord],
    reads: u64,
    out: &Path,
) -> Result<(), RunError> {
    match virnucpro_core::pairs::write_pair_summary(read_summary, pairs, reads, out) {
        Ok(totals) => {
            tracing::info!(
                pairs = totals.pairs,
                virus_pairs = totals.virus_pairs,
                "wrote {}",
                out.display()
            );
            Ok(())
        }
        Err(PairSummaryError::Write { path, source }) => Err(io_error(&path)(source)),
        Err(e) => Err(RunError::Io {
            path: PathBuf::from(read_summary),
            source: io::Error::other(e.to_string()),
        }),
    }
}
