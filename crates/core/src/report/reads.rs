//! `read_summary.tsv`: one line per input read, in input order, from the scored frames and
//! the chunked reads of `prepare` (so reads without a single kept frame are listed too).
//!
//! Columns: `read_id  chunks  frames  virus_chunks  best_virus_score  call`, where a chunk
//! is virus by the consensus rule of the highest-score report, `call` is `virus` when any
//! chunk is, `others` when frames were scored but no chunk is virus, and `none` when no
//! frame of the read was scored (no frame without a stop codon, or its shard failed).
//!
//! Memory stays flat however many reads there are: scored frames come read by read in the
//! order of the chunked reads (shards in order, rows in order), so only the current read is
//! held and each finished read is appended to a spill file in the reports' folder; the
//! summary then walks the chunked reads and the spilled reads side by side. Frames that do
//! not come in that order (a read seen again after another, or a read missing from the
//! chunked file) are found at the end of that walk; the summary is then written again
//! from a map of every spilled read (memory growing with the reads, as before).
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use super::consensus::{modified_id, nan_max};
use super::error::ReportError;
use super::spill::{SpillError, SpillReader, SpillWriter};
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

/// The scores of a read, or of a stretch of its frames.
#[derive(Debug, Default)]
struct ReadScores {
    frames: u64,
    /// The first frame's score2: when NaN, it is the read's best (a NaN is never replaced).
    first_virus: f32,
    /// The NaN-skipping maximum of score2, which combines across stretches of frames.
    max_virus: f32,
    /// Per chunk: `(chunk ID after the read's, max score1, max score2)`; a read has few
    /// chunks.
    chunks: Vec<(String, f32, f32)>,
}

impl ReadScores {
    fn add(&mut self, chunk_suffix: &str, p_others: f32, p_virus: f32) {
        if self.frames == 0 {
            self.first_virus = p_virus;
            self.max_virus = p_virus;
        } else {
            self.max_virus = nan_max(self.max_virus, p_virus);
        }
        self.frames += 1;
        self.add_chunk(chunk_suffix, p_others, p_virus);
    }

    fn add_chunk(&mut self, chunk_suffix: &str, max1: f32, max2: f32) {
        // Frames of a chunk are consecutive, so the last entry is nearly always the one.
        match self.chunks.iter_mut().rev().find(|c| c.0 == chunk_suffix) {
            Some(c) => {
                c.1 = nan_max(c.1, max1);
                c.2 = nan_max(c.2, max2);
            }
            None => self.chunks.push((chunk_suffix.to_owned(), max1, max2)),
        }
    }

    /// Add the frames of `later`, which came after all of this one's: the same scores as
    /// had they been added one by one.
    fn extend(&mut self, later: ReadScores) {
        if self.frames == 0 {
            *self = later;
            return;
        }
        self.frames += later.frames;
        self.max_virus = nan_max(self.max_virus, later.max_virus);
        for (suffix, max1, max2) in later.chunks {
            self.add_chunk(&suffix, max1, max2);
        }
    }

    /// The best score2 as the summary has always given it: the first frame's, replaced by
    /// any greater one (so a first NaN stays, and later NaNs are skipped).
    fn best_virus(&self) -> f32 {
        if self.first_virus.is_nan() {
            self.first_virus
        } else {
            self.max_virus
        }
    }

    fn spill(&self, read: &str, out: &mut SpillWriter) -> Result<(), SpillError> {
        out.key(read)?;
        out.u64(self.frames)?;
        out.f32(self.first_virus)?;
        out.f32(self.max_virus)?;
        out.u64(self.chunks.len() as u64)?;
        for (suffix, max1, max2) in &self.chunks {
            out.key(suffix)?;
            out.f32(*max1)?;
            out.f32(*max2)?;
        }
        Ok(())
    }

