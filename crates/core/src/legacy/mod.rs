//! Import of the feature files written by the Python VirNucPro tools (reference §9):
//!
//! * `*_DNABERT_S.pt`: `{'nucleotide': [id], 'data': [{'label': id, 'mean_representation': [f]}]}`
//! * `*_ESM.pt`: `{'proteins': [id], 'data': [tensor(D)]}`
//! * `*_merged.pt`: `{'ids': [id], 'data': tensor(N, D)}`
//!
//! The kind is told by the keys, never the file name; other keys (`version`, `status`) are
//! ignored. Dimensions come from the data. Files are read with the safe pickle reader in
//! [`crate::pickle`]: nothing in them is executed.
//!
//! Two decoders read the pickle. The general one ([`general`]) builds the pickle VM's value
//! tree and walks it; it reads every layout and is the reference. The streaming one
//! ([`fast`]) reads the DNABERT-S and ESM layouts as `torch.save` writes them, putting the
//! floats straight into the row buffer; whatever it does not recognise it declines, and the
//! general decoder reads the file instead. Both end in [`finish`], so the checks after the
//! rows are built (row count, finite values) are one piece of code.
mod fast;
mod general;

use std::path::{Path, PathBuf};

use crate::pickle::{ByteSource, FileSource, TorchArchive, TorchFileError, TorchFileProblem};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyKind {
    Dnabert,
    Esm,
    Merged,
}

/// Per-sequence feature rows.
#[derive(Debug, Clone, PartialEq)]
pub struct LegacyFeatures {
    pub kind: LegacyKind,
    pub ids: Vec<String>,
    pub dim: usize,
    /// Row-major, `ids.len() x dim`.
    pub data: Vec<f32>,
}

impl LegacyFeatures {
    /// Row `i` (the features of `ids[i]`).
    pub fn row(&self, i: usize) -> Option<&[f32]> {
        let start = i.checked_mul(self.dim)?;
        self.data.get(start..start.checked_add(self.dim)?)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyErrorKind {
    /// The file could not be read (missing, permissions, I/O failure).
    Unreadable,
    /// The file is not a well-formed feature file.
    Corrupt,
    /// The features are stored in a dtype that cannot be read as floats.
    UnsupportedDtype,
}

#[derive(Debug, thiserror::Error)]
#[error("{}: {detail}", path.display())]
pub struct LegacyError {
    path: PathBuf,
    kind: LegacyErrorKind,
    detail: String,
}

impl LegacyError {
    pub fn kind(&self) -> LegacyErrorKind {
        self.kind
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn corrupt(path: &Path, detail: impl Into<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            kind: LegacyErrorKind::Corrupt,
            detail: detail.into(),
        }
    }

    fn from_torch(error: TorchFileError) -> Self {
        let kind = match error.problem {
            TorchFileProblem::Io(_) => LegacyErrorKind::Unreadable,
            TorchFileProblem::UnsupportedDtype { .. } => LegacyErrorKind::UnsupportedDtype,
            _ => LegacyErrorKind::Corrupt,
        };
        Self {
            detail: error.problem.to_string(),
            path: error.path,
            kind,
        }
    }
}

/// Which decoder reads the pickle of a legacy file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    /// The streaming decoder, and the general one for any file it declines (the default).
    Auto,
    /// Only the general decoder (the reference).
    General,
    /// Only the streaming decoder: a file it declines is [`Decoded::Declined`].
    Fast,
}

/// What a decoder made of a file.
#[derive(Debug)]
pub enum Decoded {
    /// The features, and whether the streaming decoder read them.
    Read {
        features: LegacyFeatures,
        streamed: bool,
    },
    /// The streaming decoder does not read this file (only with [`Decoder::Fast`]); the
    /// reason is for logs and tests.
    Declined(String),
}

/// Read a DNABERT-S, ESM or merged feature file of the Python tools.
pub fn read_legacy_features(path: &Path) -> Result<LegacyFeatures, LegacyError> {
    read_legacy_features_into(path, Vec::new())
}

/// [`read_legacy_features`], the rows decoded into `spare` (emptied first) when the
/// streaming decoder reads the file: a buffer of an earlier file whose memory is already
/// the process's, so that its pages are not faulted in again.
pub fn read_legacy_features_into(
    path: &Path,
    spare: Vec<f32>,
) -> Result<LegacyFeatures, LegacyError> {
    let archive = TorchArchive::<FileSource>::open(path).map_err(LegacyError::from_torch)?;
    decode_auto(&archive, spare)
}

/// [`read_legacy_features_into`] from `source` (named `path` in errors). The source comes
/// back with the features, for what it learned from the reads made of it: a
/// [`crate::features::HashingSource`] has the file's checksum without a second pass.
pub fn read_legacy_source_into<S: ByteSource>(
    path: &Path,
    source: S,
    spare: Vec<f32>,
) -> Result<(LegacyFeatures, S), LegacyError> {
    let archive = TorchArchive::from_source(path, source).map_err(LegacyError::from_torch)?;
    let features = decode_auto(&archive, spare)?;
    Ok((features, archive.into_source()))
}

fn decode_auto<S: ByteSource>(
    archive: &TorchArchive<S>,
    spare: Vec<f32>,
) -> Result<LegacyFeatures, LegacyError> {
    match decode_archive(archive, Decoder::Auto, spare)? {
        Decoded::Read { features, .. } => Ok(features),
        // Auto never declines: the general decoder reads what the streaming one declines.
        Decoded::Declined(reason) => Err(LegacyError::corrupt(archive.path(), reason)),
    }
}

/// Read the file at `path` with the chosen decoder(s).
pub fn read_legacy_with(path: &Path, decoder: Decoder) -> Result<Decoded, LegacyError> {
    let archive = TorchArchive::<FileSource>::open(path).map_err(LegacyError::from_torch)?;
    decode_archive(&archive, decoder, Vec::new())
}

/// Read an archive held in `source` (named `path` in errors) with the chosen decoder(s):
/// the entry point for tests and fuzzing on bytes in memory.
pub fn read_legacy_from<S: ByteSource>(
    path: &Path,
    source: S,
    decoder: Decoder,
) -> Result<Decoded, LegacyError> {
    let archive = TorchArchive::from_source(path, source).map_err(LegacyError::from_torch)?;
    decode_archive(&archive, decoder, Vec::new())
}

fn decode_archive<S: ByteSource>(
    archive: &TorchArchive<S>,
    decoder: Decoder,
    spare: Vec<f32>,
) -> Result<Decoded, LegacyError> {
    let path = archive.path();
    if decoder != Decoder::General {
        match fast::decode(archive, spare)? {
            Ok(features) => {
                log_import(path, &features, true);
                return Ok(Decoded::Read {
                    features,
                    streamed: true,
                });
            }
            Err(reason) if decoder == Decoder::Fast => return Ok(Decoded::Declined(reason)),
            Err(reason) => {
                tracing::debug!(path = %path.display(), %reason, "streaming decoder declined; reading with the general one");
            }
        }
    }
    let features = general::decode(archive)?;
    log_import(path, &features, false);
    Ok(Decoded::Read {
        features,
        streamed: false,
    })
}

fn log_import(path: &Path, features: &LegacyFeatures, streamed: bool) {
    tracing::info!(
        path = %path.display(),
        kind = ?features.kind,
        rows = features.ids.len(),
        dim = features.dim,
        streamed,
        "imported legacy features"
    );
}

/// Rows accumulated into one row-major matrix, checking that they agree in length.
struct Rows {
    dim: Option<usize>,
    data: Vec<f32>,
    count: usize,
    /// How far `data` was already checked for NaN and infinity ([`Rows::check_finite`]).
    finite: FiniteCheck,
}

/// Values `0..checked` of a [`Rows`] were checked for NaN and infinity while they were
/// still in the cache; `first` is the first one found there.
#[derive(Default)]
struct FiniteCheck {
    checked: usize,
    first: Option<usize>,
}

impl Rows {
    fn new() -> Self {
        Self::of(None, Vec::new(), 0)
    }

