//! Disk space: how much is free where a run writes, whether an I/O error means the disk is
//! full, and how much a run will write, estimated from its inputs before it starts.
//!
//! The estimate samples the first [`SAMPLE_BYTES`] of each input (decompressed), cuts and
//! translates the sampled reads exactly as `prepare` does (`chunk`, `frames`), and scales
//! the counts by the share of the file the sample took (for a compressed file, by the
//! compressed bytes the sample consumed). [`estimate_space`] then turns the counts into
//! the run's files, term by term ([`SpaceParts`]): a pure function of the counts and the
//! settings, so that a change of what a run keeps is a change of one term.
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::chunk::ChunkPlan;
use crate::fasta::{InputError, InputFile, ReadChecks, ReadItem, ReadStream};
use crate::frames::SixFrames;

/// Decompressed bytes of each input that the estimate reads (records are read whole, so
/// a sample ends at the first record boundary past this).
pub const SAMPLE_BYTES: u64 = 2 << 20;
/// Allocation unit assumed per file: a file takes whole blocks on disk.
const BLOCK: u64 = 4096;
/// The run's small files (`run-manifest.json`, `reports-inputs.json`, `failures.tsv`,
/// `prepare.json`, the lock), before their per-shard lines.
const RUN_FILES_BASE: u64 = 64 << 10;
/// Per shard in the run's small files (its lines in `prepare.json`, the manifest's plan and
/// the reports stamp).
const RUN_FILES_PER_SHARD: u64 = 1024;
/// A feature file's header without its IDs (the safetensors JSON, model, inputs).
const FEATURE_HEADER_BASE: u64 = 1024;
/// Per ID in a feature file's header: the ID JSON-quoted inside a JSON string (`\"id\",`).
const FEATURE_HEADER_PER_ID: u64 = 5;
/// `prediction_results.txt` per frame beyond its ID: label and two scores, tab-separated.
const RESULTS_PER_FRAME: u64 = 32;
/// `prediction_results_highestscore.csv` per chunk beyond its ID (`,False`).
const HIGHEST_PER_CHUNK: u64 = 8;
/// `read_summary.tsv` per read beyond its ID (counts, best score, call).
const SUMMARY_PER_READ: u64 = 40;
/// Line width of the chunked reads file (Biopython's 60).
const CHUNKED_LINE_WIDTH: u64 = 60;

/// Free bytes for an unprivileged writer on the disk holding `path`, or holding its nearest
/// existing ancestor when `path` does not exist yet; with the folder that was measured.
pub fn available_space(path: &Path) -> io::Result<(PathBuf, u64)> {
    let existing = nearest_existing_dir(path).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("{}: no part of the path exists", path.display()),
        )
    })?;
    let free = fs4::available_space(existing)?;
    Ok((existing.to_path_buf(), free))
}

/// The nearest folder of `path` that exists (`path` itself when it is one).
pub fn nearest_existing_dir(path: &Path) -> Option<&Path> {
    path.ancestors()
        .find(|p| !p.as_os_str().is_empty() && p.is_dir())
        .or_else(|| path.is_relative().then(|| Path::new(".")))
}

/// Whether `err` says the disk (or the user's quota on it) is full: `ENOSPC`, `EDQUOT`.
pub fn is_disk_full(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

/// The first I/O error in `err`'s chain of sources that says the disk is full.
pub fn disk_full_source<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a io::Error> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            if is_disk_full(io) {
                return Some(io);
            }
        }
        next = e.source();
    }
    None
}