    /// The next spilled read, `None` at the end.
    fn unspill(input: &mut SpillReader) -> Result<Option<(String, ReadScores)>, SpillError> {
        if input.at_end()? {
            return Ok(None);
        }
        let read = input.key()?;
        let mut scores = ReadScores {
            frames: input.u64()?,
            first_virus: input.f32()?,
            max_virus: input.f32()?,
            chunks: Vec::new(),
        };
        for _ in 0..input.u64()? {
            scores
                .chunks
                .push((input.key()?, input.f32()?, input.f32()?));
        }
        Ok(Some((read, scores)))
    }
}

/// Scores per read, fed one scored frame at a time. Memory holds the current read only;
/// finished reads are spilled to the reports' folder (see the module's notes).
#[derive(Debug)]
pub struct ReadTally {
    dir: PathBuf,
    current: Option<(String, ReadScores)>,
    /// Finished reads, in the order they came; created with the first.
    spill: Option<SpillWriter>,
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

/// Where the summary's lines take each read's scores from.
enum ScoresSource {
    /// The spilled reads in order, each taken when the chunked reads reach it.
    InOrder(Option<(String, ReadScores)>),
    /// Every spilled read, a read's stretches combined.
    Map(HashMap<String, ReadScores>),
}

impl ReadTally {
    /// A tally spilling finished reads to folder `spill_dir` (the reports' folder).
    pub fn new(spill_dir: &Path) -> Self {
        Self {
            dir: spill_dir.to_path_buf(),
            current: None,
            spill: None,
        }
    }

    /// Add one scored frame. Fails only when a finished read cannot be spilled.
    pub fn add(&mut self, row: &PredictionRow) -> Result<(), ReportError> {
        let chunk = modified_id(&row.id);
        let read = read_of_chunk(chunk);
        // `read` is a prefix of `chunk`: the suffix tells the read's chunks apart.
        let suffix = &chunk[read.len()..];
        match &mut self.current {
            Some((name, scores)) if name == read => scores.add(suffix, row.p_others, row.p_virus),
            _ => {
                self.finish_read().map_err(|e| e.at(&self.dir))?;
                let mut scores = ReadScores::default();
                scores.add(suffix, row.p_others, row.p_virus);
                self.current = Some((read.to_owned(), scores));
            }
        }
        Ok(())
    }

    /// Spill the current read.
    fn finish_read(&mut self) -> Result<(), SpillError> {
        let Some((read, scores)) = self.current.take() else {
            return Ok(());
        };
        let spill = match &mut self.spill {
            Some(spill) => spill,
            None => self.spill.insert(SpillWriter::create(&self.dir)?),
        };
        scores.spill(&read, spill)
    }

