//! `torch.save` archives: a zip holding `<prefix>/data.pkl`, `<prefix>/data/<key>` storages and
//! `<prefix>/byteorder`. Storages are read only when a tensor is asked for.
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use super::error::{TorchFileError, TorchFileProblem as Problem};
use super::source::{ByteSource, FileSource};
use super::tensor::{Dtype, TensorRef};
use super::value::Value;
use super::vm::{parse_pickle, Limits};
use super::zip::{read_entries, ZipEntry};

/// Largest `data.pkl` read into memory (the pickle holds structure; tensor data lives in
/// the storages, which are never loaded whole).
pub const MAX_PICKLE_BYTES: u64 = 4 << 30;

/// Storages are converted in pieces of this many bytes, so reading a tensor needs little
/// more memory than its `f32` result.
const READ_CHUNK: usize = 1 << 20;

/// An opened torch archive.
pub struct TorchArchive<S: ByteSource = FileSource> {
    path: PathBuf,
    source: S,
    pickle: ZipEntry,
    /// Storage entries by key (`<prefix>/data/<key>`).
    storages: HashMap<String, ZipEntry>,
}

impl TorchArchive<FileSource> {
    /// Open a `.pt`/`.pth`/`.bin` file written by `torch.save`.
    pub fn open(path: &Path) -> Result<Self, TorchFileError> {
        let source = File::open(path)
            .and_then(FileSource::new)
            .map_err(|e| TorchFileError::new(path, Problem::Io(e)))?;
        Self::from_source(path, source)
    }
}

