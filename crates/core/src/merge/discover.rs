//! Pairing input files by shard name, never by position.
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::features::FeatureKind;

use super::report::Side;
use super::MergeError;

/// Legacy (Python VirNucPro) file name suffixes: `{shard}_DNABERT_S.pt`, `{shard}_ESM.pt`.
pub const LEGACY_NUCLEOTIDE_SUFFIX: &str = "_DNABERT_S.pt";
pub const LEGACY_PROTEIN_SUFFIX: &str = "_ESM.pt";

/// The inputs of one shard and where its merged file goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairSpec {
    pub shard: String,
    /// Every nucleotide file found for the shard (normally one).
    pub nucleotide: Vec<PathBuf>,
    /// Every protein file found for the shard (normally one).
    pub protein: Vec<PathBuf>,
    pub output: PathBuf,
}

impl PairSpec {
    pub fn inputs(&self, side: Side) -> &[PathBuf] {
        match side {
            Side::Nucleotide => &self.nucleotide,
            Side::Protein => &self.protein,
        }
    }

    /// Both sides have exactly one file.
    pub fn is_complete(&self) -> bool {
        self.nucleotide.len() == 1 && self.protein.len() == 1
    }
}

/// The legacy (Python tools) file name suffix of `side`.
pub fn legacy_suffix(side: Side) -> &'static str {
    match side {
        Side::Nucleotide => LEGACY_NUCLEOTIDE_SUFFIX,
        Side::Protein => LEGACY_PROTEIN_SUFFIX,
    }
}

/// The shard a file of `side` belongs to, from its name: ours
/// (`{shard}.nucleotide.safetensors`, `{shard}.protein.safetensors`) or legacy.
pub fn shard_of(name: &str, side: Side) -> Option<&str> {
    side.feature_kind().shard_of(name).or_else(|| {
        name.strip_suffix(legacy_suffix(side))
            .filter(|s| !s.is_empty())
    })
}

/// The names a file of `shard` on `side` may have.
pub fn expected_names(shard: &str, side: Side) -> Vec<String> {
    vec![
        side.feature_kind().file_name(shard),
        format!("{shard}{}", legacy_suffix(side)),
    ]
}

/// Pair the nucleotide files of one folder with the protein files of another (possibly
/// the same folder) by shard name; outputs go to `out_dir/{shard}.merged.safetensors`.
/// Files with other names are ignored. Shards come in natural order.
pub fn discover(
    nucleotide_dir: &Path,
    protein_dir: &Path,
    out_dir: &Path,
) -> Result<Vec<PairSpec>, MergeError> {
    let mut shards: BTreeMap<String, (Vec<PathBuf>, Vec<PathBuf>)> = BTreeMap::new();
    for (dir, side) in [
        (nucleotide_dir, Side::Nucleotide),
        (protein_dir, Side::Protein),
    ] {
        let read_err = |source| MergeError::ReadDir {
            path: dir.to_path_buf(),
            source,
        };
        let mut found = 0;
        for entry in std::fs::read_dir(dir).map_err(read_err)? {
            let path = entry.map_err(read_err)?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                tracing::debug!(path = %path.display(), "ignored: name is not UTF-8");
                continue;
            };
            let Some(shard) = shard_of(name, side) else {
                continue;
            };
            found += 1;
            let entry = shards.entry(shard.to_string()).or_default();
            match side {
                Side::Nucleotide => entry.0.push(path),
                Side::Protein => entry.1.push(path),
            }
        }
        tracing::debug!(dir = %dir.display(), %side, found, "input files");
    }
    let mut pairs: Vec<PairSpec> = shards
        .into_iter()
        .map(|(shard, (mut nucleotide, mut protein))| {
            nucleotide.sort();
            protein.sort();
            PairSpec {
                output: out_dir.join(FeatureKind::Merged.file_name(&shard)),
                shard,
                nucleotide,
                protein,
            }
        })
        .collect();
    pairs.sort_by(|a, b| natural_cmp(&a.shard, &b.shard));
    Ok(pairs)
}

/// Compare with runs of digits taken as numbers: `output_2` < `output_10`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let (da, ra) = split_digits(a);
                let (db, rb) = split_digits(b);
                let (ta, tb) = (trim_zeros(da), trim_zeros(db));
                let ord = ta
                    .len()
                    .cmp(&tb.len())
                    .then(ta.cmp(tb))
                    .then(da.len().cmp(&db.len()));
                if ord != Ordering::Equal {
                    return ord;
                }
                (a, b) = (ra, rb);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                (a, b) = (&a[1..], &b[1..]);
            }
        }
    }
}

fn split_digits(s: &[u8]) -> (&[u8], &[u8]) {
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    s.split_at(n)
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|c| **c == b'0').count();
    &s[n..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut v = vec!["output_10", "output_2", "output_1", "a", "output_02"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["a", "output_1", "output_2", "output_02", "output_10"]);
    }

    #[test]
    fn names_of_both_formats() {
        assert_eq!(
            shard_of("output_3_DNABERT_S.pt", Side::Nucleotide),
            Some("output_3")
        );
        assert_eq!(shard_of("output_3_ESM.pt", Side::Protein), Some("output_3"));
        assert_eq!(shard_of("output_3_ESM.pt", Side::Nucleotide), None);
        assert_eq!(
            shard_of("output_3.protein.safetensors", Side::Protein),
            Some("output_3")
        );
        assert_eq!(shard_of("output_3.fa", Side::Protein), None);
        assert_eq!(shard_of("_ESM.pt", Side::Protein), None);
    }
}