/// The OS error number of the full-disk error in `err`'s chain ([`disk_full_source`]),
/// for failures that are carried as values and turned back into an `io::Error` later
/// (`io::Error::from_raw_os_error`). An error that wraps the OS error (tempfile's, with the
/// path) has only its kind: Linux's ENOSPC or EDQUOT stands for it.
pub fn disk_full_errno(err: &(dyn std::error::Error + 'static)) -> Option<i32> {
    const ENOSPC: i32 = 28;
    const EDQUOT: i32 = 122;
    let io = disk_full_source(err)?;
    io.raw_os_error().or(match io.kind() {
        io::ErrorKind::QuotaExceeded => Some(EDQUOT),
        _ => Some(ENOSPC),
    })
}

/// What a run's prepare makes of some reads: counts and the bytes of its text outputs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputCounts {
    pub reads: u64,
    pub chunks: u64,
    /// Kept frames: rows of every feature file, lines of the results.
    pub frames: u64,
    /// `reads_chunked{N}.fa`.
    pub chunked_bytes: u64,
    /// The nucleotide shards (`output_N.fa`), all together.
    pub nucleotide_bytes: u64,
    /// The protein shards (`output_N.faa`), all together.
    pub protein_bytes: u64,
    /// Frame IDs (`read_chunk_1F1`), summed: the IDs in feature files and results.
    pub frame_id_bytes: u64,
    /// Chunk IDs, summed (the highest-score report).
    pub chunk_id_bytes: u64,
    /// Read IDs, summed (the read summary).
    pub read_id_bytes: u64,
}

impl OutputCounts {
    fn add(&mut self, other: &OutputCounts) {
        self.reads += other.reads;
        self.chunks += other.chunks;
        self.frames += other.frames;
        self.chunked_bytes += other.chunked_bytes;
        self.nucleotide_bytes += other.nucleotide_bytes;
        self.protein_bytes += other.protein_bytes;
        self.frame_id_bytes += other.frame_id_bytes;
        self.chunk_id_bytes += other.chunk_id_bytes;
        self.read_id_bytes += other.read_id_bytes;
    }

    fn scaled(&self, factor: f64) -> OutputCounts {
        let s = |v: u64| (v as f64 * factor).ceil() as u64;
        OutputCounts {
            reads: s(self.reads),
            chunks: s(self.chunks),
            frames: s(self.frames),
            chunked_bytes: s(self.chunked_bytes),
            nucleotide_bytes: s(self.nucleotide_bytes),
            protein_bytes: s(self.protein_bytes),
            frame_id_bytes: s(self.frame_id_bytes),
            chunk_id_bytes: s(self.chunk_id_bytes),
            read_id_bytes: s(self.read_id_bytes),
        }
    }

    /// Add one read cut into `chunk_len` chunks and translated in six frames.
    fn add_read(&mut self, id: &str, seq: &[u8], chunk_len: usize, six: &mut SixFrames) {
        self.reads += 1;
        self.read_id_bytes += id.len() as u64;
        let plan = ChunkPlan::new(seq.len(), chunk_len);
        for (j, range) in plan.ranges().enumerate() {
            let chunk = &seq[range];
            // `{id}_chunk_{j}`, j 1-based.
            let chunk_id = (id.len() + "_chunk_".len() + digits(j + 1)) as u64;
            let bases = chunk.len() as u64;
            self.chunks += 1;
            self.chunk_id_bytes += chunk_id;
            self.chunked_bytes += 2 + chunk_id + bases + bases.div_ceil(CHUNKED_LINE_WIDTH);
            six.translate(chunk, |frame, nucleotide, protein| {
                let frame_id = chunk_id + frame.suffix().len() as u64;
                self.frames += 1;
                self.frame_id_bytes += frame_id;
                self.nucleotide_bytes += 3 + frame_id + nucleotide.len() as u64;
                self.protein_bytes += 3 + frame_id + protein.len() as u64;
            });
        }
    }
}

fn digits(n: usize) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// Why an input could not be sampled.
#[derive(Debug, thiserror::Error)]
pub enum EstimateError {
    #[error("{}: cannot read it to estimate the run's size: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Input(#[from] InputError),
}

