//! Reading reads: finding the input files, decoding them (plain, .gz, .bz2, .xz, .zst, by
//! their magic bytes) with `needletail`, and checking every record.
//!
//! Record ID = header text up to the first whitespace (as Biopython's `record.id`), CRLF is
//! tolerated, spaces inside sequence lines are dropped (as Biopython does). Every problem
//! names the file, the record (number, ID, line) and what is wrong.
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use needletail::errors::ParseErrorKind;

use crate::input_paths::{expand, PathError};
use crate::pairs::{InputUnit, Mate, MateStream};
use needletail::FastxReader;
use seen_ids::{ExactIds, Fingerprints, Seen, SeenIds, REMAINDER_BITS};

mod seen_ids;

/// The file name endings of what the reader reads (FASTA, including protein `.faa`, and
/// FASTQ), matched without regard to case, after an optional [`COMPRESSION_SUFFIXES`] one.
/// The one list: every command that takes FASTA files from a folder uses it
/// ([`looks_like_fasta`]), and `embed` names its outputs by it ([`fasta_stem`]).
pub const FASTA_EXTENSIONS: &[&str] = &[
    "fa", "fasta", "fna", "faa", "fas", "ffn", "frn", "fsa", "fq", "fastq",
];
/// Compression suffixes of the files the reader decodes (it tells the formats apart by
/// their magic bytes: gzip and BGZF, bzip2, xz, zstd).
pub const COMPRESSION_SUFFIXES: &[&str] = &["gz", "bgz", "bz2", "xz", "zst", "zstd"];

/// One input file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InputFile {
    pub path: PathBuf,
    /// Size on disk (compressed size for compressed files).
    pub bytes: u64,
}

/// Problems with the input as a whole; each stops the work.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(transparent)]
    Path(#[from] PathError),
    #[error("{path}: the folder holds no FASTA files (looked for *.{{{}}}, optionally compressed)", FASTA_EXTENSIONS.join(","))]
    EmptyFolder { path: PathBuf },
    #[error("no input files given")]
    NoInputs,
    #[error("{path}: the file is empty")]
    EmptyFile { path: PathBuf },
    #[error("{path}: not a FASTA file: {detail}")]
    NotFasta { path: PathBuf, detail: String },
    #[error("{path}: the data ends abruptly after record {after_record} (truncated or corrupt file): {detail}")]
    Truncated {
        path: PathBuf,
        after_record: u64,
        detail: String,
    },
    /// Read again to check a read ID, the inputs had fewer records than the first time.
    #[error("{path}: the input files changed while they were read (reading them again to check a read ID, they ended before {records} records)")]
    ChangedWhileRead { path: PathBuf, records: u64 },
    /// Paired files that are not mates, or a pairing that cannot be.
    #[error(transparent)]
    Pair(Box<crate::pairs::PairError>),
}

impl From<crate::pairs::PairError> for InputError {
    fn from(error: crate::pairs::PairError) -> Self {
        InputError::Pair(Box::new(error))
    }
}

/// Where a record is: file, 1-based record number within the file, header line, ID.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordLocation {
    pub file: PathBuf,
    pub record: u64,
    pub line: u64,
    pub id: String,
}

impl fmt::Display for RecordLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: record {} ('{}', line {})",
            self.file.display(),
            self.record,
            self.id,
            self.line
        )
    }
}

/// What is wrong with one record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordProblem {
    /// A header with no sequence (the original crashes on it).
    EmptySequence,
    /// A header with no ID before the first whitespace.
    EmptyId,
    /// The header is not UTF-8 text.
    HeaderNotText,
    /// A byte that is not a nucleotide or IUPAC code (1-based position in the sequence).
    InvalidCharacter { position: u64, byte: u8 },
    /// The ID was already used by an earlier record (chunk IDs would collide).
    DuplicateId,
    /// Longer than the configured maximum.
    TooLong { length: u64, max: u64 },
}