impl<S: ByteSource> TorchArchive<S> {
    /// An archive held in `source`; `path` is only used to name it in errors.
    pub fn from_source(path: &Path, source: S) -> Result<Self, TorchFileError> {
        let fail = |problem| TorchFileError::new(path, problem);
        let entries = read_entries(&source).map_err(fail)?;
        let pickle = find_data_pkl(&entries).map_err(fail)?;
        let prefix = pickle.name.trim_end_matches("data.pkl").to_owned();
        if let Some(order) = entries
            .iter()
            .find(|e| e.name == format!("{prefix}byteorder"))
        {
            check_byteorder(&source, order).map_err(fail)?;
        }
        let storage_dir = format!("{prefix}data/");
        let storages = entries
            .iter()
            .filter_map(|e| {
                let key = e.name.strip_prefix(&storage_dir)?;
                Some((key.to_owned(), e.clone()))
            })
            .collect();
        tracing::debug!(path = %path.display(), entries = entries.len(), "opened torch archive");
        Ok(Self {
            path: path.to_path_buf(),
            source,
            pickle: pickle.clone(),
            storages,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, problem: Problem) -> TorchFileError {
        TorchFileError::new(&self.path, problem)
    }

    /// Run `data.pkl` with the default [`Limits`].
    pub fn load(&self) -> Result<Value, TorchFileError> {
        self.load_with(&Limits::default())
    }

    pub fn load_with(&self, limits: &Limits) -> Result<Value, TorchFileError> {
        let bytes = self.pickle_bytes()?;
        parse_pickle(&bytes, limits).map_err(|e| self.error(Problem::Pickle(e)))
    }

    /// The raw `data.pkl` stream (for inspection tools and fuzzing corpora).
    pub fn pickle_bytes(&self) -> Result<Vec<u8>, TorchFileError> {
        if self.pickle.size > MAX_PICKLE_BYTES {
            return Err(self.error(Problem::DataPklTooLarge {
                size: self.pickle.size,
                limit: MAX_PICKLE_BYTES,
            }));
        }
        let mut bytes = vec![0u8; self.pickle.size as usize];
        self.source
            .read_exact_at(self.pickle.data_start, &mut bytes)
            .map_err(|e| self.error(Problem::Io(e)))?;
        Ok(bytes)
    }

    /// Size in bytes of storage `key`, if the archive has it.
    pub fn storage_size(&self, key: &str) -> Option<u64> {
        self.storages.get(key).map(|e| e.size)
    }

    /// The tensor's elements as `f32`, row-major, converted from f32/f16/bf16/f64 storages.
    pub fn read_f32(&self, tensor: &TensorRef) -> Result<Vec<f32>, TorchFileError> {
        let mut out = Vec::new();
        self.read_f32_into(tensor, &mut out)?;
        Ok(out)
    }

    /// [`Self::read_f32`], appending to `out`: lets a caller fill one buffer with many
    /// tensors (the rows of a feature file) without a vector per tensor. On error `out`
    /// may hold part of the tensor.
    pub fn read_f32_into(
        &self,
        tensor: &TensorRef,
        out: &mut Vec<f32>,
    ) -> Result<(), TorchFileError> {
        let dtype = match tensor.storage.dtype {
            Some(d @ (Dtype::F32 | Dtype::F16 | Dtype::BF16 | Dtype::F64)) => d,
            Some(other) => return Err(self.unsupported_dtype(other.name())),
            None => return Err(self.unsupported_dtype(&tensor.storage.class)),
        };
        let (entry, first, end) = self.checked_span(tensor, dtype)?;
        if tensor.is_contiguous() {
            return self.read_elements(entry, dtype, first, end, out);
        }
        // A strided view (e.g. a saved transpose) is gathered from the span it covers.
        let mut span = Vec::new();
        self.read_elements(entry, dtype, first, end, &mut span)?;
        let gathered = tensor
            .strided_indices(first)
            .into_iter()
            .map(|i| usize::try_from(i).ok().and_then(|i| span.get(i).copied()))
            .collect::<Option<Vec<f32>>>()
            .ok_or_else(|| self.error(Problem::UnsupportedLayout("index outside span".into())))?;
        out.extend_from_slice(&gathered);
        Ok(())
    }

    /// Where `data.pkl` lies in the source: `(offset, length)`, for readers that stream the
    /// pickle instead of loading it ([`Self::pickle_bytes`]).
    pub(crate) fn pickle_span(&self) -> (u64, u64) {
        (self.pickle.data_start, self.pickle.size)
    }

    pub(crate) fn source(&self) -> &S {
        &self.source
    }

    /// The source, for what it learned from the reads (a [`crate::features::HashingSource`]'s hash).
    pub fn into_source(self) -> S {
        self.source
    }

    /// The storage elements a tensor view covers, as `(first, end)` element indexes, after
    /// checking that the archive holds them. A view that repeats elements (stride 0) is
    /// refused: it could ask for more memory than the file holds.
    pub fn element_span(&self, tensor: &TensorRef) -> Result<(u64, u64), TorchFileError> {
        let dtype = tensor
            .storage
            .dtype
            .ok_or_else(|| self.unsupported_dtype(&tensor.storage.class))?;
        self.checked_span(tensor, dtype)
            .map(|(_, first, end)| (first, end))
    }

    /// Fill `out` with the raw little-endian bytes of storage elements `first..end` of
    /// `tensor`'s storage (as returned by [`Self::element_span`]); `out` must be exactly
    /// that long. Lets a caller read straight into memory it owns (a tensor's buffer).
    pub fn read_span_bytes(
        &self,
        tensor: &TensorRef,
        first: u64,
        out: &mut [u8],
    ) -> Result<(), TorchFileError> {
        let dtype = tensor
            .storage
            .dtype
            .ok_or_else(|| self.unsupported_dtype(&tensor.storage.class))?;
        let (entry, span_first, span_end) = self.checked_span(tensor, dtype)?;
        let wanted = (span_end - span_first) * dtype.size();
        if first != span_first || out.len() as u64 != wanted {
            return Err(self.error(Problem::UnsupportedLayout(format!(
                "asked for {} bytes from element {first}, the view covers {wanted} from {span_first}",
                out.len()
            ))));
        }
        self.source
            .read_exact_at(entry.data_start + first * dtype.size(), out)
            .map_err(|e| self.error(Problem::Io(e)))
    }

    fn checked_span(
        &self,
        tensor: &TensorRef,
        dtype: Dtype,
    ) -> Result<(&ZipEntry, u64, u64), TorchFileError> {
        let key = &tensor.storage.key;
        let entry = self
            .storages
            .get(key)
            .ok_or_else(|| self.error(Problem::MissingStorage(key.clone())))?;
        let available = entry.size / dtype.size();
        let (first, end) = tensor.element_span().ok_or_else(|| {
            self.error(Problem::UnsupportedLayout(format!(
                "shape {:?} with stride {:?} overflows",
                tensor.shape, tensor.stride
            )))
        })?;
        if end > available {
            return Err(self.error(Problem::StorageOutOfBounds {
                key: key.clone(),
                first,
                end,
                available,
            }));
        }
        let numel = tensor.numel().unwrap_or(u64::MAX);
        if numel > end - first {
            return Err(self.error(Problem::UnsupportedLayout(format!(
                "shape {:?} with stride {:?} repeats storage elements",
                tensor.shape, tensor.stride
            ))));
        }
        Ok((entry, first, end))
    }

    fn unsupported_dtype(&self, dtype: &str) -> TorchFileError {
        self.error(Problem::UnsupportedDtype {
            dtype: dtype.to_owned(),
            wanted: "f32",
        })
    }

    /// Storage elements `first..end` converted to `f32` and appended to `out`; the range is
    /// already checked.
    fn read_elements(
        &self,
        entry: &ZipEntry,
        dtype: Dtype,
        first: u64,
        end: u64,
        out: &mut Vec<f32>,
    ) -> Result<(), TorchFileError> {
        let width = dtype.size() as usize;
        let count = usize::try_from(end - first)
            .map_err(|_| self.error(Problem::UnsupportedLayout("tensor too large".into())))?;
        out.reserve(count);
        let mut offset = entry.data_start + first * dtype.size();
        let mut buf = vec![0u8; READ_CHUNK.min(count * width)];
        let mut left = count;
        while left > 0 {
            let n = left.min(READ_CHUNK / width);
            let chunk = &mut buf[..n * width];
            self.source
                .read_exact_at(offset, chunk)
                .map_err(|e| self.error(Problem::Io(e)))?;
            convert(dtype, chunk, out);
            offset += chunk.len() as u64;
            left -= n;
        }
        Ok(())
    }
}

/// Append little-endian elements of `dtype` (a float type) to `out` as `f32`.
/// (`chunks_exact` yields slices of exactly the element width, so the indexing is in bounds.)
fn convert(dtype: Dtype, bytes: &[u8], out: &mut Vec<f32>) {
    match dtype {
        Dtype::F32 => out.extend(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        ),
        Dtype::F16 => out.extend(
            bytes
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32()),
        ),
        Dtype::BF16 => out.extend(
            bytes
                .chunks_exact(2)
                .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32()),
        ),
        Dtype::F64 => {
            out.extend(bytes.chunks_exact(8).map(|c| {
                f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32
            }))
        }
        _ => {}
    }
}

/// The single `<prefix>/data.pkl` at the top of the archive.
fn find_data_pkl(entries: &[ZipEntry]) -> Result<&ZipEntry, Problem> {
    let mut found = entries.iter().filter(|e| {
        e.name
            .strip_suffix("/data.pkl")
            .is_some_and(|prefix| !prefix.is_empty() && !prefix.contains('/'))
    });
    let first = found.next().ok_or(Problem::NoDataPkl)?;
    if let Some(second) = found.next() {
        return Err(Problem::AmbiguousDataPkl(
            first.name.clone(),
            second.name.clone(),
        ));
    }
    Ok(first)
}

fn check_byteorder<S: ByteSource>(source: &S, entry: &ZipEntry) -> Result<(), Problem> {
    if entry.size > 16 {
        return Err(Problem::UnknownByteorder(format!("<{} bytes>", entry.size)));
    }
    let mut buf = vec![0u8; entry.size as usize];
    source.read_exact_at(entry.data_start, &mut buf)?;
    match buf.as_slice() {
        b"little" => Ok(()),
        b"big" => Err(Problem::BigEndian),
        other => Err(Problem::UnknownByteorder(
            String::from_utf8_lossy(other).into_owned(),
        )),
    }
}