/// Counts the bytes read from the file under a decoder.
struct Counting {
    file: File,
    read: Arc<AtomicU64>,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// What [`sample_input`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sampled {
    pub counts: OutputCounts,
    /// The whole file was read: the counts are exact, not scaled.
    pub whole: bool,
}

/// What `prepare` would make of `input`: the first `sample_bytes` (decompressed) counted
/// exactly, then scaled by the file's size over the bytes the sample consumed from it.
pub fn sample_input(
    input: &InputFile,
    chunk_len: usize,
    sample_bytes: u64,
) -> Result<Sampled, EstimateError> {
    let open = |source| EstimateError::Open {
        path: input.path.clone(),
        source,
    };
    let file = File::open(&input.path).map_err(open)?;
    let size = file.metadata().map_err(open)?.len();
    let consumed = Arc::new(AtomicU64::new(0));
    let reader = Counting {
        file,
        read: Arc::clone(&consumed),
    };
    let mut stream = ReadStream::from_reader(&input.path, reader, ReadChecks::default())?;
    let mut counts = OutputCounts::default();
    let mut six = SixFrames::new();
    let mut decoded = 0u64;
    let mut complete = true;
    while let Some(item) = stream.next() {
        if let ReadItem::Read(read) = item? {
            decoded += (read.id.len() + read.seq.len()) as u64;
            counts.add_read(&read.id, &read.seq, chunk_len, &mut six);
        }
        if decoded >= sample_bytes {
            complete = false;
            break;
        }
    }
    let consumed = consumed.load(Ordering::Relaxed);
    if complete || consumed == 0 {
        return Ok(Sampled {
            counts,
            whole: true,
        });
    }
    Ok(Sampled {
        counts: counts.scaled(size as f64 / consumed as f64),
        whole: false,
    })
}

/// [`sample_input`] for every input, added up.
pub fn sample_inputs(
    inputs: &[InputFile],
    chunk_len: usize,
) -> Result<OutputCounts, EstimateError> {
    let mut total = OutputCounts::default();
    for input in inputs {
        total.add(&sample_input(input, chunk_len, SAMPLE_BYTES)?.counts);
    }
    Ok(total)
}

/// Embedding widths: values per row of each model's feature file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Widths {
    pub dna: usize,
    pub protein: usize,
}

impl Widths {
    /// The released models: DNABERT-S 768, ESM-2 3B 2560.
    pub const RELEASED: Widths = Widths {
        dna: 768,
        protein: 2560,
    };
}

/// How long a shard's prepared FASTA files stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreparedLife {
    /// Until the end and after (kept in `prepared/`).
    Kept,
    /// Deleted once the shard's scores are written: at most `in_flight` shards have
    /// prepared files at once, none after the run.
    DeletedWhenScored { in_flight: usize },
}

/// What decides a run's files besides its reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EstimateSettings {
    /// Frame pairs per shard.
    pub shard_size: usize,
    /// Feature and merged files are kept (`--keep-features`).
    pub keep_features: bool,
    pub widths: Widths,
    pub prepared: PreparedLife,
}

/// The run's files, in bytes, by what they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpaceParts {
    /// `prepared/reads_chunked{N}.fa`: stays to the end (the read summary is made from it).
    pub reads_chunked: u64,
    /// Every shard's `output_N.fa` and `output_N.faa`.
    pub prepared_shards: u64,
    /// Of those, what is on disk at the peak.
    pub prepared_at_peak: u64,
    /// `features/output_N.{nucleotide,protein}.safetensors` (0 without `--keep-features`).
    pub features: u64,
    /// `merged/output_N.merged.safetensors` (0 without `--keep-features`).
    pub merged: u64,
    /// `scores/output_N.scores.safetensors`: IDs and two f32 per frame.
    pub scores: u64,
    /// `prediction_results.txt`, `prediction_results_highestscore.csv`, `read_summary.tsv`.
    pub reports: u64,
    /// Manifest, stamps, `prepare.json`, `failures.tsv`.
    pub run_files: u64,
}

