//! `pair_summary.tsv`, the per-pair view of `read_summary.tsv` for a run whose inputs
//! had pairs of mates (`core::pairs`): made from the read summary once this run's reports
//! are in place, and made again by every run that puts reports there (a resume too). It
//! is not one of the stamped reports (`reports-inputs.json`): it is only ever derived.
use std::io;

use virnucpro_core::pairs::{PairSummaryError, PAIR_SUMMARY_FILE};
use virnucpro_core::run_folder::layout::RunLayout;
use virnucpro_core::run_folder::manifest::ReportsState;

use super::cleanup::remove_file_if_present;
use super::error::io_error;
use super::hub::Finished;
use super::RunError;

/// Write the pair summary beside this run's read summary when the run had pairs. Without
/// pairs, or without reports, an earlier run's pair summary is removed; beside an earlier
/// run's reports (kept), theirs stays.
pub(super) fn write_pair_summary(layout: &RunLayout, done: &Finished) -> Result<(), RunError> {
    let path = layout.root.join(PAIR_SUMMARY_FILE);
    let record = done.prepared.as_ref().map(|p| &p.record);
    match done.reports.state {
        ReportsState::Earlier => return Ok(()),
        ReportsState::Missing => return remove_file_if_present(&path),
        ReportsState::Complete | ReportsState::Partial => {}
    }
    let Some(record) = record.filter(|r| !r.pairs.is_empty()) else {
        return remove_file_if_present(&path);
    };
    let read_summary = layout.read_summary();
    match virnucpro_core::pairs::write_pair_summary(
        &read_summary,
        &record.pairs,
        record.reads,
        &path,
    ) {
        Ok(totals) => {
            tracing::info!(
                pairs = totals.pairs,
                virus_pairs = totals.virus_pairs,
                "wrote {}",
                path.display()
            );
            Ok(())
        }
        Err(PairSummaryError::Write { path, source }) => Err(io_error(&path)(source)),
        Err(e) => Err(RunError::Io {
            path: read_summary,
            source: io::Error::other(e.to_string()),
        }),
    }
}
