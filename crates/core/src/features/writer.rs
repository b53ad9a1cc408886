use std::io::Write;
use std::path::Path;

use crate::atomic::AtomicFile;

use super::{FeatureError, FeatureMeta, Header};

/// Writes a feature file row by row; the file appears, complete, only on
/// [`FeatureWriter::finish`]. Dropping the writer earlier leaves no file behind.
pub struct FeatureWriter {
    file: AtomicFile,
    dim: usize,
    rows: usize,
    written: usize,
    buf: Vec<u8>,
}

impl FeatureWriter {
    /// Start writing `path` for `meta.ids.len()` rows of `meta.dim` values.
    pub fn create(path: &Path, meta: &FeatureMeta) -> Result<Self, FeatureError> {
        let write_err = |source| FeatureError::Write {
            path: path.to_path_buf(),
            source,
        };
        if meta.dim == 0 {
            return Err(FeatureError::Shape {
                path: path.to_path_buf(),
                reason: "dim is 0".into(),
            });
        }
        let header = Header::encode(meta).map_err(|e| write_err(e.into()))?;
        let mut file = AtomicFile::create(path).map_err(write_err)?;
        file.write_all(&header).map_err(write_err)?;
        Ok(Self {
            file,
            dim: meta.dim,
            rows: meta.ids.len(),
            written: 0,
            buf: Vec::with_capacity(meta.dim * 4),
        })
    }

    /// Append one row of `dim` values.
    pub fn write_row(&mut self, row: &[f32]) -> Result<(), FeatureError> {
        if row.len() != self.dim || self.written == self.rows {
            return Err(self.shape_error(format!(
                "row {} of {} values; expected {} rows of {}",
                self.written,
                row.len(),
                self.rows,
                self.dim
            )));
        }
        self.buf.resize(row.len() * 4, 0);
        for (bytes, v) in self.buf.chunks_exact_mut(4).zip(row) {
            bytes.copy_from_slice(&v.to_le_bytes());
        }
        self.file
            .write_all(&self.buf)
            .map_err(|source| FeatureError::Write {
                path: self.file.target().to_path_buf(),
                source,
            })?;
        self.written += 1;
        Ok(())
    }

    /// Commit the file; returns its size in bytes.
    pub fn finish(self) -> Result<u64, FeatureError> {
        if self.written != self.rows {
            return Err(self.shape_error(format!(
                "{} rows written, {} declared",
                self.written, self.rows
            )));
        }
        let path = self.file.target().to_path_buf();
        self.file.commit().map_err(|source| FeatureError::Write {
            path: path.clone(),
            source,
        })?;
        std::fs::metadata(&path)
            .map(|m| m.len())
            .map_err(|source| FeatureError::Write { path, source })
    }

    fn shape_error(&self, reason: String) -> FeatureError {
        FeatureError::Shape {
            path: self.file.target().to_path_buf(),
            reason,
        }
    }
}

/// Write a whole feature file: `data` holds `meta.ids.len()` rows of `meta.dim`, row-major.
pub fn write_features(path: &Path, meta: &FeatureMeta, data: &[f32]) -> Result<u64, FeatureError> {
    let mut writer = FeatureWriter::create(path, meta)?;
    if data.len() != meta.ids.len() * meta.dim {
        return Err(writer.shape_error(format!(
            "{} values for {} rows of {}",
            data.len(),
            meta.ids.len(),
            meta.dim
        )));
    }
    for row in data.chunks_exact(meta.dim) {
        writer.write_row(row)?;
    }
    writer.finish()
}
