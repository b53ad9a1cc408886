//! Orchestration of `prepare`: options, the reader / workers / ordered-writer pipeline,
//! and moving the finished outputs into place.
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crossbeam_channel::bounded;

use super::layout::{chunked_file_name, MANIFEST_FILE, NUCLEOTIDE_DIR, PROTEIN_DIR};
use super::record::ShardInfo;
use super::render::{render, Batch, Rendered, WorkItem};
use super::writer::{StagedWriter, WriteError};
use super::FrameCounts;
use crate::cancel::CancelToken;
use crate::chunk::ChunkPlan;
use crate::fasta::{
    InputError, InputFile, ReadChecks, ReadItem, ReadStream, RecordIssue, RecordProblem,
};
use crate::frames::SixFrames;
use crate::pairs::{input_files, plan_units, InputUnit, PairRecord, Pairing};

/// Chunks per batch handed to a worker: big enough to amortise the hand-off, small enough
/// that the batches in flight stay a few MB.
const BATCH_CHUNKS: usize = 1024;
/// Reads longer than this are processed, with a warning: they are not sequencing reads.
const LONG_READ_WARNING: usize = 1_000_000;

/// Settings of one `prepare`.
#[derive(Debug, Clone)]
pub struct PrepareOptions {
    /// Expected read length `L` (300 or 500 for the released models).
    pub chunk_len: usize,
    /// Frame pairs per shard (10 000 in the original).
    pub shard_size: usize,
    /// Translation workers; 1 runs everything on the calling thread.
    pub threads: usize,
    /// Skip records with invalid characters, duplicate or missing IDs, or excess length
    /// (listed in the summary) instead of stopping. Empty records are always skipped.
    pub skip_bad_records: bool,
    pub checks: ReadChecks,
    /// Which input files are read as pairs of mates (`crate::pairs`).
    pub pairing: Pairing,
    pub cancel: CancelToken,
}

impl Default for PrepareOptions {
    fn default() -> Self {
        Self {
            chunk_len: 500,
            shard_size: 10_000,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            skip_bad_records: false,
            checks: ReadChecks::default(),
            pairing: Pairing::default(),
            cancel: CancelToken::new(),
        }
    }
}

/// What a finished `prepare` did; also written as `prepare.json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PrepareSummary {
    pub version: &'static str,
    pub inputs: Vec<InputFile>,
    /// The inputs read as pairs of mates, in reading order, and where their reads are.
    pub pairs: Vec<PairRecord>,
    pub chunk_len: usize,
    pub shard_size: usize,
    pub reads: u64,
    pub bases: u64,
    pub chunks: u64,
    pub frames_kept: u64,
    pub frames: FrameCounts,
    /// Records left out, in input order, with the reason.
    pub skipped: Vec<RecordIssue>,
    pub warnings: Vec<String>,
    /// Paths relative to the output folder.
    pub chunked: PathBuf,
    pub shards: Vec<ShardInfo>,
}

/// Running totals, reported after each batch is written.
#[derive(Debug, Clone, Copy, Default)]
pub struct PrepareProgress {
    pub reads: u64,
    pub bases: u64,
    pub chunks: u64,
    pub frames_kept: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{issue}")]
    BadRecord { issue: RecordIssue },
    #[error("cannot write {path}: {source}")]
    Output {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid settings: {0}")]
    InvalidOptions(String),
    #[error("cancelled; nothing was written")]
    Cancelled,
    #[error("internal error: a worker thread panicked")]
    WorkerPanicked,
}

impl From<WriteError> for PrepareError {
    fn from(e: WriteError) -> Self {
        PrepareError::Output {
            path: e.path,
            source: e.source,
        }
    }
}

fn output_error(path: &Path) -> impl FnOnce(std::io::Error) -> PrepareError + '_ {
    move |source| PrepareError::Output {
        path: path.to_path_buf(),
        source,
    }
}