/// A run's estimated disk use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpaceEstimate {
    /// The most the run folder holds at any moment of the run.
    pub peak: u64,
    /// What it holds after the run.
    pub after: u64,
    pub parts: SpaceParts,
    pub counts: OutputCounts,
}

/// Bytes of `files` files holding `bytes` together, each rounded up to whole blocks (on
/// average half a block more per file).
fn on_disk(bytes: u64, files: u64) -> u64 {
    bytes + files * BLOCK / 2
}

/// Feature files of `rows` rows of `dim` f32 over `shards` files, with their ID headers.
fn feature_bytes(counts: &OutputCounts, dim: usize, shards: u64) -> u64 {
    let data = counts.frames * dim as u64 * 4;
    let header = shards * FEATURE_HEADER_BASE
        + counts.frame_id_bytes
        + counts.frames * FEATURE_HEADER_PER_ID;
    on_disk(data + header, shards)
}

/// The run's files from what prepare makes of its reads: pure, term by term.
pub fn estimate_space(counts: &OutputCounts, settings: &EstimateSettings) -> SpaceEstimate {
    let shards = counts.frames.div_ceil(settings.shard_size.max(1) as u64);
    let widths = settings.widths;
    let reads_chunked = on_disk(counts.chunked_bytes, 1);
    let prepared_shards = on_disk(counts.nucleotide_bytes + counts.protein_bytes, 2 * shards);
    let prepared_at_peak = match settings.prepared {
        PreparedLife::Kept => prepared_shards,
        PreparedLife::DeletedWhenScored { in_flight } => {
            let at_once = (in_flight as u64).min(shards);
            prepared_shards * at_once / shards.max(1)
        }
    };
    let (features, merged) = if settings.keep_features {
        (
            feature_bytes(counts, widths.dna, shards)
                + feature_bytes(counts, widths.protein, shards),
            feature_bytes(counts, widths.dna + widths.protein, shards),
        )
    } else {
        (0, 0)
    };
    let scores = feature_bytes(counts, 2, shards);
    let reports = on_disk(
        counts.frame_id_bytes
            + counts.frames * RESULTS_PER_FRAME
            + counts.chunk_id_bytes
            + counts.chunks * HIGHEST_PER_CHUNK
            + counts.read_id_bytes
            + counts.reads * SUMMARY_PER_READ,
        3,
    );
    let run_files = RUN_FILES_BASE + shards * RUN_FILES_PER_SHARD;
    let parts = SpaceParts {
        reads_chunked,
        prepared_shards,
        prepared_at_peak,
        features,
        merged,
        scores,
        reports,
        run_files,
    };
    let kept_prepared = match settings.prepared {
        PreparedLife::Kept => prepared_shards,
        PreparedLife::DeletedWhenScored { .. } => 0,
    };
    let common = reads_chunked + features + merged + scores + reports + run_files;
    SpaceEstimate {
        peak: common + prepared_at_peak,
        after: common + kept_prepared,
        parts,
        counts: *counts,
    }
}

