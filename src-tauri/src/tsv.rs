//! Reading the TSV files a run writes (`read_summary.tsv`, `prediction_results.txt`,
//! `failures.tsv`): the header must be the engine's, and every line must parse.
use std::path::Path;

use crate::error::{CommandError, CommandResult};

/// The rows of `path` after `header` (with or without its line break); `parse` turns the
/// tab-separated fields of one line into a row, or `None` when they are not one.
pub fn read_rows<T>(
    path: &Path,
    header: &str,
    parse: impl Fn(Vec<&str>) -> Option<T>,
) -> CommandResult<Vec<T>> {
    let text = std::fs::read_to_string(path).map_err(CommandError::io_at(path))?;
    let mut lines = text.lines();
    if lines.next() != Some(header.trim_end()) {
        return Err(CommandError::invalid(format!(
            "{}: unexpected header (not written by VirNucPro?)",
            path.display()
        )));
    }
    lines
        .enumerate()
        .filter(|(_, line)| !line.is_empty())
        .map(|(i, line)| {
            parse(line.split('\t').collect()).ok_or_else(|| {
                CommandError::invalid(format!("{}: line {} cannot be read", path.display(), i + 2))
            })
        })
        .collect()
}