impl fmt::Display for RecordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordProblem::EmptySequence => write!(f, "header without a sequence"),
            RecordProblem::EmptyId => write!(f, "header without an ID"),
            RecordProblem::HeaderNotText => write!(f, "header is not UTF-8 text (binary data?)"),
            RecordProblem::InvalidCharacter { position, byte } => write!(
                f,
                "character {} at position {position} is not a nucleotide or IUPAC code",
                describe_byte(*byte)
            ),
            RecordProblem::DuplicateId => write!(f, "the ID is used by an earlier record"),
            RecordProblem::TooLong { length, max } => write!(
                f,
                "{length} bp is longer than the maximum of {max} bp (raise it with --max-record-length)"
            ),
        }
    }
}

fn describe_byte(byte: u8) -> String {
    if byte.is_ascii_graphic() {
        format!("'{}'", byte as char)
    } else {
        format!("0x{byte:02X}")
    }
}

/// A record with a problem.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordIssue {
    pub location: RecordLocation,
    pub problem: RecordProblem,
}

impl fmt::Display for RecordIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.problem)
    }
}

/// A checked read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub id: String,
    /// Bases as in the file (case kept), line breaks and spaces removed.
    pub seq: Vec<u8>,
    pub location: RecordLocation,
}

/// Resolve files and folders to the list of input files, in the order given (a folder's
/// files sorted by name). Files under `exclude` (the output folder) are left out, so a
/// re-run never reads its own outputs.
pub fn discover_inputs(
    paths: &[PathBuf],
    exclude: Option<&Path>,
) -> Result<Vec<InputFile>, InputError> {
    if paths.is_empty() {
        return Err(InputError::NoInputs);
    }
    let exclude = exclude.and_then(|p| fs::canonicalize(p).ok());
    let mut files = Vec::new();
    for given in expand(paths, looks_like_fasta)? {
        if given.is_folder && given.files.is_empty() {
            return Err(InputError::EmptyFolder { path: given.given });
        }
        for file in given.files {
            let under_output = match (&exclude, fs::canonicalize(&file)) {
                (Some(out), Ok(canon)) => given.is_folder && canon.starts_with(out),
                _ => false,
            };
            if under_output {
                tracing::warn!(file = %file.display(), "skipping a file inside the output folder");
                continue;
            }
            let bytes = fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            files.push(InputFile { path: file, bytes });
        }
    }
    Ok(files)
}

/// Whether a file in a folder is taken as input: not hidden, and its last extension (after
/// one optional compression suffix) is one of [`FASTA_EXTENSIONS`].
pub fn looks_like_fasta(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    if name.starts_with('.') {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    let mut parts = lower.rsplit('.');
    let mut ext = parts.next().unwrap_or("");
    if COMPRESSION_SUFFIXES.contains(&ext) {
        ext = parts.next().unwrap_or("");
    }
    FASTA_EXTENSIONS.contains(&ext)
}

/// A file name without its compression suffix and then its FASTA extension, where it has
/// them (either case): `output_3.fa` and `output_3.FA.gz` → `output_3`; `notes.txt` stays.
pub fn fasta_stem(name: &str) -> &str {
    let name = strip_extension(name, COMPRESSION_SUFFIXES).unwrap_or(name);
    strip_extension(name, FASTA_EXTENSIONS).unwrap_or(name)
}

/// `name` without `.{ext}` for the first of `extensions` it ends with (either case).
fn strip_extension<'a>(name: &'a str, extensions: &[&str]) -> Option<&'a str> {
    extensions.iter().find_map(|ext| {
        let dot = name.len().checked_sub(ext.len() + 1)?;
        let suffix = name.get(dot..)?;
        let matches = suffix.starts_with('.') && suffix[1..].eq_ignore_ascii_case(ext);
        matches.then(|| &name[..dot])
    })
}

/// Checks applied to every record.
#[derive(Debug, Clone, Copy)]
pub struct ReadChecks {
    pub max_record_len: u64,
}

