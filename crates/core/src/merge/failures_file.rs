//! `merge_failures.tsv`, the failure list `virnucpro merge` writes into its output folder:
//! `pair  kind  side  paths  message`, one line per failed pair, fields escaped
//! (`core::tsv`), paths joined by `;`. (A run's list is `failures.tsv`, with other
//! columns: `core::run_folder::failures`.)
use std::path::{Path, PathBuf};

use super::report::{MergeReport, Side};
use crate::events::FailureKind;
use crate::tsv::{read_records, record, TsvError};

/// The file name, in the merge's output folder.
pub const MERGE_FAILURES_FILE: &str = "merge_failures.tsv";
pub const MERGE_FAILURES_HEADER: &str = "pair\tkind\tside\tpaths\tmessage\n";

/// The file's text: the header, then one line per failed pair in the report's order.
pub fn merge_failures_tsv(report: &MergeReport) -> String {
    let mut out = String::from(MERGE_FAILURES_HEADER);
    for (pair, failure) in report.failed() {
        let paths: Vec<String> = failure
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        out.push_str(&record([
            pair.shard.as_str(),
            failure.kind.name(),
            failure.side().map_or("", Side::as_str),
            &paths.join(";"),
            &failure.to_string(),
        ]));
    }
    out
}

/// One line of `merge_failures.tsv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeFailureRow {
    pub pair: String,
    pub kind: FailureKind,
    /// The side at fault, where one is.
    pub side: Option<Side>,
    pub paths: Vec<PathBuf>,
    pub message: String,
}

fn parse_fields(fields: Vec<String>) -> Result<MergeFailureRow, String> {
    let count = fields.len();
    let Ok([pair, kind, side, paths, message]) = <[String; 5]>::try_from(fields) else {
        return Err(format!("{count} fields instead of 5"));
    };
    let side = match side.as_str() {
        "" => None,
        "nucleotide" => Some(Side::Nucleotide),
        "protein" => Some(Side::Protein),
        other => return Err(format!("side: unknown side {other:?}")),
    };
    Ok(MergeFailureRow {
        kind: kind
            .parse()
            .map_err(|_| format!("kind: unknown failure kind {kind:?}"))?,
        pair,
        side,
        paths: paths
            .split(';')
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect(),
        message,
    })
}

/// The rows of the `merge_failures.tsv` at `path`, in file order; a header that is not
/// its header, or a line that does not parse, is an error naming the file and the line.
pub fn read_merge_failures(path: &Path) -> Result<Vec<MergeFailureRow>, TsvError> {
    read_records(path, MERGE_FAILURES_HEADER, parse_fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_back_and_a_run_s_failure_list_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MERGE_FAILURES_FILE);
        std::fs::write(
            &path,
            format!(
                "{MERGE_FAILURES_HEADER}output_2\tcorrupt\tprotein\t/p/a.pt;/p/b.pt\tbad\\there\n\
                 output_3\toutput_write\t\t\tdisk full\n"
            ),
        )
        .unwrap();
        let rows = read_merge_failures(&path).unwrap();
        assert_eq!(
            rows[0],
            MergeFailureRow {
                pair: "output_2".into(),
                kind: FailureKind::Corrupt,
                side: Some(Side::Protein),
                paths: vec!["/p/a.pt".into(), "/p/b.pt".into()],
                message: "bad\there".into(),
            }
        );
        assert_eq!((rows[1].side, rows[1].paths.len()), (None, 0));

        std::fs::write(
            &path,
            format!("{MERGE_FAILURES_HEADER}output_2\texploded\t\t\tx\n"),
        )
        .unwrap();
        let err = read_merge_failures(&path).unwrap_err().to_string();
        assert!(
            err.contains("line 2: kind: ") && err.contains("exploded"),
            "{err}"
        );
        std::fs::write(&path, "stage\titem\tkind\tmessage\n").unwrap();
        let err = read_merge_failures(&path).unwrap_err().to_string();
        assert!(err.contains("unexpected header"), "{err}");
    }
}
