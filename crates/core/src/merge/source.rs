//! One side of a pair, whatever its format: our feature file (memory-mapped) or a
//! legacy PyTorch `.pt` file of the Python tools (decoded into memory).
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::features::{
    checksum_file, file_name, FeatureErrorKind, FeatureFile, FeatureTable, HashingSource,
    InputChecksum, MappedFile,
};
use crate::file_kind::FileKind;
use crate::legacy::{
    read_legacy_features_into, read_legacy_source_into, LegacyError, LegacyErrorKind,
    LegacyFeatures, LegacyKind,
};
use crate::pickle::FileSource;

use super::report::{FailureKind, Side};

/// Why an input could not be used.
#[derive(Debug)]
pub(crate) struct InputFailure {
    pub kind: FailureKind,
    pub reason: String,
}

impl InputFailure {
    /// The file at `path` could not be opened or read.
    pub fn unreadable(path: &Path, e: io::Error) -> Self {
        Self {
            kind: FailureKind::Unreadable,
            reason: format!("{}: {e}", path.display()),
        }
    }
}

pub(crate) enum Source {
    Features(FeatureFile),
    Legacy(LegacyFeatures),
    /// Rows a run keeps in memory (`merge_tables`).
    Table(Arc<FeatureTable>),
}

impl Source {
    /// Use `input` as the `side` input, read by the reader its content calls for, with the
    /// input's checksum; rows decoded into memory go into a buffer of `buffers`.
    pub fn open(
        input: Input,
        side: Side,
        buffers: &RowBuffers,
    ) -> Result<(Self, InputChecksum), InputFailure> {
        let file = match input {
            // The pickle reader reads the archive itself.
            Input::Torch { path, checksum, .. } => {
                return read_legacy(&path, side, buffers.take(side), checksum)
            }
            Input::Mapped(file) => file,
        };
        let checksum = file.checksum();
        let file = FeatureFile::from_mapped(file).map_err(|e| InputFailure {
            kind: match e.kind() {
                FeatureErrorKind::Unreadable | FeatureErrorKind::Write => FailureKind::Unreadable,
                FeatureErrorKind::Corrupt => FailureKind::Corrupt,
                FeatureErrorKind::UnsupportedDtype => FailureKind::UnsupportedDtype,
                FeatureErrorKind::DimensionMismatch => FailureKind::DimensionMismatch,
            },
            reason: e.to_string(),
        })?;
        let expected = side.feature_kind();
        if file.meta().kind != expected {
            return Err(InputFailure {
                kind: FailureKind::Corrupt,
                reason: format!("holds {} features, expected {expected}", file.meta().kind),
            });
        }
        Ok((Self::Features(file), checksum))
    }

    pub fn ids(&self) -> &[String] {
        match self {
            Self::Features(f) => f.ids(),
            Self::Legacy(f) => &f.ids,
            Self::Table(t) => &t.meta.ids,
        }
    }

    pub fn dim(&self) -> usize {
        match self {
            Self::Features(f) => f.dim(),
            Self::Legacy(f) => f.dim,
            Self::Table(t) => t.meta.dim,
        }
    }

    pub fn model(&self) -> &str {
        match self {
            Self::Features(f) => &f.meta().model,
            Self::Legacy(f) => match f.kind {
                LegacyKind::Dnabert => "DNABERT-S (legacy .pt)",
                LegacyKind::Esm => "ESM-2 (legacy .pt)",
                LegacyKind::Merged => "merged (legacy .pt)",
            },
            Self::Table(t) => &t.meta.model,
        }
    }

    /// Row `row` where it already is as f32 values (rows decoded into memory, or held
    /// there); `None` for a feature file, whose rows are decoded by [`Source::row_into`].
    pub fn row(&self, row: usize) -> Option<&[f32]> {
        match self {
            Self::Features(_) => None,
            Self::Legacy(f) => f.row(row),
            Self::Table(t) => Some(t.row(row)),
        }
    }

    /// Whether every value is already known to be finite: the legacy reader refuses a file
    /// holding a NaN or an infinity (naming its row and column), so the merge need not look
    /// at those rows a second time. Feature files and tables are looked at by the merge.
    pub fn known_finite(&self) -> bool {
        matches!(self, Self::Legacy(_))
    }

    /// Decode row `row` into `out` (`out.len() == dim()`).
    pub fn row_into(&self, row: usize, out: &mut [f32]) {
        match self {
            Self::Features(f) => f.row_into(row, out),
            Self::Legacy(f) => out.copy_from_slice(&f.data[row * f.dim..(row + 1) * f.dim]),
            Self::Table(t) => out.copy_from_slice(t.row(row)),
        }
    }
}

/// Row buffers of the pairs merged so far, for the next pairs' legacy inputs: a legacy
/// pair decodes ~130 MB of rows, and faulting in fresh pages for each pair took a fifth of
/// a legacy merge's time. A buffer in here was in flight before, so the buffers held stay
/// within the memory of the pairs in flight at once; they go with the merge.
#[derive(Default)]
pub(crate) struct RowBuffers {
    /// Nucleotide and protein buffers apart: the two sides' rows differ in size.
    spare: Mutex<[Vec<Vec<f32>>; 2]>,
}

impl RowBuffers {
    fn slot(side: Side) -> usize {
        match side {
            Side::Nucleotide => 0,
            Side::Protein => 1,
        }
    }