impl Default for ReadChecks {
    fn default() -> Self {
        Self {
            // Longer than the largest known chromosome; anything above is almost surely a
            // wrong file, and the whole record has to sit in memory.
            max_record_len: 250_000_000,
        }
    }
}

/// One item from [`ReadStream`].
#[derive(Debug)]
pub enum ReadItem {
    Read(Read),
    Issue(RecordIssue),
}

/// Streams checked reads from a list of files, one file after the other, a pair of files
/// (`crate::pairs`) record by record in lockstep.
pub struct ReadStream {
    files: Vec<InputFile>,
    units: Vec<InputUnit>,
    /// Reads given out per unit so far.
    unit_reads: Vec<u64>,
    next_unit: usize,
    current: Option<(usize, Source)>,
    checker: RecordChecker,
}

/// What the stream reads from now.
enum Source {
    Single {
        index: usize,
        reader: Box<dyn FastxReader>,
        record: u64,
    },
    Pair(Box<MateStream>),
}

impl ReadStream {
    /// Every file on its own.
    pub fn new(files: Vec<InputFile>, checks: ReadChecks) -> Self {
        let units = (0..files.len()).map(InputUnit::Single).collect();
        Self::with_units(files, units, checks)
    }

    /// The files read as `units` say (`crate::pairs::plan_units`): alone, or two in
    /// lockstep as mates. IDs must be unique across all of them (a mate's with its suffix).
    pub fn with_units(files: Vec<InputFile>, units: Vec<InputUnit>, checks: ReadChecks) -> Self {
        Self::with_fingerprints(files, units, checks, REMAINDER_BITS)
    }

    /// [`ReadStream::with_units`], its read IDs kept as fingerprints of 16 +
    /// `remainder_bits` bits until one repeats.
    fn with_fingerprints(
        files: Vec<InputFile>,
        units: Vec<InputUnit>,
        checks: ReadChecks,
        remainder_bits: u32,
    ) -> Self {
        let replay = Replay {
            files: files.clone(),
            units: units.clone(),
        };
        let checker = RecordChecker {
            seen_ids: SeenIds::Fingerprints(Fingerprints::new(remainder_bits)),
            checks,
            replay: Some(replay),
            checked: 0,
            record_ids_until: u64::MAX,
        };
        Self::with_checker(files, units, checker)
    }

    fn with_checker(files: Vec<InputFile>, units: Vec<InputUnit>, checker: RecordChecker) -> Self {
        Self {
            files,
            unit_reads: vec![0; units.len()],
            units,
            next_unit: 0,
            current: None,
            checker,
        }
    }

    /// A stream over data already in memory or behind any reader (`label` names it in
    /// messages). Compression is detected as for files.
    pub fn from_reader(
        label: &Path,
        reader: impl std::io::Read + Send + 'static,
        checks: ReadChecks,
    ) -> Result<Self, InputError> {
        let parser =
            needletail::parse_fastx_reader(reader).map_err(|err| parse_error(label, 0, err))?;
        let file = InputFile {
            path: label.to_path_buf(),
            bytes: 0,
        };
        // A reader cannot be read again, so its IDs are kept exactly from the start.
        let mut stream = Self::with_checker(
            vec![file],
            vec![InputUnit::Single(0)],
            RecordChecker::exact(checks, u64::MAX),
        );
        stream.current = Some((
            0,
            Source::Single {
                index: 0,
                reader: parser,
                record: 0,
            },
        ));
        stream.next_unit = 1;
        Ok(stream)
    }

    pub fn files(&self) -> &[InputFile] {
        &self.files
    }

    /// How the files are read, in order.
    pub fn units(&self) -> &[InputUnit] {
        &self.units
    }

    /// The reads given out so far from each of [`ReadStream::units`] (records with a
    /// problem not counted).
    pub fn unit_reads(&self) -> &[u64] {
        &self.unit_reads
    }

