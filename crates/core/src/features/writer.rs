use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use xxhash_rust::xxh3::Xxh3;

use crate::atomic::AtomicFile;

use super::{FeatureError, FeatureMeta, Header};

/// Writes a feature file row by row; the file appears, complete, only on
/// [`FeatureWriter::finish`]. Dropping the writer earlier leaves no file behind.
///
/// The header records a checksum of the data (`data_xxh3`), so that a reader can tell a
/// damaged file from a sound one without recomputing it. The data is hashed as the rows
/// go by; the header is written first with a placeholder of the same length and
/// rewritten with the real checksum before the file is committed.
pub struct FeatureWriter {
    file: AtomicFile,
    meta: FeatureMeta,
    header_len: usize,
    hasher: Xxh3,
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
        let header = Header::encode_with_data_checksum(meta, 0).map_err(|e| write_err(e.into()))?;
        let mut file = AtomicFile::create(path).map_err(write_err)?;
        file.write_all(&header).map_err(write_err)?;
        Ok(Self {
            file,
            meta: meta.clone(),
            header_len: header.len(),
            hasher: Xxh3::new(),
            written: 0,
            buf: Vec::with_capacity(meta.dim * 4),
        })
    }

    fn dim(&self) -> usize {
        self.meta.dim
    }

    fn rows(&self) -> usize {
        self.meta.ids.len()
    }

    /// Append one row of `dim` values.
    pub fn write_row(&mut self, row: &[f32]) -> Result<(), FeatureError> {
        self.write_row_parts(&[row])
    }

    /// Append one row given as consecutive parts (a merged row: the nucleotide values,
    /// then the protein values), written from where they are, without joining them first.
    pub fn write_row_parts(&mut self, parts: &[&[f32]]) -> Result<(), FeatureError> {
        let len: usize = parts.iter().map(|part| part.len()).sum();
        if len != self.dim() || self.written == self.rows() {
            return Err(self.shape_error(format!(
                "row {} of {len} values; expected {} rows of {}",
                self.written,
                self.rows(),
                self.dim()
            )));
        }
        for part in parts {
            let bytes = little_endian_bytes(part, &mut self.buf);
            self.hasher.update(bytes);
            self.file
                .write_all(bytes)
                .map_err(|source| FeatureError::Write {
                    path: self.file.target().to_path_buf(),
                    source,
                })?;
        }
        self.written += 1;
        Ok(())
    }

    /// Write the data checksum into the header and commit the file; returns its size in
    /// bytes.
    pub fn finish(mut self) -> Result<u64, FeatureError> {
        if self.written != self.rows() {
            return Err(self.shape_error(format!(
                "{} rows written, {} declared",
                self.written,
                self.rows()
            )));
        }
        let path = self.file.target().to_path_buf();
        let write_err = |source| FeatureError::Write {
            path: path.clone(),
            source,
        };
        let header = Header::encode_with_data_checksum(&self.meta, self.hasher.digest())
            .map_err(|e| write_err(e.into()))?;
        if header.len() != self.header_len {
            return Err(self.shape_error(format!(
                "the header grew from {} to {} bytes with its checksum",
                self.header_len,
                header.len()
            )));
        }
        self.file.seek(SeekFrom::Start(0)).map_err(write_err)?;
        self.file.write_all(&header).map_err(write_err)?;
        self.file.seek(SeekFrom::End(0)).map_err(write_err)?;
        self.file.commit().map_err(write_err)?;
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

/// The values' little-endian bytes: the values' own memory on a little-endian machine,
/// else converted into `buf`.
fn little_endian_bytes<'a>(values: &'a [f32], buf: &'a mut Vec<u8>) -> &'a [u8] {
    if cfg!(target_endian = "little") {
        return bytemuck::cast_slice(values);
    }
    buf.clear();
    buf.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    buf
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{DataCheck, DataError, FeatureFile, FeatureKind};

    fn meta() -> FeatureMeta {
        FeatureMeta {
            kind: FeatureKind::Protein,
            model: "esm2".into(),
            dim: 3,
            ids: vec!["a".into(), "b".into()],
            inputs: Vec::new(),
        }
    }

    fn data_error(path: &Path) -> Option<DataError> {
        match FeatureFile::open(path).unwrap().verify_data() {
            Err(FeatureError::Data { source, .. }) => Some(source),
            _ => None,
        }
    }

    #[test]
    fn written_files_carry_a_checksum_that_finds_changed_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.protein.safetensors");
        write_features(&path, &meta(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let file = FeatureFile::open(&path).unwrap();
        assert!(file.header().data_xxh3.is_some());
        assert_eq!(file.verify_data().unwrap(), DataCheck::Checksum);
        assert_eq!(file.to_vec(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        drop(file);
        // A NaN written over one value, the header left as it was.
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.len() - 8;
        bytes[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
        std::fs::write(&path, &bytes).unwrap();
        assert!(FeatureFile::validate_header(&path).is_ok());
        assert!(matches!(
            data_error(&path),
            Some(DataError::Checksum { .. })
        ));
    }

    #[test]
    fn files_without_a_checksum_are_checked_value_by_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.protein.safetensors");
        let mut bytes = Header::encode(&meta()).unwrap();
        for v in [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        std::fs::write(&path, &bytes).unwrap();
        let file = FeatureFile::open(&path).unwrap();
        assert_eq!(file.header().data_xxh3, None);
        assert_eq!(file.verify_data().unwrap(), DataCheck::FiniteValues);
        drop(file);
        let at = bytes.len() - 8;
        bytes[at..at + 4].copy_from_slice(&f32::INFINITY.to_le_bytes());
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(
            data_error(&path),
            Some(DataError::NonFinite { row: 1, column: 1 })
        );
    }

    #[test]
    fn rows_in_parts_are_the_same_file_as_whole_rows_and_are_counted_as_one_row() {
        let dir = tempfile::tempdir().unwrap();
        let (whole, parts) = (
            dir.path().join("w.protein.safetensors"),
            dir.path().join("p.protein.safetensors"),
        );
        let values = [1.5f32, -0.0, f32::MIN_POSITIVE, 4.0, f32::MAX, -6.25];
        write_features(&whole, &meta(), &values).unwrap();
        let mut writer = FeatureWriter::create(&parts, &meta()).unwrap();
        writer
            .write_row_parts(&[&values[..1], &values[1..3]])
            .unwrap();
        writer.write_row_parts(&[&values[3..], &[]]).unwrap();
        writer.finish().unwrap();
        assert_eq!(
            std::fs::read(&whole).unwrap(),
            std::fs::read(&parts).unwrap()
        );

        // Parts that do not add up to a row are refused, and no file is left.
        let short = dir.path().join("s.protein.safetensors");
        let mut writer = FeatureWriter::create(&short, &meta()).unwrap();
        let err = writer
            .write_row_parts(&[&values[..1], &values[1..2]])
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("row 0 of 2 values; expected 2 rows of 3"),
            "{err}"
        );
        let err = writer
            .write_row_parts(&[&values[..3], &values[3..4]])
            .unwrap_err();
        assert!(err.to_string().contains("row 0 of 4 values"), "{err}");
        drop(writer);
        assert!(!short.exists());
    }
}
