//! Tab-separated files we write (failures.tsv): one record per line, always.

/// `s` with backslashes, tabs and line breaks escaped, so that a field never splits a
/// record or a line.
pub fn escape_field(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}