    /// The next read or record problem; `None` at the end of the last file.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Result<ReadItem, InputError>> {
        loop {
            if self.current.is_none() {
                let unit = self.next_unit;
                let source = self.open_unit(unit)?;
                self.next_unit += 1;
                match source {
                    Ok(source) => self.current = Some((unit, source)),
                    Err(err) => return Some(Err(err)),
                }
            }
            let (unit, source) = self.current.as_mut()?;
            let unit = *unit;
            let next = match source {
                Source::Single {
                    index,
                    reader,
                    record,
                } => next_single(&self.files[*index].path, reader, record, &mut self.checker),
                Source::Pair(mates) => mates.next(&mut self.checker),
            };
            match next {
                None => {
                    self.current = None;
                    continue;
                }
                Some(Err(err)) => {
                    self.current = None;
                    self.next_unit = self.units.len();
                    return Some(Err(err));
                }
                Some(Ok(item)) => {
                    if matches!(item, ReadItem::Read(_)) {
                        self.unit_reads[unit] += 1;
                    }
                    return Some(Ok(item));
                }
            }
        }
    }

    /// The reader of unit `unit`; `None` past the last.
    fn open_unit(&self, unit: usize) -> Option<Result<Source, InputError>> {
        let source = match *self.units.get(unit)? {
            InputUnit::Single(index) => {
                open_fastx(&self.files[index].path).map(|reader| Source::Single {
                    index,
                    reader,
                    record: 0,
                })
            }
            InputUnit::Pair { r1, r2, by_name } => {
                MateStream::open([&self.files[r1].path, &self.files[r2].path], by_name)
                    .map(|mates| Source::Pair(Box::new(mates)))
            }
        };
        Some(source)
    }
}

/// The next item of a file read alone.
fn next_single(
    path: &Path,
    reader: &mut Box<dyn FastxReader>,
    record: &mut u64,
    checker: &mut RecordChecker,
) -> Option<Result<ReadItem, InputError>> {
    match reader.next()? {
        Err(err) => Some(Err(parse_error(path, *record, err))),
        Ok(rec) => {
            *record += 1;
            let at = RecordAt {
                path,
                record: *record,
                line: rec.start_line_number(),
            };
            Some(checker.check(&at, rec.id(), rec.seq().into_owned(), None))
        }
    }
}

pub(crate) fn open_fastx(path: &Path) -> Result<Box<dyn FastxReader>, InputError> {
    let file = fs::File::open(path).map_err(|source| PathError::from_io(path, source))?;
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    needletail::parse_fastx_reader(reader).map_err(|err| parse_error(path, 0, err))
}

pub(crate) fn parse_error(
    path: &Path,
    after_record: u64,
    err: needletail::errors::ParseError,
) -> InputError {
    let path = path.to_path_buf();
    match err.kind {
        ParseErrorKind::EmptyFile => InputError::EmptyFile { path },
        ParseErrorKind::Io | ParseErrorKind::UnexpectedEnd => InputError::Truncated {
            path,
            after_record,
            detail: err.msg,
        },
        ParseErrorKind::UnknownFormat | ParseErrorKind::InvalidStart => InputError::NotFasta {
            path,
            detail: format!("{} ({})", err.msg, err.position),
        },
        _ => InputError::NotFasta {
            path,
            detail: format!("{} ({})", err.msg, err.position),
        },
    }
}

/// Python's `str.isspace` for the characters that split a FASTA title into ID and rest.
fn is_title_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Bytes allowed in a sequence: nucleotides, IUPAC ambiguity codes, U and the gap '-'.
const ALLOWED: [bool; 256] = {
    let mut table = [false; 256];
    let letters = b"ACGTURYSWKMBDHVNacgturyswkmbdhvn-";
    let mut i = 0;
    while i < letters.len() {
        table[letters[i] as usize] = true;
        i += 1;
    }
    table
};

