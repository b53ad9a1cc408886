//! A run's `failures.tsv`: `stage  item  kind  message`, one line per failed item, fields
//! escaped (`core::tsv`). Written when the run ends; the desktop's failures screen reads
//! it back. (`virnucpro merge` writes its own list, `merge_failures.tsv`: `core::merge`.)
use std::path::Path;

use super::error::RunFolderError;
use crate::events::{FailureKind, ItemFailure, Stage};
use crate::tsv::{read_records, record};

pub const FAILURES_HEADER: &str = "stage\titem\tkind\tmessage\n";

/// `stage  item  kind  message`, one line per failure; tabs and line breaks escaped so
/// that every record is one line of four fields.
pub fn failures_tsv(failures: &[ItemFailure]) -> String {
    let mut out = String::from(FAILURES_HEADER);
    for f in failures {
        out.push_str(&record([
            f.stage.as_str(),
            &f.item,
            f.kind.as_str(),
            &f.message,
        ]));
    }
    out
}

/// One line's failure (its fields unescaped); the error says which field is wrong.
fn parse_fields(fields: Vec<String>) -> Result<ItemFailure, String> {
    let count = fields.len();
    let Ok([stage, item, kind, message]) = <[String; 4]>::try_from(fields) else {
        return Err(format!("{count} fields instead of 4"));
    };
    let stage = Stage::ALL
        .into_iter()
        .find(|s| s.as_str() == stage)
        .ok_or_else(|| format!("stage: unknown stage {stage:?}"))?;
    let kind: FailureKind = kind
        .parse()
        .map_err(|_| format!("kind: unknown failure kind {kind:?}"))?;
    Ok(ItemFailure {
        stage,
        item,
        kind,
        message,
    })
}

/// The failures in `path` (a run's `failures.tsv`), in file order. A header that is not
/// ours, a line without four fields, or a stage or kind this version does not know is
/// an error naming the file and the line.
pub fn read_failures(path: &Path) -> Result<Vec<ItemFailure>, RunFolderError> {
    Ok(read_records(path, FAILURES_HEADER, parse_fields)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(stage: Stage, kind: FailureKind, message: &str) -> ItemFailure {
        ItemFailure {
            stage,
            item: "output_2".into(),
            kind,
            message: message.into(),
        }
    }

    #[test]
    fn failures_are_one_line_each() {
        let tsv = failures_tsv(&[failure(
            Stage::Merge,
            FailureKind::Corrupt,
            "bad\tvalue\nhere",
        )]);
        assert_eq!(
            tsv,
            "stage\titem\tkind\tmessage\nmerge\toutput_2\tcorrupt\tbad\\tvalue\\nhere\n"
        );
    }

    #[test]
    fn what_is_written_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("failures.tsv");
        let failures = [
            failure(Stage::EmbedDna, FailureKind::BadRecord, "x"),
            failure(
                Stage::Merge,
                FailureKind::Corrupt,
                "non-finite\tvalue\nin row 3 \\ here",
            ),
            failure(Stage::Classify, FailureKind::OutputWrite, ""),
        ];
        std::fs::write(&path, failures_tsv(&failures)).unwrap();
        assert_eq!(read_failures(&path).unwrap(), failures);
        std::fs::write(&path, FAILURES_HEADER).unwrap();
        assert_eq!(read_failures(&path).unwrap(), []);
    }

    fn error_of(body: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("failures.tsv");
        std::fs::write(&path, body).unwrap();
        read_failures(&path).unwrap_err().to_string()
    }

    #[test]
    fn an_unknown_kind_or_stage_or_a_foreign_file_is_an_error_naming_the_line() {
        let err = error_of(&format!("{FAILURES_HEADER}merge\toutput_1\texploded\tx\n"));
        assert!(
            err.contains("failures.tsv: line 2: kind: ") && err.contains("exploded"),
            "{err}"
        );
        let err = error_of(&format!(
            "{FAILURES_HEADER}merge\toutput_1\tcorrupt\tx\npolish\toutput_1\tcorrupt\tx\n"
        ));
        assert!(
            err.contains("line 3: stage: ") && err.contains("polish"),
            "{err}"
        );
        let err = error_of(&format!("{FAILURES_HEADER}merge\toutput_1\tcorrupt\n"));
        assert!(err.contains("line 2: 3 fields instead of 4"), "{err}");
        let err = error_of("pair\tkind\tside\tpaths\tmessage\n");
        assert!(err.contains("unexpected header"), "{err}");
    }
}
