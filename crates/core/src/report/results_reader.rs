//! Reading `prediction_results.txt` back (the file [`super::writer`] writes), a read at a
//! time: the desktop's results screen shows one read's scored frames when it is picked.
use std::path::Path;

use super::consensus::modified_id;
use super::reads::read_of_chunk;
use super::writer::RESULTS_HEADER;
use super::Label;
use crate::tsv::{for_each_line, TsvError};

/// One line of `prediction_results.txt`: a scored frame.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRow {
    /// `{read}_chunk_{j}` + strand and frame (`read_1_chunk_2R3`).
    pub sequence_id: String,
    pub read_id: String,
    /// The chunk's number `j`.
    pub chunk: u64,
    /// Strand and frame, `F1`..`R3`.
    pub frame: String,
    pub prediction: Label,
    /// P(others), `score1`.
    pub score1: f64,
    /// P(virus), `score2`.
    pub score2: f64,
}

fn parse_row(line: &str) -> Result<ResultRow, String> {
    let fields: Vec<&str> = line.split('\t').collect();
    let [id, prediction, score1, score2] = fields[..] else {
        return Err(format!("{} fields instead of 4", fields.len()));
    };
    let chunk_id = modified_id(id);
    let chunk = chunk_id
        .rsplit_once("_chunk_")
        .and_then(|(_, j)| j.parse().ok())
        .ok_or_else(|| format!("{id:?} is not a chunk ID with its frame"))?;
    let score = |name: &str, value: &str| {
        value
            .parse::<f64>()
            .map_err(|_| format!("{name} {value:?} is not a number"))
    };
    Ok(ResultRow {
        sequence_id: id.to_owned(),
        read_id: read_of_chunk(chunk_id).to_owned(),
        chunk,
        frame: id[chunk_id.len()..].to_owned(),
        prediction: match prediction {
            "virus" => Label::Virus,
            "others" => Label::Others,
            other => return Err(format!("prediction {other:?} is not virus or others")),
        },
        score1: score("score1", score1)?,
        score2: score("score2", score2)?,
    })
}

/// The rows of the `prediction_results.txt` at `path` whose line `wanted` keeps (a cheap
/// test on the raw line, such as its start) and whose row `keep` keeps, in file order, in
/// one streaming pass that parses only the wanted lines. A header that is not the
/// report's, or a wanted line that does not parse, is an error naming the file and line.
pub fn read_results_where(
    path: &Path,
    wanted: impl Fn(&str) -> bool,
    keep: impl Fn(&ResultRow) -> bool,
) -> Result<Vec<ResultRow>, TsvError> {
    let mut rows = Vec::new();
    for_each_result_row(path, wanted, |row| {
        if keep(&row) {
            rows.push(row);
        }
    })?;
    Ok(rows)
}

/// Each row of the `prediction_results.txt` at `path` whose line `wanted` keeps, in file
/// order, in one streaming pass; errors as [`read_results_where`]'s.
pub fn for_each_result_row(
    path: &Path,
    wanted: impl Fn(&str) -> bool,
    mut each: impl FnMut(ResultRow),
) -> Result<(), TsvError> {
    for_each_line(path, RESULTS_HEADER, |line| {
        if wanted(line) {
            each(parse_row(line)?);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_s_rows_are_read_and_a_foreign_value_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prediction_results.txt");
        std::fs::write(
            &path,
            format!(
                "{RESULTS_HEADER}r1_chunk_1F1\tothers\t0.9\t0.1\nr10_chunk_1F2\tvirus\t0.3\t0.7\n\
                 r1_chunk_2R3\tvirus\t0.05\t0.95\n"
            ),
        )
        .unwrap();
        let rows =
            read_results_where(&path, |l| l.starts_with("r1"), |r| r.read_id == "r1").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[1],
            ResultRow {
                sequence_id: "r1_chunk_2R3".into(),
                read_id: "r1".into(),
                chunk: 2,
                frame: "R3".into(),
                prediction: Label::Virus,
                score1: 0.05,
                score2: 0.95,
            }
        );
        std::fs::write(
            &path,
            format!("{RESULTS_HEADER}r1_chunk_1F1\tmaybe\t0.9\t0.1\n"),
        )
        .unwrap();
        let err = read_results_where(&path, |_| true, |_| true)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("prediction_results.txt: line 2: ") && err.contains("maybe"),
            "{err}"
        );
    }
}