/// Sample `inputs` and estimate the run: [`sample_inputs`] then [`estimate_space`].
pub fn estimate_run(
    inputs: &[InputFile],
    chunk_len: usize,
    settings: &EstimateSettings,
) -> Result<SpaceEstimate, EstimateError> {
    Ok(estimate_space(&sample_inputs(inputs, chunk_len)?, settings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prepare::{prepare, PrepareOptions};
    use std::io::Write;

    /// The end-to-end fixture's reads (whose frames are partly stop-free, as real reads'
    /// are) `copies` times over, each copy's IDs made unique.
    fn reads(copies: usize) -> String {
        let text =
            std::fs::read_to_string(virnucpro_testkit::fixture("e2e/a500/input.fa")).unwrap();
        (0..copies)
            .map(|k| text.replace(">read_", &format!(">c{k}_read_")))
            .collect()
    }

    fn input(path: &Path) -> InputFile {
        InputFile {
            path: path.to_path_buf(),
            bytes: std::fs::metadata(path).unwrap().len(),
        }
    }

    fn within(estimate: u64, actual: u64, tolerance: f64) -> bool {
        let ratio = estimate as f64 / actual as f64;
        (1.0 - tolerance..=1.0 + tolerance).contains(&ratio)
    }

    /// Read whole, the counts are prepare's own, byte for byte.
    #[test]
    fn a_whole_sample_counts_what_prepare_writes() {
        let dir = tempfile::tempdir().unwrap();
        let fasta = dir.path().join("reads.fa");
        std::fs::write(&fasta, reads(2)).unwrap();
        let counts = sample_input(&input(&fasta), 500, u64::MAX).unwrap().counts;
        let out = dir.path().join("prepared");
        let options = PrepareOptions {
            shard_size: 100,
            threads: 1,
            ..PrepareOptions::default()
        };
        let summary = prepare(&[fasta], &out, &options, &mut |_| {}).unwrap();
        assert_eq!(counts.reads, summary.reads);
        assert_eq!(counts.chunks, summary.chunks);
        assert_eq!(counts.frames, summary.frames_kept);
        let size = |p: PathBuf| std::fs::metadata(p).unwrap().len();
        assert_eq!(counts.chunked_bytes, size(out.join(&summary.chunked)));
        let nucleotide: u64 = summary
            .shards
            .iter()
            .map(|s| size(out.join(&s.nucleotide)))
            .sum();
        let protein: u64 = summary
            .shards
            .iter()
            .map(|s| size(out.join(&s.protein)))
            .sum();
        assert_eq!(counts.nucleotide_bytes, nucleotide);
        assert_eq!(counts.protein_bytes, protein);
    }

    /// A sample of part of a plain file, scaled by the file's size, is close to the whole.
    #[test]
    fn a_partial_sample_of_a_plain_file_extrapolates() {
        let dir = tempfile::tempdir().unwrap();
        let fasta = dir.path().join("reads.fa");
        std::fs::write(&fasta, reads(24)).unwrap();
        let whole = sample_input(&input(&fasta), 500, u64::MAX).unwrap();
        assert!(whole.whole);
        let part = sample_input(&input(&fasta), 500, 512 << 10).unwrap();
        assert!(!part.whole, "the sample is a part");
        let (whole, part) = (whole.counts, part.counts);
        for (est, actual) in [
            (part.frames, whole.frames),
            (part.nucleotide_bytes, whole.nucleotide_bytes),
            (part.chunked_bytes, whole.chunked_bytes),
        ] {
            assert!(within(est, actual, 0.15), "{est} vs {actual}");
        }
    }

    /// A gzip file is scaled by the compressed bytes its sample consumed.
    #[test]
    fn a_partial_sample_of_a_gzip_file_extrapolates_by_its_compressed_size() {
        let dir = tempfile::tempdir().unwrap();
        let text = reads(24);
        let plain = dir.path().join("reads.fa");
        std::fs::write(&plain, &text).unwrap();
        let gz = dir.path().join("reads.fa.gz");
        let mut encoder = flate2::write::GzEncoder::new(
            File::create(&gz).unwrap(),
            flate2::Compression::default(),
        );
        encoder.write_all(text.as_bytes()).unwrap();
        encoder.finish().unwrap();
        let whole = sample_input(&input(&plain), 500, u64::MAX).unwrap();
        let whole_gz = sample_input(&input(&gz), 500, u64::MAX).unwrap();
        assert_eq!(whole, whole_gz, "read whole, compression changes nothing");
        let part = sample_input(&input(&gz), 500, 512 << 10).unwrap();
        assert!(!part.whole, "the sample is a part");
        let (whole, part) = (whole.counts, part.counts);
        for (est, actual) in [
            (part.frames, whole.frames),
            (part.protein_bytes, whole.protein_bytes),
        ] {
            assert!(within(est, actual, 0.15), "{est} vs {actual}");
        }
    }

    fn counts() -> OutputCounts {
        OutputCounts {
            reads: 1000,
            chunks: 2000,
            frames: 10_000,
            chunked_bytes: 1_050_000,
            nucleotide_bytes: 5_200_000,
            protein_bytes: 1_900_000,
            frame_id_bytes: 200_000,
            chunk_id_bytes: 36_000,
            read_id_bytes: 10_000,
        }
    }

    #[test]
    fn kept_features_add_feature_and_merged_rows_at_their_widths() {
        let settings = EstimateSettings {
            shard_size: 1000,
            keep_features: true,
            widths: Widths::RELEASED,
            prepared: PreparedLife::Kept,
        };
        let kept = estimate_space(&counts(), &settings);
        // 10 000 rows × (768 + 2560) f32, twice (features and merged).
        let rows = 10_000 * 3328 * 4;
        assert!(kept.parts.features >= rows && kept.parts.features < rows + rows / 50);
        assert!(kept.parts.merged >= rows && kept.parts.merged < rows + rows / 50);
        assert_eq!(kept.peak, kept.after);
        let lean = estimate_space(
            &counts(),
            &EstimateSettings {
                keep_features: false,
                ..settings
            },
        );
        assert_eq!((lean.parts.features, lean.parts.merged), (0, 0));
        assert!(lean.parts.scores > 10_000 * 8);
        assert_eq!(
            kept.after - lean.after,
            kept.parts.features + kept.parts.merged
        );
    }

    #[test]
    fn deleted_prepared_shards_count_at_the_peak_only_in_flight() {
        let settings = EstimateSettings {
            shard_size: 1000,
            keep_features: false,
            widths: Widths::RELEASED,
            prepared: PreparedLife::DeletedWhenScored { in_flight: 3 },
        };
        let e = estimate_space(&counts(), &settings);
        assert_eq!(e.parts.prepared_at_peak, e.parts.prepared_shards * 3 / 10);
        assert_eq!(e.peak - e.after, e.parts.prepared_at_peak);
    }

    #[test]
    fn a_wrapped_disk_full_error_keeps_its_errno() {
        // tempfile wraps the OS error in one of its own, with the path: only the kind is left
        // on the outer error.
        let inner = io::Error::from_raw_os_error(28);
        let wrapped = io::Error::new(inner.kind(), Wrapper(inner));
        assert_eq!(wrapped.raw_os_error(), None);
        assert_eq!(disk_full_errno(&wrapped), Some(28));
        let quota = io::Error::new(io::ErrorKind::QuotaExceeded, "quota");
        assert_eq!(disk_full_errno(&quota), Some(122));
        assert_eq!(disk_full_errno(&io::Error::from_raw_os_error(13)), None);
    }

    #[derive(Debug)]
    struct Wrapper(io::Error);

    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{} at path", self.0)
        }
    }

    impl std::error::Error for Wrapper {}

    #[test]
    fn disk_full_is_enospc_or_edquot_anywhere_in_the_chain() {
        assert!(is_disk_full(&io::Error::from_raw_os_error(28)));
        assert!(is_disk_full(&io::Error::from_raw_os_error(122)));
        assert!(!is_disk_full(&io::Error::from_raw_os_error(13)));
        let wrapped = crate::prepare::PrepareError::Output {
            path: "x".into(),
            source: io::Error::from_raw_os_error(28),
        };
        assert!(disk_full_source(&wrapped).is_some());
    }

    #[test]
    fn free_space_is_measured_at_the_nearest_existing_folder() {
        let dir = tempfile::tempdir().unwrap();
        let (measured, _free) = available_space(&dir.path().join("a/b/c")).unwrap();
        assert_eq!(measured, dir.path());
    }
}
