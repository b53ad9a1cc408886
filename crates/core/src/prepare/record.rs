//! A finished prepare's record (`prepare.json`) and its shards: what later stages need
//! from it, and what the writer lists as it closes each shard.
use std::path::{Path, PathBuf};

use super::layout::MANIFEST_FILE;

/// One pair of shard files, paths relative to the output folder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShardInfo {
    pub index: usize,
    pub records: usize,
    pub nucleotide: PathBuf,
    pub protein: PathBuf,
}

/// What the stages after `prepare` need from its `prepare.json`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct PreparedRecord {
    pub chunk_len: usize,
    pub reads: u64,
    pub chunks: u64,
    /// Relative to the prepared folder.
    pub chunked: PathBuf,
    pub shards: Vec<ShardInfo>,
    /// The inputs read as pairs of mates; none in a `prepare.json` of a version before
    /// paired reads.
    #[serde(default)]
    pub pairs: Vec<crate::pairs::PairRecord>,
}

/// Why a prepared folder cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PreparedRecordError {
    /// `prepare.json` is missing or unreadable: no complete prepare in the folder.
    #[error("{}: cannot read it ({source}); is this a complete `virnucpro prepare` folder?", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a prepare summary: {source}", path.display())]
    Invalid {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

impl PreparedRecord {
    /// Read `dir/prepare.json`, which `prepare` writes last (so it means the folder is whole).
    pub fn read(dir: &Path) -> Result<Self, PreparedRecordError> {
        let path = dir.join(MANIFEST_FILE);
        let bytes = std::fs::read(&path).map_err(|source| PreparedRecordError::Unreadable {
            path: path.clone(),
            source,
        })?;
        serde_json::from_slice(&bytes)
            .map_err(|source| PreparedRecordError::Invalid { path, source })
    }

    /// The chunked reads file (`reads_chunked{L}.fa`) of the prepared folder `dir`.
    pub fn chunked_path(&self, dir: &Path) -> PathBuf {
        dir.join(&self.chunked)
    }
}

impl ShardInfo {
    /// The shard's name, shared by its feature and merged files (`output_3`).
    pub fn name(&self) -> String {
        format!("output_{}", self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_prepare_writes_and_names_the_problem_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let err = PreparedRecord::read(dir.path()).unwrap_err();
        assert!(
            matches!(err, PreparedRecordError::Unreadable { .. }),
            "{err}"
        );
        std::fs::write(dir.path().join(MANIFEST_FILE), "{}").unwrap();
        let err = PreparedRecord::read(dir.path()).unwrap_err();
        assert!(matches!(err, PreparedRecordError::Invalid { .. }), "{err}");
        std::fs::write(
            dir.path().join(MANIFEST_FILE),
            r#"{"version": "0.1.0", "chunk_len": 500, "reads": 2, "chunks": 3,
                "chunked": "reads_chunked500.fa",
                "shards": [{"index": 2, "records": 5, "nucleotide": "nucleotide/output_2.fa",
                            "protein": "protein/output_2.faa"}]}"#,
        )
        .unwrap();
        let record = PreparedRecord::read(dir.path()).unwrap();
        assert_eq!(record.shards[0].name(), "output_2");
        assert_eq!(
            record.chunked_path(dir.path()),
            dir.path().join("reads_chunked500.fa")
        );
    }
}
