//! One `.safetensors` file: its header is parsed up front; tensor bytes are read on demand
//! with positional reads (not through a memory map, whose touched pages would stay in the
//! process's resident set and double the memory a load needs).
use std::fs::File;
use std::path::{Path, PathBuf};

use safetensors::{Dtype as StDtype, SafeTensors};
use tch::Kind;

use super::WeightError;

/// Where one tensor's bytes are in the file.
#[derive(Debug, Clone)]
pub(super) struct SafeEntry {
    pub shape: Vec<i64>,
    pub kind: Kind,
    /// Absolute file offset of the first byte.
    pub offset: u64,
    pub len: u64,
}

/// A tensor's entry, or the name of a dtype libtorch cannot hold.
pub(super) type Listed = (String, Result<SafeEntry, String>);

pub(super) struct SafeFile {
    pub path: PathBuf,
    pub file: File,
}

impl SafeFile {
    /// Open `path` and list its tensors. Tensors of a dtype libtorch cannot hold are
    /// listed with `Err(dtype)` so that asking for one gives a precise error.
    pub fn open(path: &Path) -> Result<(Self, Vec<Listed>), WeightError> {
        let io = |source| WeightError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        // SAFETY: the map is read-only and dropped before this function returns; a file
        // truncated meanwhile can at worst fail the header parse (SIGBUS on a truncated
        // map is the accepted risk of every mmap reader, including safetensors' own).
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
        let (header_len, metadata) =
            SafeTensors::read_metadata(&map).map_err(|e| WeightError::Safetensors {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        drop(map);
        let data_start = 8 + header_len as u64;
        let mut entries: Vec<Listed> = metadata
            .tensors()
            .into_iter()
            .map(|(name, info)| {
                let entry = kind_of(info.dtype).map(|kind| SafeEntry {
                    shape: info.shape.iter().map(|&d| d as i64).collect(),
                    kind,
                    offset: data_start + info.data_offsets.0 as u64,
                    len: (info.data_offsets.1 - info.data_offsets.0) as u64,
                });
                (name, entry)
            })
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok((
            Self {
                path: path.to_path_buf(),
                file,
            },
            entries,
        ))
    }

    /// Fill `out` with the bytes at `offset`.
    pub fn read_at(&self, offset: u64, out: &mut [u8]) -> Result<(), WeightError> {
        read_exact_at(&self.file, offset, out).map_err(|source| WeightError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, offset: u64, out: &mut [u8]) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, out, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut offset: u64, mut out: &mut [u8]) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !out.is_empty() {
        match file.seek_read(out, offset) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                out = &mut out[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn kind_of(dtype: StDtype) -> Result<Kind, String> {
    Ok(match dtype {
        StDtype::F64 => Kind::Double,
        StDtype::F32 => Kind::Float,
        StDtype::F16 => Kind::Half,
        StDtype::BF16 => Kind::BFloat16,
        StDtype::I64 => Kind::Int64,
        StDtype::I32 => Kind::Int,
        StDtype::I16 => Kind::Int16,
        StDtype::I8 => Kind::Int8,
        StDtype::U8 => Kind::Uint8,
        StDtype::BOOL => Kind::Bool,
        other => return Err(format!("{other:?}")),
    })
}
