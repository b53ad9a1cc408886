use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use memmap2::{Mmap, MmapOptions};

use super::{Dtype, FeatureError, FeatureMeta, Header, HeaderError};

/// A feature file opened read-only and memory-mapped; its header is validated on open,
/// rows are decoded on demand.
pub struct FeatureFile {
    path: PathBuf,
    map: Mmap,
    header: Header,
}

impl std::fmt::Debug for FeatureFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeatureFile")
            .field("path", &self.path)
            .field("dtype", &self.header.dtype)
            .field("rows", &self.header.rows)
            .field("dim", &self.header.meta.dim)
            .finish()
    }
}

fn read_err(path: &Path) -> impl FnOnce(std::io::Error) -> FeatureError + '_ {
    move |source| FeatureError::Read {
        path: path.to_path_buf(),
        source,
    }
}

fn header_err(path: &Path) -> impl FnOnce(HeaderError) -> FeatureError + '_ {
    move |source| FeatureError::Header {
        path: path.to_path_buf(),
        source,
    }
}

impl FeatureFile {
    /// Open and map `path`, validating its header against its size.
    pub fn open(path: &Path) -> Result<Self, FeatureError> {
        let file = File::open(path).map_err(read_err(path))?;
        let len = file.metadata().map_err(read_err(path))?.len();
        if len < 8 {
            return Err(header_err(path)(HeaderError::Truncated {
                expected: 8,
                actual: len,
            }));
        }
        // SAFETY: the map is read-only; as with every memory-mapped reader, a file truncated
        // by another process while mapped is outside what we can guard against.
        let map = unsafe { MmapOptions::new().populate().map(&file) }.map_err(read_err(path))?;
        let header = Header::parse(&map, map.len() as u64).map_err(header_err(path))?;
        Ok(Self {
            path: path.to_path_buf(),
            map,
            header,
        })
    }

    /// Decide whether `path` is a complete, well-formed feature file from its header and
    /// its size alone, without reading (or mapping) the data.
    pub fn validate_header(path: &Path) -> Result<Header, FeatureError> {
        let mut file = File::open(path).map_err(read_err(path))?;
        let len = file.metadata().map_err(read_err(path))?.len();
        let mut first8 = [0u8; 8];
        let got = read_up_to(&mut file, &mut first8).map_err(read_err(path))?;
        if got < 8 {
            return Err(header_err(path)(HeaderError::Truncated {
                expected: 8,
                actual: got as u64,
            }));
        }
        let mut prefix = first8.to_vec();
        prefix.resize(Header::prefix_len(first8, len) as usize, 0);
        let got = read_up_to(&mut file, &mut prefix[8..]).map_err(read_err(path))?;
        prefix.truncate(8 + got);
        Header::parse(&prefix, len).map_err(header_err(path))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn meta(&self) -> &FeatureMeta {
        &self.header.meta
    }

    pub fn ids(&self) -> &[String] {
        &self.header.meta.ids
    }

    pub fn rows(&self) -> usize {
        self.header.rows
    }

    pub fn dim(&self) -> usize {
        self.header.meta.dim
    }

    pub fn dtype(&self) -> Dtype {
        self.header.dtype
    }

    /// Size of the file in bytes.
    pub fn len_bytes(&self) -> u64 {
        self.map.len() as u64
    }

    /// Decode row `row` into `out` (`out.len() == dim`). Panics if `row >= rows()`.
    pub fn row_into(&self, row: usize, out: &mut [f32]) {
        let width = self.dim() * self.dtype().size();
        let start = self.header.data_start() + row * width;
        self.dtype()
            .decode(&self.map[start..start + width], &mut out[..self.dim()]);
    }

    /// All rows, decoded to f32, row-major.
    pub fn to_vec(&self) -> Vec<f32> {
        let mut out = vec![0f32; self.rows() * self.dim()];
        let start = self.header.data_start();
        self.dtype()
            .decode(&self.map[start..start + self.header.data_len()], &mut out);
        out
    }
}

/// Read until `buf` is full or the file ends; returns the bytes read.
fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