/// Position of the first byte outside [`ALLOWED`]. Blocks are checked without a branch per
/// byte (the common case is a clean read); only a bad block is searched.
fn first_disallowed(seq: &[u8]) -> Option<usize> {
    const BLOCK: usize = 64;
    for (i, block) in seq.chunks(BLOCK).enumerate() {
        let clean = block.iter().fold(true, |ok, &b| ok & ALLOWED[b as usize]);
        if !clean {
            return block
                .iter()
                .position(|&b| !ALLOWED[b as usize])
                .map(|p| i * BLOCK + p);
        }
    }
    None
}

/// Where a record is, before its ID is known.
pub(crate) struct RecordAt<'a> {
    pub path: &'a Path,
    /// 1-based, within the file.
    pub record: u64,
    pub line: u64,
}

/// The ID of a header: the text up to the first whitespace (leading whitespace skipped, as
/// Biopython does); `None` when the header is not text.
pub(crate) fn header_id(header: &[u8]) -> Option<&str> {
    let title = std::str::from_utf8(header).ok()?;
    Some(
        title
            .trim_start_matches(is_title_space)
            .split(is_title_space)
            .next()
            .unwrap_or(""),
    )
}

/// The checks of every record, and the IDs seen so far.
pub(crate) struct RecordChecker {
    seen_ids: SeenIds,
    checks: ReadChecks,
    /// What the stream reads, to read it again when a fingerprint repeats; `None` once the
    /// IDs are kept exactly.
    replay: Option<Replay>,
    /// Records checked so far (by [`RecordChecker::check`], with or without a problem).
    checked: u64,
    /// Records from this one on (0-based) are checked without their ID: a replay stops
    /// before the record that started it.
    record_ids_until: u64,
}

/// The files and units of a [`ReadStream`], to read them again from the start.
struct Replay {
    files: Vec<InputFile>,
    units: Vec<InputUnit>,
}

impl RecordChecker {
    /// A checker that keeps the IDs of its first `record_ids_until` records exactly.
    fn exact(checks: ReadChecks, record_ids_until: u64) -> Self {
        Self {
            seen_ids: SeenIds::Exact(ExactIds::default()),
            checks,
            replay: None,
            checked: 0,
            record_ids_until,
        }
    }

    /// A checked read, or what is wrong with the record. A mate's read ID is its ID
    /// without a trailing `/1` or `/2` of its own mate, then with it (`Mate::suffix`);
    /// messages name the record by the ID in the file. Fails only when reading the inputs
    /// again to check a repeated fingerprint fails.
    pub(crate) fn check(
        &mut self,
        at: &RecordAt,
        header: &[u8],
        mut seq: Vec<u8>,
        mate: Option<Mate>,
    ) -> Result<ReadItem, InputError> {
        let index = self.checked;
        self.checked += 1;
        let mut location = RecordLocation {
            file: at.path.to_path_buf(),
            record: at.record,
            line: at.line,
            id: String::new(),
        };
        let issue = |location: RecordLocation, problem| {
            Ok(ReadItem::Issue(RecordIssue { location, problem }))
        };
        let Some(id) = header_id(header) else {
            location.id = String::from_utf8_lossy(header).chars().take(40).collect();
            return issue(location, RecordProblem::HeaderNotText);
        };
        location.id = id.to_string();
        if id.is_empty() {
            return issue(location, RecordProblem::EmptyId);
        }
        let read_id = match mate {
            Some(mate) => format!("{}{}", mate_name(id, mate), mate.suffix()),
            None => location.id.clone(),
        };
        if index < self.record_ids_until && !self.is_new(&read_id, index, at.path)? {
            return issue(location, RecordProblem::DuplicateId);
        }
        if memchr::memchr2(b' ', b'\t', &seq).is_some() {
            seq.retain(|&b| b != b' ' && b != b'\t');
        }
        if seq.is_empty() {
            return issue(location, RecordProblem::EmptySequence);
        }
        if seq.len() as u64 > self.checks.max_record_len {
            return issue(
                location,
                RecordProblem::TooLong {
                    length: seq.len() as u64,
                    max: self.checks.max_record_len,
                },
            );
        }
        if let Some(pos) = first_disallowed(&seq) {
            return issue(
                location,
                RecordProblem::InvalidCharacter {
                    position: pos as u64 + 1,
                    byte: seq[pos],
                },
            );
        }
        Ok(ReadItem::Read(Read {
            id: read_id,
            seq,
            location,
        }))
    }