    /// A buffer that held `side` rows before, or a new one.
    pub fn take(&self, side: Side) -> Vec<f32> {
        let mut spare = self.spare.lock().unwrap_or_else(|p| p.into_inner());
        spare[Self::slot(side)].pop().unwrap_or_default()
    }

    /// Keep the rows' buffer of a finished pair for the next one.
    pub fn give_back(&self, side: Side, source: Source) {
        if let Source::Legacy(features) = source {
            let mut spare = self.spare.lock().unwrap_or_else(|p| p.into_inner());
            spare[Self::slot(side)].push(features.data);
        }
    }
}

/// An input file, opened for hashing and reading. Our feature files stay mapped (hashed,
/// then read through the same map). The Python tools' `.pt` files are never mapped, so
/// that a pair in flight holds little more than its rows (a map's pages would count in the
/// resident set on top of the row buffers the pairs before left for this one): the legacy
/// reader hashes them as it reads them ([`HashingSource`]), or, when an existing output
/// needs their checksums before they are read, they are hashed in pieces first.
pub(crate) enum Input {
    Mapped(MappedFile),
    Torch {
        path: PathBuf,
        /// Its size when opened.
        bytes: u64,
        /// `None` until hashed on its own ([`Input::checksum_now`]).
        checksum: Option<InputChecksum>,
    },
}

impl Input {
    pub fn open(path: &Path) -> io::Result<Self> {
        if !is_torch_file(path, FileKind::of_file(path)?) {
            return Ok(Self::Mapped(MappedFile::open(path)?));
        }
        Ok(Self::Torch {
            path: path.to_path_buf(),
            bytes: std::fs::metadata(path)?.len(),
            checksum: None,
        })
    }

    /// Its size in bytes.
    pub fn bytes(&self) -> u64 {
        match self {
            Self::Mapped(file) => file.bytes().len() as u64,
            Self::Torch { bytes, .. } => *bytes,
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            Self::Mapped(file) => file.path(),
            Self::Torch { path, .. } => path,
        }
    }

    /// Name, size and XXH3-64 of the file, read now for a `.pt` file not hashed yet.
    pub fn checksum_now(&mut self) -> io::Result<InputChecksum> {
        match self {
            Self::Mapped(file) => Ok(file.checksum()),
            Self::Torch {
                checksum: Some(checksum),
                ..
            } => Ok(checksum.clone()),
            Self::Torch { path, checksum, .. } => Ok(checksum.insert(checksum_file(path)?).clone()),
        }
    }
}

/// Whether a file is for the torch reader: a `torch.save` archive or pickle, by content
/// (core's one detector). When the content says nothing (empty, garbage), the name picks
/// the reader whose error will explain the problem.
fn is_torch_file(path: &Path, kind: FileKind) -> bool {
    match kind {
        FileKind::TorchZip | FileKind::LegacyPickle { .. } => true,
        FileKind::Safetensors { .. } | FileKind::TruncatedSafetensors { .. } => false,
        FileKind::Empty | FileKind::Unknown => path.extension().is_some_and(|e| e == "pt"),
    }
}

/// The adapter to the legacy `.pt` reader ([`crate::legacy`], safe pickle, no code run):
/// the rows, and the file's checksum, taken from the reader's reads unless it is `known`.
fn read_legacy(
    path: &Path,
    side: Side,
    spare: Vec<f32>,
    known: Option<InputChecksum>,
) -> Result<(Source, InputChecksum), InputFailure> {
    let (features, checksum) = match known {
        Some(checksum) => (
            read_legacy_features_into(path, spare).map_err(legacy_failure)?,
            checksum,
        ),
        None => read_legacy_hashed(path, spare)?,
    };
    let expected = match side {
        Side::Nucleotide => LegacyKind::Dnabert,
        Side::Protein => LegacyKind::Esm,
    };
    if features.kind != expected {
        return Err(InputFailure {
            kind: FailureKind::Corrupt,
            reason: format!(
                "{}: holds {:?} features, expected {expected:?}",
                path.display(),
                features.kind
            ),
        });
    }
    if features.dim == 0 || features.data.len() != features.ids.len() * features.dim {
        return Err(InputFailure {
            kind: FailureKind::DimensionMismatch,
            reason: format!(
                "{}: {} values for {} rows of {}",
                path.display(),
                features.data.len(),
                features.ids.len(),
                features.dim
            ),
        });
    }
    Ok((Source::Legacy(features), checksum))
}

fn legacy_failure(e: LegacyError) -> InputFailure {
    InputFailure {
        kind: match e.kind() {
            LegacyErrorKind::Unreadable => FailureKind::Unreadable,
            LegacyErrorKind::Corrupt => FailureKind::Corrupt,
            LegacyErrorKind::UnsupportedDtype => FailureKind::UnsupportedDtype,
        },
        reason: e.to_string(),
    }
}

/// Decode the `.pt` file at `path`, hashing it as it is read.
fn read_legacy_hashed(
    path: &Path,
    spare: Vec<f32>,
) -> Result<(LegacyFeatures, InputChecksum), InputFailure> {
    let unreadable = |e| InputFailure::unreadable(path, e);
    let file = std::fs::File::open(path)
        .and_then(FileSource::new)
        .map_err(unreadable)?;
    let (features, source) =
        read_legacy_source_into(path, HashingSource::new(file), spare).map_err(legacy_failure)?;
    let (checksum, reads) = source.finish(file_name(path)).map_err(unreadable)?;
    tracing::debug!(path = %path.display(), reads.while_read, reads.read_again, "hashed while decoding");
    Ok((features, checksum))
}
