//! Reading the TSV files a run writes (`read_summary.tsv`, `prediction_results.txt`,
//! `failures.tsv`): the header must be the engine's, and every line must parse.
use std::io::BufRead;
use std::path::Path;

use crate::error::{CommandError, CommandResult};

/// The rows of `path` after `header` (with or without its line break); `parse` turns the
/// tab-separated fields of one line into a row, or `None` when they are not one.
pub fn read_rows<T>(
    path: &Path,
    header: &str,
    parse: impl Fn(Vec<&str>) -> Option<T>,
) -> CommandResult<Vec<T>> {
    read_rows_where(path, header, |_| true, |fields| parse(fields).map(Some))
}

/// [`read_rows`] in one streaming pass that parses only the lines `wanted` keeps (a cheap
/// test on the raw line), and keeps only the rows `parse` returns `Some(Some(row))` for:
/// `Some(None)` is a well-formed line that is not wanted after all.
pub fn read_rows_where<T>(
    path: &Path,
    header: &str,
    wanted: impl Fn(&str) -> bool,
    parse: impl Fn(Vec<&str>) -> Option<Option<T>>,
) -> CommandResult<Vec<T>> {
    let io = |err: std::io::Error| CommandError::io(path, &err);
    let file = std::fs::File::open(path).map_err(io)?;
    let mut lines = std::io::BufReader::with_capacity(1 << 20, file).lines();
    if lines.next().transpose().map_err(io)?.as_deref() != Some(header.trim_end()) {
        return Err(CommandError::invalid(format!(
            "{}: unexpected header (not written by VirNucPro?)",
            path.display()
        )));
    }
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let line = line.map_err(io)?;
        if line.is_empty() || !wanted(&line) {
            continue;
        }
        let row = parse(line.split('\t').collect()).ok_or_else(|| {
            CommandError::invalid(format!("{}: line {} cannot be read", path.display(), i + 2))
        })?;
        rows.extend(row);
    }
    Ok(rows)
}
