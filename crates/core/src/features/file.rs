use std::fs::File;
use std::io::Read;
use std::path::Path;

use xxhash_rust::xxh3::xxh3_64;

use super::{DataError, Dtype, FeatureError, FeatureMeta, Header, HeaderError, MappedFile};

/// How [`FeatureFile::verify_data`] found a file's data sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataCheck {
    /// The data matches the checksum its writer recorded: exactly what was written.
    Checksum,
    /// A file without a data checksum (written before there was one): every value was
    /// decoded and is finite. Damage that leaves finite values cannot be seen this way.
    FiniteValues,
}

/// A feature file opened read-only and memory-mapped; its header is validated on open,
/// rows are decoded on demand.
pub struct FeatureFile {
    file: MappedFile,
    header: Header,
}

impl std::fmt::Debug for FeatureFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeatureFile")
            .field("path", &self.file.path())
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
        Self::from_mapped(MappedFile::open(path).map_err(read_err(path))?)
    }

    /// A feature file from a file already mapped (e.g. to hash it first).
    pub fn from_mapped(file: MappedFile) -> Result<Self, FeatureError> {
        let bytes = file.bytes();
        let header = Header::parse(bytes, bytes.len() as u64).map_err(header_err(file.path()))?;
        Ok(Self { file, header })
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
        self.file.path()
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
        self.file.bytes().len() as u64
    }

    /// Whether the data is sound: by its checksum, or, in a file without one, by decoding
    /// every value. Reads the whole file (as fast as the disk gives it; hashing runs at
    /// many GB/s), so it is for files about to be reused, not for listing.
    pub fn verify_data(&self) -> Result<DataCheck, FeatureError> {
        let start = self.header.data_start();
        let data = &self.file.bytes()[start..start + self.header.data_len()];
        let data_error = |source| FeatureError::Data {
            path: self.path().to_path_buf(),
            source,
        };
        if let Some(expected) = self.header.data_xxh3 {
            let actual = xxh3_64(data);
            return if actual == expected {
                Ok(DataCheck::Checksum)
            } else {
                Err(data_error(DataError::Checksum { expected, actual }))
            };
        }
        let mut row = vec![0f32; self.dim()];
        for index in 0..self.rows() {
            self.row_into(index, &mut row);
            if let Some(column) = crate::finite::first_non_finite(&row) {
                return Err(data_error(DataError::NonFinite { row: index, column }));
            }
        }
        Ok(DataCheck::FiniteValues)
    }

    /// Decode row `row` into `out` (`out.len() == dim`). Panics if `row >= rows()`.
    pub fn row_into(&self, row: usize, out: &mut [f32]) {
        let width = self.dim() * self.dtype().size();
        let start = self.header.data_start() + row * width;
        self.dtype().decode(
            &self.file.bytes()[start..start + width],
            &mut out[..self.dim()],
        );
    }

    /// All rows, decoded to f32, row-major.
    pub fn to_vec(&self) -> Vec<f32> {
        let mut out = vec![0f32; self.rows() * self.dim()];
        let start = self.header.data_start();
        self.dtype().decode(
            &self.file.bytes()[start..start + self.header.data_len()],
            &mut out,
        );
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