/// Run `prepare` on `inputs` (files or folders) into `out_dir`.
pub fn prepare(
    inputs: &[PathBuf],
    out_dir: &Path,
    options: &PrepareOptions,
    progress: &mut dyn FnMut(&PrepareProgress),
) -> Result<PrepareSummary, PrepareError> {
    prepare_streaming(inputs, out_dir, options, progress, &mut |_| {})
}

/// A shard that is complete (flushed and synced) while prepare goes on.
#[derive(Debug, Clone, Copy)]
pub struct StagedShard<'a> {
    pub info: &'a ShardInfo,
    /// The staging folder the shard's relative paths are under until prepare installs its
    /// outputs; from then on they are under the output folder. The move is one rename of
    /// each side's folder, so a reader that tries the staged path first and the installed
    /// path second always finds this shard's bytes, never an older file of the same name.
    pub staged_root: &'a Path,
}

/// [`prepare`], announcing each shard as soon as it is complete, so that a caller can start
/// on shard `i` while shard `i + 1` is being written. Every shard is announced, in order,
/// before the outputs are installed.
pub fn prepare_streaming(
    inputs: &[PathBuf],
    out_dir: &Path,
    options: &PrepareOptions,
    progress: &mut dyn FnMut(&PrepareProgress),
    on_shard: &mut dyn FnMut(StagedShard),
) -> Result<PrepareSummary, PrepareError> {
    if options.chunk_len == 0 || options.shard_size == 0 || options.threads == 0 {
        return Err(PrepareError::InvalidOptions(
            "chunk length, shard size and threads must be at least 1".into(),
        ));
    }
    fs::create_dir_all(out_dir).map_err(output_error(out_dir))?;
    let files = input_files(inputs, &options.pairing, Some(out_dir))?;
    let paths: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    let plan = plan_units(&paths, &options.pairing).map_err(InputError::from)?;
    for warning in &plan.warnings {
        tracing::warn!("{warning}");
    }
    let staging = tempfile::Builder::new()
        .prefix(".prepare-staging-")
        .tempdir_in(out_dir)
        .map_err(output_error(out_dir))?;
    let mut sink = Sink {
        writer: StagedWriter::create(staging.path(), options.chunk_len, options.shard_size)?,
        totals: Totals::default(),
        progress,
        on_shard,
        announced: 0,
    };
    let mut stream = ReadStream::with_units(files.clone(), plan.units, options.checks);
    let mut report = if options.threads == 1 {
        run_inline(&mut stream, options, &mut sink)?
    } else {
        run_parallel(&mut stream, options, &mut sink)?
    };
    let pairs = pair_records(&stream);
    report.warnings.splice(0..0, plan.warnings);
    let Sink {
        writer,
        totals,
        on_shard,
        announced,
        ..
    } = sink;
    let shards = writer.finish()?;
    for info in &shards[announced..] {
        on_shard(StagedShard {
            info,
            staged_root: staging.path(),
        });
    }

    let summary = PrepareSummary {
        version: env!("CARGO_PKG_VERSION"),
        inputs: files,
        pairs,
        chunk_len: options.chunk_len,
        shard_size: options.shard_size,
        reads: totals.progress.reads,
        bases: totals.progress.bases,
        chunks: totals.progress.chunks,
        frames_kept: totals.frames.total(),
        frames: totals.frames,
        skipped: report.skipped,
        warnings: report.warnings,
        chunked: PathBuf::from(chunked_file_name(options.chunk_len)),
        shards,
    };
    install_outputs(staging.path(), out_dir, &summary)?;
    Ok(summary)
}

/// The pairs the stream read, with where their reads are among all it gave out.
fn pair_records(stream: &ReadStream) -> Vec<PairRecord> {
    let mut first_read = 0;
    let mut pairs = Vec::new();
    for (unit, &reads) in stream.units().iter().zip(stream.unit_reads()) {
        if let InputUnit::Pair { r1, r2, .. } = *unit {
            pairs.push(PairRecord {
                r1: stream.files()[r1].path.clone(),
                r2: stream.files()[r2].path.clone(),
                first_read,
                reads,
            });
        }
        first_read += reads;
    }
    pairs
}

