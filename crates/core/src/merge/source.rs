//! One side of a pair, whatever its format: our feature file (memory-mapped) or a
//! legacy PyTorch `.pt` file of the Python tools (decoded into memory).
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::Xxh3;

use crate::features::{FeatureErrorKind, FeatureFile, InputChecksum, MappedFile};
use crate::file_kind::{FileKind, SNIFF_LEN};
use crate::legacy::{read_legacy_features, LegacyErrorKind, LegacyFeatures, LegacyKind};

use super::report::{FailureKind, Side};

/// Why an input could not be used.
#[derive(Debug)]
pub(crate) struct InputFailure {
    pub kind: FailureKind,
    pub reason: String,
}

pub(crate) enum Source {
    Features(FeatureFile),
    Legacy(LegacyFeatures),
}

impl Source {
    /// Use `input` as the `side` input, read by the reader its content calls for.
    pub fn open(input: Input, side: Side) -> Result<Self, InputFailure> {
        let file = match input {
            // The pickle reader reads the archive itself.
            Input::Torch { path, .. } => return read_legacy(&path, side),
            Input::Mapped(file) => file,
        };
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
        Ok(Self::Features(file))
    }

    pub fn ids(&self) -> &[String] {
        match self {
            Self::Features(f) => f.ids(),
            Self::Legacy(f) => &f.ids,
        }
    }

    pub fn dim(&self) -> usize {
        match self {
            Self::Features(f) => f.dim(),
            Self::Legacy(f) => f.dim,
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
        }
    }

    /// Decode row `row` into `out` (`out.len() == dim()`).
    pub fn row_into(&self, row: usize, out: &mut [f32]) {
        match self {
            Self::Features(f) => f.row_into(row, out),
            Self::Legacy(f) => out.copy_from_slice(&f.data[row * f.dim..(row + 1) * f.dim]),
        }
    }
}

/// An input file, opened for hashing and reading. Our feature files are mapped (hashed,
/// then read through the same map); the Python tools' `.pt` files are hashed by reading
/// them in pieces and decoded by the legacy reader afterwards, so that no map of them is
/// held while the rows are decoded: a pair in flight then holds little more than its rows.
pub(crate) enum Input {
    Mapped(MappedFile),
    Torch {
        path: PathBuf,
        checksum: InputChecksum,
    },
}

/// Bytes hashed at a time when a `.pt` input is read for its checksum.
const HASH_CHUNK: usize = 1 << 20;

impl Input {
    pub fn open(path: &Path) -> io::Result<Self> {
        let mut file = File::open(path)?;
        let meta = file.metadata()?;
        // Whatever is not a plain file gets the mapping's own error, as before.
        if !meta.is_file() {
            return MappedFile::open(path).map(Self::Mapped);
        }
        let mut head = [0u8; SNIFF_LEN];
        let head_len = read_up_to(&mut file, &mut head)?;
        if !is_torch_file(path, &head[..head_len], meta.len()) {
            return MappedFile::open(path).map(Self::Mapped);
        }
        let checksum = InputChecksum {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            xxh3: format!("{:016x}", hash_rest(&mut file, &head[..head_len])?),
            bytes: meta.len(),
        };
        Ok(Self::Torch {
            path: path.to_path_buf(),
            checksum,
        })
    }

    pub fn path(&self) -> &Path {
        match self {
            Self::Mapped(file) => file.path(),
            Self::Torch { path, .. } => path,
        }
    }

    /// Name, size and XXH3-64 of the file (the same for either way of opening it).
    pub fn checksum(&self) -> InputChecksum {
        match self {
            Self::Mapped(file) => file.checksum(),
            Self::Torch { checksum, .. } => checksum.clone(),
        }
    }
}

/// Fill `buf` as far as the file allows; returns how many bytes were read.
fn read_up_to(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// XXH3-64 of a whole file whose first bytes, `head`, are already read from `file`.
fn hash_rest(file: &mut File, head: &[u8]) -> io::Result<u64> {
    let mut hasher = Xxh3::new();
    hasher.update(head);
    let mut buf = vec![0u8; HASH_CHUNK];
    loop {
        match file.read(&mut buf) {
            Ok(0) => return Ok(hasher.digest()),
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Whether a file is for the torch reader: a `torch.save` archive or pickle, by content
/// (core's one detector, on the first bytes and the length). When the content says
/// nothing (empty, garbage), the name picks the reader whose error will explain the problem.
fn is_torch_file(path: &Path, head: &[u8], len: u64) -> bool {
    match FileKind::sniff(head, len) {
        FileKind::TorchZip | FileKind::LegacyPickle { .. } => true,
        FileKind::Safetensors { .. } | FileKind::TruncatedSafetensors { .. } => false,
        FileKind::Empty | FileKind::Unknown => path.extension().is_some_and(|e| e == "pt"),
    }
}

/// The adapter to the legacy `.pt` reader ([`crate::legacy`], safe pickle, no code run).
fn read_legacy(path: &Path, side: Side) -> Result<Source, InputFailure> {
    let features = read_legacy_features(path).map_err(|e| InputFailure {
        kind: match e.kind() {
            LegacyErrorKind::Unreadable => FailureKind::Unreadable,
            LegacyErrorKind::Corrupt => FailureKind::Corrupt,
            LegacyErrorKind::UnsupportedDtype => FailureKind::UnsupportedDtype,
        },
        reason: e.to_string(),
    })?;
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
    Ok(Source::Legacy(features))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hashing in pieces gives the map's checksum, for every size around the piece size.
    #[test]
    fn a_pt_input_has_the_checksum_of_its_map() {
        let dir = tempfile::tempdir().unwrap();
        for len in [0, 1, 8, 9, 10, HASH_CHUNK - 1, HASH_CHUNK, HASH_CHUNK + 9] {
            let path = dir.path().join(format!("output_{len}_ESM.pt"));
            let mut bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            if len >= 4 {
                bytes[..4].copy_from_slice(b"PK\x03\x04");
            }
            std::fs::write(&path, &bytes).unwrap();
            let input = Input::open(&path).unwrap();
            assert!(matches!(input, Input::Torch { .. }), "{len}");
            let expected = MappedFile::open(&path).unwrap().checksum();
            assert_eq!(input.checksum(), expected, "{len}");
        }
    }
}