    fn of(dim: Option<usize>, data: Vec<f32>, count: usize) -> Self {
        Self {
            dim,
            data,
            count,
            finite: FiniteCheck::default(),
        }
    }

    /// Check the values appended since the last check, while they are in the cache: for
    /// ESM files, whose rows come one storage at a time, this saves [`finish`] a pass over
    /// the whole matrix in memory.
    fn check_finite(&mut self) {
        if self.finite.first.is_none() {
            self.finite.first = self.first_unchecked();
        }
        self.finite.checked = self.data.len();
    }

    /// The index of the first NaN or infinity in `data`, using what was checked before.
    fn first_non_finite(&self) -> Option<usize> {
        self.finite.first.or_else(|| self.first_unchecked())
    }

    /// The index of the first NaN or infinity among the values not checked yet.
    fn first_unchecked(&self) -> Option<usize> {
        let checked = self.finite.checked;
        crate::finite::first_non_finite(&self.data[checked..]).map(|i| checked + i)
    }

    fn push(&mut self, row: Vec<f32>, index: usize) -> Result<(), String> {
        self.check_next(row.len(), index)?;
        self.data.extend_from_slice(&row);
        self.count += 1;
        Ok(())
    }

    /// Count a row of `len` values that is about to be (or was just) appended to `data`:
    /// the checks of [`Self::push`] without the copy.
    fn check_next(&mut self, len: usize, index: usize) -> Result<(), String> {
        if len == 0 {
            return Err(format!("row {index} is empty"));
        }
        match self.dim {
            Some(dim) if dim != len => {
                return Err(format!(
                    "row {index} has {len} values but earlier rows have {dim}"
                ))
            }
            _ => self.dim = Some(len),
        }
        Ok(())
    }
}

/// The checks both decoders make once the ids and rows are read, in this order: as many
/// rows as ids, then every value finite.
fn finish(
    path: &Path,
    kind: LegacyKind,
    id_key: &str,
    ids: Vec<String>,
    rows: Rows,
) -> Result<LegacyFeatures, LegacyError> {
    if rows.count != ids.len() {
        return Err(LegacyError::corrupt(
            path,
            format!(
                "{} ids in '{id_key}' but {} rows in 'data'",
                ids.len(),
                rows.count
            ),
        ));
    }
    let dim = rows.dim.unwrap_or(0);
    if let Some(bad) = rows.first_non_finite() {
        let (row, col) = (bad / dim.max(1), bad % dim.max(1));
        let id = ids.get(row).map_or("?", String::as_str);
        return Err(LegacyError::corrupt(
            path,
            format!(
                "row {row} ({id}) column {col} is {} (features must be finite)",
                rows.data[bad]
            ),
        ));
    }
    Ok(LegacyFeatures {
        kind,
        ids,
        dim,
        data: rows.data,
    })
}