    /// Write the summary to `path`, listing reads in the order of the chunked FASTA file
    /// `chunked` (prepare's `reads_chunked{L}.fa`), which lists each read once.
    pub fn write(mut self, chunked: &Path, path: &Path) -> Result<ReadTotals, ReportError> {
        let dir = self.dir.clone();
        let spilled = |e: SpillError| e.at(&dir);
        self.finish_read().map_err(spilled)?;
        let mut reads = match self.spill.take() {
            Some(spill) => Some(spill.into_reader().map_err(spilled)?),
            None => None,
        };
        let first = match &mut reads {
            Some(reads) => ReadScores::unspill(reads).map_err(spilled)?,
            None => None,
        };
        let mut source = ScoresSource::InOrder(first);
        let next = |reads: &mut Option<SpillReader>| match reads {
            Some(reads) => ReadScores::unspill(reads).map_err(spilled),
            None => Ok(None),
        };
        let (out, totals) =
            write_lines(chunked, path, |read| source.take(read, || next(&mut reads)))?;
        if let ScoresSource::InOrder(None) = source {
            out.commit().map_err(|e| io_error(path, e))?;
            return Ok(totals);
        }
        // A spilled read was left over: the frames did not come in the chunked order.
        drop(out);
        tracing::warn!(
            "scored frames did not come in the order of {}: summarising reads from a map",
            chunked.display()
        );
        let map = match &mut reads {
            Some(reads) => spilled_map(reads).map_err(spilled)?,
            None => HashMap::new(),
        };
        let mut source = ScoresSource::Map(map);
        let (out, totals) = write_lines(chunked, path, |read| source.take(read, || Ok(None)))?;
        out.commit().map_err(|e| io_error(path, e))?;
        Ok(totals)
    }
}

impl ScoresSource {
    /// The scores of `read`, the next read of the chunked file; `next` reads the next
    /// spilled read.
    fn take(
        &mut self,
        read: &str,
        next: impl FnOnce() -> Result<Option<(String, ReadScores)>, ReportError>,
    ) -> Result<ReadScores, ReportError> {
        match self {
            ScoresSource::Map(map) => Ok(map.remove(read).unwrap_or_default()),
            ScoresSource::InOrder(head) => match head {
                Some((name, _)) if name == read => {
                    let taken = std::mem::replace(head, next()?);
                    Ok(taken.map(|(_, scores)| scores).unwrap_or_default())
                }
                // Not scored, or out of order (then the head is left over at the end).
                _ => Ok(ReadScores::default()),
            },
        }
    }
}

/// Every spilled read from the start, the stretches of a read combined in order.
fn spilled_map(reads: &mut SpillReader) -> Result<HashMap<String, ReadScores>, SpillError> {
    reads.rewind()?;
    let mut map: HashMap<String, ReadScores> = HashMap::new();
    while let Some((read, scores)) = ReadScores::unspill(reads)? {
        map.entry(read).or_default().extend(scores);
    }
    Ok(map)
}

fn io_error(path: &Path, source: std::io::Error) -> ReportError {
    ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The summary of the reads of `chunked`, in its order, each with the scores
/// `scores_of(read)` gives; not yet in place (the caller commits it).
fn write_lines(
    chunked: &Path,
    path: &Path,
    mut scores_of: impl FnMut(&str) -> Result<ReadScores, ReportError>,
) -> Result<(AtomicFile, ReadTotals), ReportError> {
    let input = File::open(chunked).map_err(|e| io_error(chunked, e))?;
    let mut out = AtomicFile::create(path).map_err(|e| io_error(path, e))?;
    out.write_all(READ_SUMMARY_HEADER.as_bytes())
        .map_err(|e| io_error(path, e))?;
    let mut totals = ReadTotals::default();
    let mut current: Option<(String, u64)> = None;
    let mut line = String::new();
    let mut put = |name: &str, chunks, out: &mut AtomicFile, totals: &mut ReadTotals| {
        let scores = scores_of(name)?;
        summary_line(name, chunks, &scores, &mut line, totals);
        out.write_all(line.as_bytes())
            .map_err(|e| io_error(path, e))
    };
    for header in BufReader::new(input).lines() {
        let header = header.map_err(|e| io_error(chunked, e))?;
        let Some(id) = header.strip_prefix('>') else {
            continue;
        };
        let id = id.split_whitespace().next().unwrap_or("");
        let read = read_of_chunk(id);
        match &mut current {
            Some((name, chunks)) if name == read => *chunks += 1,
            _ => {
                if let Some((name, chunks)) = current.take() {
                    put(&name, chunks, &mut out, &mut totals)?;
                }
                current = Some((read.to_owned(), 1));
            }
        }
    }
    if let Some((name, chunks)) = current.take() {
        put(&name, chunks, &mut out, &mut totals)?;
    }
    Ok((out, totals))
}

fn summary_line(
    read: &str,
    chunks: u64,
    scores: &ReadScores,
    line: &mut String,
    totals: &mut ReadTotals,
) {
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
        numpy_f32::write(line, scores.best_virus());
    }
    line.push('\t');
    line.push_str(call);
    line.push('\n');
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
        let mut tally = ReadTally::new(dir.path());
        for r in [
            row("r_chunk_1F1", 0.9, 0.1),
            // Virus by the consensus rule: the group's max score2 (0.95) >= max score1 (0.9).
            row("r_chunk_1R2", 0.05, 0.95),
            // Not virus: max score2 0.45 < max score1 0.7, though this frame leans virus.
            row("r_chunk_2R1", 0.4, 0.45),
            row("r_chunk_2F1", 0.7, 0.3),
            row("s_x_chunk_1F3", 0.8, 0.2),
        ] {
            tally.add(&r).unwrap();
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
