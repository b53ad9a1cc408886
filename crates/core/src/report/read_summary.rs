//! Reading `read_summary.tsv` back (the file [`super::reads`] writes): for the summary
//! across samples and for the desktop's results screen. One reader, checked line by line.
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::error::ReadSummaryError;
use super::reads::READ_SUMMARY_HEADER;

/// A read's `call`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadCall {
    /// Some chunk of the read is virus.
    Virus,
    /// Frames were scored, no chunk is virus.
    Others,
    /// No frame of the read was scored.
    None,
}

impl ReadCall {
    pub const ALL: [ReadCall; 3] = [ReadCall::Virus, ReadCall::Others, ReadCall::None];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Virus => "virus",
            Self::Others => "others",
            Self::None => "none",
        }
    }
}

/// One line of `read_summary.tsv`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadSummaryRow {
    pub read_id: String,
    pub chunks: u64,
    /// Scored frames.
    pub frames: u64,
    pub virus_chunks: u64,
    /// Empty in the file when no frame was scored.
    pub best_virus_score: Option<f64>,
    pub call: ReadCall,
}

fn parse_row(line: &str) -> Result<ReadSummaryRow, String> {
    let fields: Vec<&str> = line.split('\t').collect();
    let [read_id, chunks, frames, virus_chunks, best, call] = fields[..] else {
        return Err(format!("{} fields instead of 6", fields.len()));
    };
    let count = |name: &str, value: &str| {
        value
            .parse::<u64>()
            .map_err(|_| format!("{name} {value:?} is not a count"))
    };
    let best_virus_score = if best.is_empty() {
        None
    } else {
        Some(
            best.parse::<f64>()
                .map_err(|_| format!("best_virus_score {best:?} is not a number"))?,
        )
    };
    Ok(ReadSummaryRow {
        read_id: read_id.to_owned(),
        chunks: count("chunks", chunks)?,
        frames: count("frames", frames)?,
        virus_chunks: count("virus_chunks", virus_chunks)?,
        best_virus_score,
        call: ReadCall::ALL
            .into_iter()
            .find(|c| c.as_str() == call)
            .ok_or_else(|| format!("call {call:?} is not virus, others or none"))?,
    })
}

/// Each row of the `read_summary.tsv` at `path`, in file order, in one streaming pass.
/// A header that is not the read summary's, or a line that does not parse, is an error
/// naming the file and the line.
pub fn for_each_read_summary_row(
    path: &Path,
    mut each: impl FnMut(ReadSummaryRow),
) -> Result<(), ReadSummaryError> {
    let io_error = |source| ReadSummaryError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bad = |line: usize, message: String| ReadSummaryError::Format {
        path: path.to_path_buf(),
        line,
        message,
    };
    let file = std::fs::File::open(path).map_err(io_error)?;
    let mut lines = BufReader::with_capacity(1 << 20, file).lines();
    let header = lines.next().transpose().map_err(io_error)?;
    if header.as_deref() != Some(READ_SUMMARY_HEADER.trim_end()) {
        return Err(bad(
            1,
            format!(
                "the header is not {:?}: not a read summary",
                READ_SUMMARY_HEADER.trim_end()
            ),
        ));
    }
    for (index, line) in lines.enumerate() {
        let line = line.map_err(io_error)?;
        each(parse_row(&line).map_err(|message| bad(index + 2, message))?);
    }
    Ok(())
}

/// Every row of the `read_summary.tsv` at `path` (see [`for_each_read_summary_row`]).
pub fn read_read_summary(path: &Path) -> Result<Vec<ReadSummaryRow>, ReadSummaryError> {
    let mut rows = Vec::new();
    for_each_read_summary_row(path, |row| rows.push(row))?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_with_their_calls_and_scores() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("read_summary.tsv");
        std::fs::write(
            &path,
            format!("{READ_SUMMARY_HEADER}r\t2\t4\t1\t0.95\tvirus\nempty\t1\t0\t0\t\tnone\n"),
        )
        .unwrap();
        let rows = read_read_summary(&path).unwrap();
        assert_eq!(
            rows[0],
            ReadSummaryRow {
                read_id: "r".into(),
                chunks: 2,
                frames: 4,
                virus_chunks: 1,
                best_virus_score: Some(0.95),
                call: ReadCall::Virus,
            }
        );
        assert_eq!(
            (rows[1].best_virus_score, rows[1].call),
            (None, ReadCall::None)
        );
        std::fs::write(
            &path,
            format!("{READ_SUMMARY_HEADER}r\t2\t4\t1\thigh\tvirus\n"),
        )
        .unwrap();
        let err = read_read_summary(&path).unwrap_err().to_string();
        assert!(
            err.contains(":2:") && err.contains("best_virus_score \"high\""),
            "{err}"
        );
    }
}