    /// Whether `read_id`, of the record `index` records after the first, is new. A repeated
    /// fingerprint is decided by reading the records before this one again (`path` is this
    /// one's file, named if they are no longer there).
    fn is_new(&mut self, read_id: &str, index: u64, path: &Path) -> Result<bool, InputError> {
        match self.seen_ids.insert(read_id) {
            Seen::New => return Ok(true),
            Seen::Earlier => return Ok(false),
            Seen::Maybe => {}
        }
        let Some(replay) = self.replay.take() else {
            return Ok(false);
        };
        tracing::info!(
            records = index,
            "a read ID's fingerprint repeats: reading the records before it again to decide \
             exactly whether the ID does"
        );
        // The fingerprints go before the exact IDs come, so both are never held at once.
        self.seen_ids = SeenIds::Exact(ExactIds::default());
        self.seen_ids = replay_ids(replay, self.checks, index, path)?;
        Ok(self.seen_ids.insert(read_id) == Seen::New)
    }
}

/// The IDs of the first `records` records of `replay`'s files, kept exactly, read again.
fn replay_ids(
    replay: Replay,
    checks: ReadChecks,
    records: u64,
    path: &Path,
) -> Result<SeenIds, InputError> {
    let checker = RecordChecker::exact(checks, records);
    let mut stream = ReadStream::with_checker(replay.files, replay.units, checker);
    while stream.checker.checked < records {
        match stream.next() {
            Some(Ok(_)) => {}
            Some(Err(err)) => return Err(err),
            None => {
                return Err(InputError::ChangedWhileRead {
                    path: path.to_path_buf(),
                    records,
                })
            }
        }
    }
    Ok(stream.checker.seen_ids)
}