/// The ordered end of the pipeline: writes rendered batches, reports progress and
/// announces completed shards.
struct Sink<'a> {
    writer: StagedWriter,
    totals: Totals,
    progress: &'a mut dyn FnMut(&PrepareProgress),
    on_shard: &'a mut dyn FnMut(StagedShard),
    /// Shards already announced.
    announced: usize,
}

impl Sink<'_> {
    fn accept(&mut self, batch: &Rendered) -> Result<(), WriteError> {
        self.writer.write(batch)?;
        self.totals.add(batch);
        (self.progress)(&self.totals.progress);
        let closed = self.writer.closed_shards();
        for info in &closed[self.announced..] {
            (self.on_shard)(StagedShard {
                info,
                staged_root: self.writer.staging(),
            });
        }
        self.announced = closed.len();
        Ok(())
    }
}

#[derive(Default)]
struct Totals {
    progress: PrepareProgress,
    frames: FrameCounts,
}

impl Totals {
    fn add(&mut self, batch: &Rendered) {
        self.progress.reads += batch.reads;
        self.progress.bases += batch.bases;
        self.progress.chunks += batch.chunks;
        self.progress.frames_kept += batch.frames.total();
        self.frames.add(&batch.frames);
    }
}

/// What the reader saw besides reads.
#[derive(Default)]
struct ReaderReport {
    skipped: Vec<RecordIssue>,
    warnings: Vec<String>,
}

/// Read, check and batch every record; `send` returns false when nobody listens any more.
fn read_batches(
    stream: &mut ReadStream,
    options: &PrepareOptions,
    mut send: impl FnMut(Batch) -> bool,
) -> Result<ReaderReport, PrepareError> {
    let mut report = ReaderReport::default();
    let mut batch = Batch {
        seq_no: 0,
        items: Vec::new(),
    };
    let mut batch_chunks = 0;
    let mut flush = |batch: &mut Batch, batch_chunks: &mut usize| -> bool {
        let next = Batch {
            seq_no: batch.seq_no + 1,
            items: Vec::new(),
        };
        *batch_chunks = 0;
        send(std::mem::replace(batch, next))
    };
    while let Some(item) = stream.next() {
        if options.cancel.is_cancelled() {
            return Err(PrepareError::Cancelled);
        }
        let read = match item? {
            ReadItem::Issue(issue) => {
                if issue.problem == RecordProblem::EmptySequence || options.skip_bad_records {
                    tracing::warn!("skipped {issue}");
                    report.skipped.push(issue);
                    continue;
                }
                return Err(PrepareError::BadRecord { issue });
            }
            ReadItem::Read(read) => read,
        };
        let chunks = ChunkPlan::new(read.seq.len(), options.chunk_len).len();
        if read.seq.len() > LONG_READ_WARNING {
            let warning = format!(
                "{}: {} bp is far longer than a sequencing read; it is cut into {chunks} chunks",
                read.location,
                read.seq.len()
            );
            tracing::warn!("{warning}");
            report.warnings.push(warning);
        }
        let read = Arc::new(read);
        let mut start = 0;
        while start < chunks {
            let take = (BATCH_CHUNKS - batch_chunks).min(chunks - start);
            batch.items.push(WorkItem {
                read: Arc::clone(&read),
                chunks: start..start + take,
                last_part: start + take == chunks,
            });
            start += take;
            batch_chunks += take;
            if batch_chunks >= BATCH_CHUNKS && !flush(&mut batch, &mut batch_chunks) {
                return Ok(report);
            }
        }
    }
    if options.cancel.is_cancelled() {
        return Err(PrepareError::Cancelled);
    }
    if !batch.items.is_empty() {
        flush(&mut batch, &mut batch_chunks);
    }
    Ok(report)
}

