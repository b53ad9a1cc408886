//! Where a run's new reports go. The classify stage writes them into a staging folder
//! (`.reports-new/`); at the end the run moves them into place, so that a run that does
//! not complete never replaces reports it cannot match:
//!
//! - a complete run (no failure) puts its reports at the usual names, replacing earlier
//!   ones, and removes any partial reports an earlier run left;
//! - a run with failures puts its reports at the usual names only when there are none;
//!   otherwise the earlier ones stay, and its own go beside them as
//!   `prediction_results.partial.txt`, `prediction_results_highestscore.partial.csv` and
//!   `read_summary.partial.tsv` (and `pair_summary.partial.tsv` from it when the reads had
//!   pairs, written by `pairs` after these are in place);
//! - a cancelled or stopped run puts nothing in place.
//!
//! The stamp of the usual reports (`reports-inputs.json`) is removed before they are
//! replaced and written after, so it never describes other reports than those.
use std::io;
use std::path::{Path, PathBuf};

use virnucpro_core::atomic::sync_dir;

use virnucpro_core::pairs::PAIR_SUMMARY_FILE;
use virnucpro_core::run_folder::layout::RunLayout;
use virnucpro_core::run_folder::manifest::{ReportsRecord, ReportsState};
use virnucpro_core::run_folder::reports_stamp;

/// Inserted before the extension of a partial report's name.
const PARTIAL_TAG: &str = ".partial";

/// `prediction_results.txt` → `prediction_results.partial.txt`.
pub fn partial_name(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}{PARTIAL_TAG}.{ext}"),
        None => format!("{name}{PARTIAL_TAG}"),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The partial reports' paths, in the order of [`reports_stamp::outputs`].
pub fn partial_outputs(layout: &RunLayout) -> Vec<PathBuf> {
    reports_stamp::outputs(layout)
        .iter()
        .map(|p| layout.root.join(partial_name(&file_name(p))))
        .collect()
}

fn staged_outputs(layout: &RunLayout) -> Vec<PathBuf> {
    reports_stamp::outputs(layout)
        .iter()
        .map(|p| layout.reports_staging().join(file_name(p)))
        .collect()
}

/// Whether any of the usual reports is in the folder.
pub fn usual_reports_exist(layout: &RunLayout) -> bool {
    reports_stamp::outputs(layout).iter().any(|p| p.exists())
}

/// What the usual reports are when this run put none of its own in place.
pub fn untouched(layout: &RunLayout) -> ReportsRecord {
    ReportsRecord {
        state: if usual_reports_exist(layout) {
            ReportsState::Earlier
        } else {
            ReportsState::Missing
        },
        partial_files: Vec::new(),
    }
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Move the staged reports to `targets` (same file system: each rename is atomic).
fn move_staged(layout: &RunLayout, targets: &[PathBuf]) -> io::Result<()> {
    for (staged, target) in staged_outputs(layout).iter().zip(targets) {
        std::fs::rename(staged, target)?;
    }
    sync_dir(&layout.root)
}

/// Put the staged reports where they belong (see the module docs). `complete`: the run
/// had no failure. The caller stamps the usual reports when the state is `Complete` or
/// `Partial`.
pub fn publish(layout: &RunLayout, complete: bool) -> io::Result<ReportsRecord> {
    let record = if complete || !usual_reports_exist(layout) {
        remove_if_present(&layout.reports_stamp())?;
        move_staged(layout, &reports_stamp::outputs(layout))?;
        remove_partial_reports(layout)?;
        ReportsRecord {
            state: if complete {
                ReportsState::Complete
            } else {
                ReportsState::Partial
            },
            partial_files: Vec::new(),
        }
    } else {
        let partial = partial_outputs(layout);
        move_staged(layout, &partial)?;
        tracing::warn!(
            "this run did not complete its reports: the earlier ones are kept, and this run's \
             are beside them ({})",
            partial
                .iter()
                .map(|p| file_name(p))
                .collect::<Vec<_>>()
                .join(", ")
        );
        ReportsRecord {
            state: ReportsState::Earlier,
            partial_files: partial.iter().map(|p| file_name(p)).collect(),
        }
    };
    remove_staging(layout);
    Ok(record)
}

/// Partial reports left by an earlier run, the pair summary made from them too: out of
/// date once the usual ones are current.
pub fn remove_partial_reports(layout: &RunLayout) -> io::Result<()> {
    let mut partial = partial_outputs(layout);
    partial.push(layout.root.join(partial_name(PAIR_SUMMARY_FILE)));
    partial.iter().try_for_each(|p| remove_if_present(p))
}

/// The staging folder and whatever an unfinished classify left in it.
pub fn remove_staging(layout: &RunLayout) {
    let staging = layout.reports_staging();
    match std::fs::remove_dir_all(&staging) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            tracing::warn!("cannot remove {}: {e}", staging.display())
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(layout: &RunLayout, text: &str) {
        std::fs::create_dir_all(layout.reports_staging()).unwrap();
        for path in staged_outputs(layout) {
            std::fs::write(path, text).unwrap();
        }
    }

    fn read_all(paths: &[PathBuf]) -> Vec<String> {
        paths
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .collect()
    }

    #[test]
    fn partial_names_keep_the_extension() {
        assert_eq!(
            partial_name("prediction_results.txt"),
            "prediction_results.partial.txt"
        );
        assert_eq!(
            partial_name("prediction_results_highestscore.csv"),
            "prediction_results_highestscore.partial.csv"
        );
        assert_eq!(partial_name("read_summary.tsv"), "read_summary.partial.tsv");
    }

    #[test]
    fn only_a_complete_run_replaces_reports() {
        let dir = tempfile::tempdir().unwrap();
        let layout = RunLayout::new(dir.path());
        let usual = reports_stamp::outputs(&layout).to_vec();
        stage(&layout, "first, partial");
        let record = publish(&layout, false).unwrap();
        assert_eq!(record.state, ReportsState::Partial);
        assert_eq!(read_all(&usual), ["first, partial"; 3]);

        stage(&layout, "second, partial");
        let record = publish(&layout, false).unwrap();
        assert_eq!(record.state, ReportsState::Earlier);
        assert_eq!(read_all(&usual), ["first, partial"; 3]);
        assert_eq!(read_all(&partial_outputs(&layout)), ["second, partial"; 3]);
        assert_eq!(
            record.partial_files,
            [
                "prediction_results.partial.txt",
                "prediction_results_highestscore.partial.csv",
                "read_summary.partial.tsv"
            ]
        );
        assert!(!layout.reports_staging().exists());
        // Written beside them by `pairs` when the reads had pairs.
        let pair_summary = layout.root.join("pair_summary.partial.tsv");
        std::fs::write(&pair_summary, "second, partial").unwrap();

        stage(&layout, "third, complete");
        let record = publish(&layout, true).unwrap();
        assert_eq!(record.state, ReportsState::Complete);
        assert_eq!(read_all(&usual), ["third, complete"; 3]);
        assert!(partial_outputs(&layout).iter().all(|p| !p.exists()));
        assert!(!pair_summary.exists(), "goes with the partial reports");
    }
}