/// A mate's name: its ID without a trailing suffix of its own mate (`/1` in R1).
pub(crate) fn mate_name(id: &str, mate: Mate) -> &str {
    id.strip_suffix(mate.suffix()).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream_of(bytes: &[u8]) -> (tempfile::TempDir, ReadStream) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.fa");
        fs::write(&path, bytes).unwrap();
        let files = discover_inputs(&[path], None).unwrap();
        (dir, ReadStream::new(files, ReadChecks::default()))
    }

    fn collect(stream: &mut ReadStream) -> Vec<Result<ReadItem, InputError>> {
        std::iter::from_fn(|| stream.next()).collect()
    }

    #[test]
    fn ids_stop_at_whitespace_and_crlf_is_tolerated() {
        let (_d, mut s) = stream_of(b">r1 sample=1\r\nACGT\r\nacgt\r\n>r2\tx\nAC GT\n");
        let items = collect(&mut s);
        let reads: Vec<_> = items
            .into_iter()
            .map(|i| match i.unwrap() {
                ReadItem::Read(r) => (r.id, r.seq),
                ReadItem::Issue(i) => panic!("{i}"),
            })
            .collect();
        assert_eq!(
            reads,
            vec![
                ("r1".into(), b"ACGTacgt".to_vec()),
                ("r2".into(), b"ACGT".to_vec())
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn blockwise_check_finds_the_first_bad_byte(
            len in 0usize..300,
            bad in proptest::collection::vec((0usize..300, 0u8..=255), 0..3),
        ) {
            let mut seq = vec![b'A'; len];
            for (pos, byte) in bad {
                if pos < len {
                    seq[pos] = byte;
                }
            }
            let naive = seq.iter().position(|&b| !ALLOWED[b as usize]);
            proptest::prop_assert_eq!(first_disallowed(&seq), naive);
        }
    }

    #[test]
    fn leading_whitespace_is_skipped_like_biopython() {
        // Biopython: "> x y".split(None, 1)[0] == "x"
        let (_d, mut s) = stream_of(b">  x y\nACGT\n");
        match s.next() {
            Some(Ok(ReadItem::Read(read))) => assert_eq!(read.id, "x"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn record_problems_name_the_record() {
        let (_d, mut s) = stream_of(b">a\nACGT\n>b\n>c\nACXT\n>a\nAC\n>\nAC\n");
        let issues: Vec<String> = collect(&mut s)
            .into_iter()
            .filter_map(|i| match i.unwrap() {
                ReadItem::Issue(issue) => Some(issue.to_string()),
                ReadItem::Read(_) => None,
            })
            .collect();
        assert_eq!(issues.len(), 4, "{issues:?}");
        assert!(
            issues[0].contains("record 2 ('b', line 3): header without a sequence"),
            "{}",
            issues[0]
        );
        assert!(
            issues[1].contains("record 3 ('c', line 4): character 'X' at position 3"),
            "{}",
            issues[1]
        );
        assert!(
            issues[2].contains("record 4 ('a', line 6): the ID is used by an earlier record"),
            "{}",
            issues[2]
        );
        assert!(
            issues[3].contains("record 5 ('', line 8): header without an ID"),
            "{}",
            issues[3]
        );
    }

    #[test]
    fn folder_discovery_sorts_and_filters() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.fasta", "a.fa.gz", "notes.txt", ".hidden.fa", "c.FNA.zst"] {
            fs::write(dir.path().join(name), b">x\nA\n").unwrap();
        }
        let files = discover_inputs(&[dir.path().to_path_buf()], None).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| f.path.file_name().unwrap().to_str().unwrap().to_string())
            .collect();
        assert_eq!(names, vec!["a.fa.gz", "b.fasta", "c.FNA.zst"]);
    }

    #[test]
    fn every_listed_extension_is_discovered_plain_and_compressed() {
        let dir = tempfile::tempdir().unwrap();
        let mut expected = Vec::new();
        for ext in FASTA_EXTENSIONS {
            let compressions = std::iter::once(None).chain(COMPRESSION_SUFFIXES.iter().map(Some));
            for compression in compressions {
                for upper in [false, true] {
                    let mut name = format!("r_{ext}_{upper}.{ext}");
                    if let Some(c) = compression {
                        name = format!("{name}.{c}");
                    }
                    if upper {
                        name = name.to_ascii_uppercase();
                    }
                    fs::write(dir.path().join(&name), b">x\nA\n").unwrap();
                    assert_eq!(fasta_stem(&name), name.split('.').next().unwrap(), "{name}");
                    expected.push(name);
                }
            }
        }
        expected.sort();
        let files = discover_inputs(&[dir.path().to_path_buf()], None).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| f.path.file_name().unwrap().to_str().unwrap().to_string())
            .collect();
        assert_eq!(names, expected);
    }

    #[test]
    fn fasta_stem_strips_a_compression_suffix_then_a_fasta_extension() {
        assert_eq!(fasta_stem("output_3.fa"), "output_3");
        assert_eq!(fasta_stem("output_3.faa.zst"), "output_3");
        assert_eq!(fasta_stem("a.b.FASTQ.GZ"), "a.b");
        assert_eq!(fasta_stem("notes.txt"), "notes.txt");
        assert_eq!(fasta_stem("notes.txt.gz"), "notes.txt");
        assert_eq!(fasta_stem("fa"), "fa");
        assert_eq!(fasta_stem("é.fa"), "é");
    }

    #[test]
    fn missing_paths_and_empty_folders_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        assert!(matches!(
            discover_inputs(&[missing], None),
            Err(InputError::Path(PathError::NotFound { .. }))
        ));
        assert!(matches!(
            discover_inputs(&[dir.path().to_path_buf()], None),
            Err(InputError::EmptyFolder { .. })
        ));
        assert!(matches!(
            discover_inputs(&[], None),
            Err(InputError::NoInputs)
        ));
    }
}

#[cfg(test)]
mod replay_tests;