fn run_inline(
    stream: &mut ReadStream,
    options: &PrepareOptions,
    sink: &mut Sink,
) -> Result<ReaderReport, PrepareError> {
    let mut six = SixFrames::new();
    let mut write_error = None;
    let report = read_batches(stream, options, |batch| {
        let rendered = render(&batch, options.chunk_len, &mut six);
        sink.accept(&rendered)
            .map_err(|e| write_error = Some(e))
            .is_ok()
    })?;
    match write_error {
        Some(e) => Err(e.into()),
        None => Ok(report),
    }
}

fn run_parallel(
    stream: &mut ReadStream,
    options: &PrepareOptions,
    sink: &mut Sink,
) -> Result<ReaderReport, PrepareError> {
    // Tokens bound the batches in flight (queued, being translated, or waiting for their
    // turn to be written), which bounds memory whatever the input size.
    let in_flight = options.threads * 4;
    std::thread::scope(|scope| {
        let (work_tx, work_rx) = bounded::<Batch>(options.threads);
        let (done_tx, done_rx) = bounded::<Rendered>(in_flight);
        let (token_tx, token_rx) = bounded::<()>(in_flight);
        for _ in 0..in_flight {
            let _ = token_tx.send(());
        }
        let reader = scope.spawn(move || {
            read_batches(stream, options, |batch| {
                token_rx.recv().is_ok() && work_tx.send(batch).is_ok()
            })
        });
        let mut workers = Vec::new();
        for _ in 0..options.threads {
            let (work_rx, done_tx) = (work_rx.clone(), done_tx.clone());
            workers.push(scope.spawn(move || {
                let mut six = SixFrames::new();
                for batch in work_rx {
                    if done_tx
                        .send(render(&batch, options.chunk_len, &mut six))
                        .is_err()
                    {
                        break;
                    }
                }
            }));
        }
        drop((work_rx, done_tx));

        let mut pending = BTreeMap::new();
        let mut next = 0u64;
        for rendered in &done_rx {
            pending.insert(rendered.seq_no, rendered);
            while let Some(rendered) = pending.remove(&next) {
                // On error, returning drops the channels, which stops reader and workers.
                sink.accept(&rendered)?;
                let _ = token_tx.send(());
                next += 1;
            }
        }
        let report = reader.join().map_err(|_| PrepareError::WorkerPanicked)??;
        for worker in workers {
            worker.join().map_err(|_| PrepareError::WorkerPanicked)?;
        }
        if !pending.is_empty() {
            return Err(PrepareError::WorkerPanicked);
        }
        Ok(report)
    })
}

/// Move the staged outputs over the old ones. The manifest goes first (so an interrupted
/// swap leaves no manifest to trust) and comes back last.
fn install_outputs(
    staging: &Path,
    out_dir: &Path,
    summary: &PrepareSummary,
) -> Result<(), PrepareError> {
    let manifest = out_dir.join(MANIFEST_FILE);
    match fs::remove_file(&manifest) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(output_error(&manifest)(e)),
    }
    remove_other_chunked_files(out_dir, &summary.chunked)?;
    let chunked = summary.chunked.to_string_lossy().into_owned();
    for name in [chunked.as_str(), NUCLEOTIDE_DIR, PROTEIN_DIR] {
        let target = out_dir.join(name);
        crate::atomic::replace_path(
            &staging.join(name),
            &target,
            &staging.join(format!("old-{name}")),
        )
        .map_err(output_error(&target))?;
    }
    let json = serde_json::to_vec_pretty(summary).map_err(|e| output_error(&manifest)(e.into()))?;
    crate::atomic::write_atomic(&manifest, &json).map_err(output_error(&manifest))
}

/// A previous prepare with another read length left its chunked file; it no longer matches.
fn remove_other_chunked_files(out_dir: &Path, keep: &Path) -> Result<(), PrepareError> {
    let entries = fs::read_dir(out_dir).map_err(output_error(out_dir))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("reads_chunked") && name.ends_with(".fa") && Path::new(&*name) != keep {
            fs::remove_file(entry.path()).map_err(output_error(&entry.path()))?;
        }
    }
    Ok(())
}
