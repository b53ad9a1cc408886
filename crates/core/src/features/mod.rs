//! Feature files: per-shard embedding matrices stored as [safetensors], readable from
//! Python with `safetensors.numpy.load_file` (see `docs/formats.md`).
//!
//! One file per shard and kind holds a single 2-D tensor named `embeddings`
//! (`[rows, dim]`, row-major, written as F32; F16 and BF16 are read too). The header's
//! `__metadata__` (str → str) carries `ids` (a JSON array of row IDs, in row order),
//! `kind` (`nucleotide` | `protein` | `merged` | `scores`), `model`, `dim`, and `inputs` (a JSON array
//! of `{name, xxh3, bytes}`: the files this one was made from), and `data_xxh3` (XXH3-64
//! of the tensor data bytes, 16 hex digits; absent in files written before it existed).
//!
//! Naming: `{shard}.{kind}.safetensors`, e.g. `output_3.nucleotide.safetensors`,
//! `output_3.protein.safetensors` → `output_3.merged.safetensors`.
//!
//! Files are read memory-mapped ([`FeatureFile`]) and written atomically
//! ([`FeatureWriter`]). Whether a file is complete and well-formed is decidable from its
//! header and its size alone ([`FeatureFile::validate_header`]); whether its data is what
//! was written, from the data checksum ([`FeatureFile::verify_data`]).
//!
//! [safetensors]: https://huggingface.co/docs/safetensors
mod checksum;
mod error;
mod file;
mod hashing_source;
mod header;
mod table;
mod writer;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use checksum::{checksum_file, file_name, MappedFile};
pub use error::{DataError, FeatureError, FeatureErrorKind};
pub use file::{DataCheck, FeatureFile};
pub use hashing_source::{HashedReads, HashingSource};
pub use header::{
    Dtype, Header, HeaderError, DATA_CHECKSUM_KEY, MAX_DIM, MAX_HEADER_LEN, TENSOR_NAME,
};
pub use table::FeatureTable;
pub use writer::{write_features, FeatureWriter};

/// File name suffix shared by all our feature files.
pub const EXTENSION: &str = "safetensors";

/// What the rows of a feature file are embeddings of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum FeatureKind {
    Nucleotide,
    Protein,
    Merged,
    /// A run's classifier scores of one shard (`p_others`, `p_virus` per row): what resume
    /// needs of a shard when its features are not kept (`core::run_folder::scores`).
    Scores,
}

impl FeatureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nucleotide => "nucleotide",
            Self::Protein => "protein",
            Self::Merged => "merged",
            Self::Scores => "scores",
        }
    }

    /// `{shard}.{kind}.safetensors`.
    pub fn file_name(self, shard: &str) -> String {
        format!("{shard}.{}.{EXTENSION}", self.as_str())
    }

    /// The shard name of a file named `{shard}.{kind}.safetensors`, if `name` is one.
    pub fn shard_of(self, name: &str) -> Option<&str> {
        let shard = name
            .strip_suffix(EXTENSION)?
            .strip_suffix('.')?
            .strip_suffix(self.as_str())?
            .strip_suffix('.')?;
        (!shard.is_empty()).then_some(shard)
    }
}

impl fmt::Display for FeatureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FeatureKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "nucleotide" => Ok(Self::Nucleotide),
            "protein" => Ok(Self::Protein),
            "merged" => Ok(Self::Merged),
            "scores" => Ok(Self::Scores),
            other => Err(format!("unknown kind {other:?}")),
        }
    }
}

/// A file a feature file was made from, identified by content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputChecksum {
    /// File name (no folder: moving a run's folder keeps its outputs valid).
    pub name: String,
    /// XXH3-64 of the whole file, 16 lower-case hex digits.
    pub xxh3: String,
    pub bytes: u64,
}

/// Everything in a feature file except the numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMeta {
    pub kind: FeatureKind,
    pub model: String,
    pub dim: usize,
    /// Row IDs, in row order.
    pub ids: Vec<String>,
    pub inputs: Vec<InputChecksum>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in [
            FeatureKind::Nucleotide,
            FeatureKind::Protein,
            FeatureKind::Merged,
            FeatureKind::Scores,
        ] {
            let name = kind.file_name("output_3");
            assert_eq!(kind.shard_of(&name), Some("output_3"));
            assert_eq!(kind.as_str().parse::<FeatureKind>(), Ok(kind));
        }
        assert_eq!(
            FeatureKind::Nucleotide.file_name("output_3"),
            "output_3.nucleotide.safetensors"
        );
        assert_eq!(
            FeatureKind::Protein.shard_of("output_3.nucleotide.safetensors"),
            None
        );
        assert_eq!(FeatureKind::Protein.shard_of(".protein.safetensors"), None);
        assert_eq!(
            FeatureKind::Protein.shard_of("a.b.protein.safetensors"),
            Some("a.b")
        );
    }
}
