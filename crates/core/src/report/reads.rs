//! `read_summary.tsv`: one line per input read, in input order, from the scored frames and
//! the chunked reads of `prepare` (so reads without a single kept frame are listed too).
//!
//! Columns: `read_id  chunks  frames  virus_chunks  best_virus_score  call`, where a chunk
//! is virus by the consensus rule of the highest-score report, `call` is `virus` when any
//! chunk is, `others` when frames were scored but no chunk is virus, and `none` when no
//! frame of the read was scored (no frame without a stop codon, or its shard failed).
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use super::consensus::{modified_id, nan_max};
use super::error::ReportError;
use super::{numpy_f32, PredictionRow};
use crate::atomic::AtomicFile;

/// The file name of the per-read summary, beside the two reports.
pub const READ_SUMMARY_FILE: &str = "read_summary.tsv";
pub const READ_SUMMARY_HEADER: &str =
    "read_id\tchunks\tframes\tvirus_chunks\tbest_virus_score\tcall\n";

/// The read a chunk ID (`{read}_chunk_{j}`) belongs to.
pub fn read_of_chunk(chunk: &str) -> &str {
    chunk.rsplit_once("_chunk_").map_or(chunk, |(read, _)| read)
}

#[derive(Debug, Default)]
struct ReadScores {
    frames: u64,
    best_virus: f32,
    /// Per chunk: `(chunk id, max score1, max score2)`; a read has few chunks.
    chunks: Vec<(String, f32, f32)>,
}

/// Scores per read, fed one scored frame at a time. Memory grows with the reads that have
/// scored frames (as the per-chunk consensus does), not with the frames.
#[derive(Debug, Default)]
pub struct ReadTally {
    reads: HashMap<String, ReadScores>,
}

/// Totals of a written read summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadTotals {
    pub reads: u64,
    pub chunks: u64,
    /// Scored frames.
    pub frames: u64,
    pub virus_reads: u64,
    pub virus_chunks: u64,
    /// Reads without any scored frame.
    pub unscored_reads: u64,
}

impl ReadTally {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, row: &PredictionRow) {
        let chunk = modified_id(&row.id);
        let read = read_of_chunk(chunk);
        let scores = match self.reads.get_mut(read) {
            Some(s) => s,
            None => self.reads.entry(read.to_owned()).or_default(),
        };
        if scores.frames == 0 || row.p_virus > scores.best_virus {
            scores.best_virus = row.p_virus;
        }
        scores.frames += 1;
        // Frames of a chunk are consecutive, so the last entry is nearly always the one.
        match scores.chunks.iter_mut().rev().find(|c| c.0 == chunk) {
            Some(c) => {
                c.1 = nan_max(c.1, row.p_others);
                c.2 = nan_max(c.2, row.p_virus);
            }
            None => scores
                .chunks
                .push((chunk.to_owned(), row.p_others, row.p_virus)),
        }
    }

    /// Write the summary to `path`, listing reads in the order of the chunked FASTA file
    /// `chunked` (prepare's `reads_chunked{L}.fa`).
    pub fn write(mut self, chunked: &Path, path: &Path) -> Result<ReadTotals, ReportError> {
        let io_at = |p: &Path| {
            let p = p.to_path_buf();
            move |source| ReportError::Io { path: p, source }
        };
        let input = File::open(chunked).map_err(io_at(chunked))?;
        let mut out = AtomicFile::create(path).map_err(io_at(path))?;
        out.write_all(READ_SUMMARY_HEADER.as_bytes())
            .map_err(io_at(path))?;
        let mut totals = ReadTotals::default();
        let mut current: Option<(String, u64)> = None;
        let mut line = String::new();
        for header in BufReader::new(input).lines() {
            let header = header.map_err(io_at(chunked))?;
            let Some(id) = header.strip_prefix('>') else {
                continue;
            };
            let id = id.split_whitespace().next().unwrap_or("");
            let read = read_of_chunk(id);
            match &mut current {
                Some((name, chunks)) if name == read => *chunks += 1,
                _ => {
                    if let Some((name, chunks)) = current.take() {
                        self.line(&name, chunks, &mut line, &mut totals);
                        out.write_all(line.as_bytes()).map_err(io_at(path))?;
                    }
                    current = Some((read.to_owned(), 1));
                }
            }
        }
        if let Some((name, chunks)) = current.take() {
            self.line(&name, chunks, &mut line, &mut totals);
            out.write_all(line.as_bytes()).map_err(io_at(path))?;
        }
        out.commit().map_err(io_at(path))?;
        Ok(totals)
    }

    fn line(&mut self, read: &str, chunks: u64, line: &mut String, totals: &mut ReadTotals) {
        let scores = self.reads.remove(read).unwrap_or_default();
        let virus_chunks = scores.chunks.iter().filter(|c| c.2 >= c.1).count() as u64;
        let call = match (scores.frames, virus_chunks) {
            (0, _) => "none",
            (_, 0) => "others",
            _ => "virus",
        };
        totals.reads += 1;
        totals.chunks += chunks;
        totals.frames += scores.frames;
        totals.virus_chunks += virus_chunks;
        totals.virus_reads += u64::from(virus_chunks > 0);
        totals.unscored_reads += u64::from(scores.frames == 0);
        line.clear();
        for field in [read, &chunks.to_string(), &scores.frames.to_string()] {
            line.push_str(field);
            line.push('\t');
        }
        line.push_str(&virus_chunks.to_string());
        line.push('\t');
        if scores.frames > 0 {
            numpy_f32::write(line, scores.best_virus);
        }
        line.push('\t');
        line.push_str(call);
        line.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, p_others: f32, p_virus: f32) -> PredictionRow {
        PredictionRow {
            id: id.into(),
            p_others,
            p_virus,
        }
    }

    #[test]
    fn reads_follow_the_chunked_file_and_unscored_reads_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        let chunked = dir.path().join("reads_chunked500.fa");
        std::fs::write(
            &chunked,
            ">r_chunk_1\nACGT\n>r_chunk_2\nACGT\n>empty_chunk_1\nTAA\n>s_x_chunk_1\nA\n",
        )
        .unwrap();
        let mut tally = ReadTally::new();
        for r in [
            row("r_chunk_1F1", 0.9, 0.1),
            // Virus by the consensus rule: the group's max score2 (0.95) >= max score1 (0.9).
            row("r_chunk_1R2", 0.05, 0.95),
            // Not virus: max score2 0.45 < max score1 0.7, though this frame leans virus.
            row("r_chunk_2R1", 0.4, 0.45),
            row("r_chunk_2F1", 0.7, 0.3),
            row("s_x_chunk_1F3", 0.8, 0.2),
        ] {
            tally.add(&r);
        }
        let out = dir.path().join("read_summary.tsv");
        let totals = tally.write(&chunked, &out).unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            format!(
                "{READ_SUMMARY_HEADER}r\t2\t4\t1\t0.95\tvirus\nempty\t1\t0\t0\t\tnone\n\
                 s_x\t1\t1\t0\t0.2\tothers\n"
            )
        );
        assert_eq!(
            totals,
            ReadTotals {
                reads: 3,
                chunks: 4,
                frames: 5,
                virus_reads: 1,
                virus_chunks: 1,
                unscored_reads: 1
            }
        );
    }
}
