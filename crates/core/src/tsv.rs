//! Tab-separated files we write (a run's `failures.tsv`, `virnucpro merge`'s
//! `merge_failures.tsv`): one record per line, always. Fields are escaped when written
//! ([`escape_field`]) and unescaped when read back ([`unescape_field`]).
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

/// `s` with backslashes, tabs and line breaks escaped, so that a field never splits a
/// record or a line.
pub fn escape_field(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

/// The inverse of [`escape_field`].
pub fn unescape_field(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Why a TSV file of ours could not be read back. Every message names the file, and the
/// line at fault.
#[derive(Debug, thiserror::Error)]
pub enum TsvError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The first line is not our header: another file, or another format.
    #[error("{}: unexpected header (not written by VirNucPro?)", path.display())]
    Header { path: PathBuf },
    /// A line that cannot be read (1-based, the header is line 1).
    #[error("{}: line {line}: {message}", path.display())]
    Line {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// Each non-empty line of `path` after `header` (with or without its line break), in one
/// streaming pass: `each` gets the line and says what is wrong with it, if anything (the
/// error then names the file and the line's number, the header being line 1). A first
/// line that is not `header` is [`TsvError::Header`].
pub fn for_each_line(
    path: &Path,
    header: &str,
    mut each: impl FnMut(&str) -> Result<(), String>,
) -> Result<(), TsvError> {
    let io = |source| TsvError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut lines = BufReader::with_capacity(1 << 20, file).lines();
    if lines.next().transpose().map_err(io)?.as_deref() != Some(header.trim_end()) {
        return Err(TsvError::Header {
            path: path.to_path_buf(),
        });
    }
    for (index, line) in lines.enumerate() {
        let line = line.map_err(io)?;
        if line.is_empty() {
            continue;
        }
        each(&line).map_err(|message| TsvError::Line {
            path: path.to_path_buf(),
            line: index + 2,
            message,
        })?;
    }
    Ok(())
}

/// The records of `path` after `header`, in file order: `parse` gets the unescaped
/// fields of each non-empty line and says what is wrong with them, if anything.
pub fn read_records<T>(
    path: &Path,
    header: &str,
    mut parse: impl FnMut(Vec<String>) -> Result<T, String>,
) -> Result<Vec<T>, TsvError> {
    let mut records = Vec::new();
    for_each_line(path, header, |line| {
        records.push(parse(line.split('\t').map(unescape_field).collect())?);
        Ok(())
    })?;
    Ok(records)
}

/// One record of escaped fields, tab-separated, with its line break.
pub fn record<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    let fields: Vec<String> = fields.into_iter().map(escape_field).collect();
    let mut line = fields.join("\t");
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescaping_inverts_escaping() {
        for s in [
            "plain",
            "a\tb",
            "a\\tb",
            "line\nbreak\r",
            "back\\slash\\",
            "\\\\n",
        ] {
            assert_eq!(unescape_field(&escape_field(s)), s);
        }
        assert_eq!(record(["a\tb", "c"]), "a\\tb\tc\n");
    }
}
