//! The feature files of two runs (kept with `--keep-features`), row by row: rows are
//! matched by sequence ID within the shard of the same name, which two runs of the same
//! reads with the same `--shard-size` share. Our files are read through
//! [`FeatureFile`] (memory-mapped), the Python tools' `.pt` files through
//! [`read_legacy_features`].
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{note_id, CompareError, ComparedRun, Side};
use crate::features::{FeatureFile, FeatureKind};
use crate::legacy::{read_legacy_features, LegacyFeatures, LegacyKind};
use crate::merge::{natural_cmp, shard_of, IdExamples, Side as MergeSide};

/// The feature kinds a run keeps, in pipeline order.
pub const COMPARED_KINDS: [FeatureKind; 3] = [
    FeatureKind::Nucleotide,
    FeatureKind::Protein,
    FeatureKind::Merged,
];

/// The Python tools' merged files, `{shard}_merged.pt`.
const LEGACY_MERGED_SUFFIX: &str = "_merged.pt";

/// How far apart the matched rows are.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FeatureStats {
    /// The largest |a − b| of any value, and the row it is in.
    pub max_abs_diff: f64,
    pub max_abs_diff_id: String,
    /// The lowest cosine similarity of two matched rows, and that row.
    pub min_cosine: f64,
    pub min_cosine_id: String,
    pub mean_cosine: f64,
}

/// One feature kind of both runs, compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FeatureComparison {
    pub kind: FeatureKind,
    /// Shards present in both runs.
    pub shards: u64,
    pub shards_only_in_a: Vec<String>,
    pub shards_only_in_b: Vec<String>,
    /// Values per row.
    pub dim: usize,
    /// Rows matched by ID and compared.
    pub rows: u64,
    /// Rows of a shard both runs have whose ID is in one run's file only.
    pub only_in_a: IdExamples,
    pub only_in_b: IdExamples,
    /// `None` when no row was compared.
    pub stats: Option<FeatureStats>,
}

/// A feature kind only one run kept (the other ran without `--keep-features`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FeatureSkip {
    pub kind: FeatureKind,
    pub kept_in: Side,
}

/// Every feature kind both runs kept, compared; those only one kept, listed.
pub(super) fn compare_features(
    a: &ComparedRun,
    b: &ComparedRun,
) -> Result<(Vec<FeatureComparison>, Vec<FeatureSkip>), CompareError> {
    let mut compared = Vec::new();
    let mut skipped = Vec::new();
    for kind in COMPARED_KINDS {
        let files_a = shard_files(a, kind)?;
        let files_b = shard_files(b, kind)?;
        match (files_a.is_empty(), files_b.is_empty()) {
            (false, false) => compared.push(compare_kind(kind, &files_a, &files_b)?),
            (false, true) => skipped.push(FeatureSkip {
                kind,
                kept_in: Side::A,
            }),
            (true, false) => skipped.push(FeatureSkip {
                kind,
                kept_in: Side::B,
            }),
            (true, true) => {}
        }
    }
    Ok((compared, skipped))
}

/// The shard name of a feature file of `kind`: ours (`{shard}.{kind}.safetensors`) or
/// the Python tools' (`{shard}_DNABERT_S.pt`, `{shard}_ESM.pt`, `{shard}_merged.pt`).
fn shard_name(kind: FeatureKind, file_name: &str) -> Option<&str> {
    match kind {
        FeatureKind::Nucleotide => shard_of(file_name, MergeSide::Nucleotide),
        FeatureKind::Protein => shard_of(file_name, MergeSide::Protein),
        FeatureKind::Merged => kind.shard_of(file_name).or_else(|| {
            file_name
                .strip_suffix(LEGACY_MERGED_SUFFIX)
                .filter(|s| !s.is_empty())
        }),
        FeatureKind::Scores => None,
    }
}

/// The run's files of `kind` by shard name; none when it did not keep them.
fn shard_files(
    run: &ComparedRun,
    kind: FeatureKind,
) -> Result<BTreeMap<String, PathBuf>, CompareError> {
    let mut files = BTreeMap::new();
    let Some(dir) = run.feature_dir(kind) else {
        return Ok(files);
    };
    for entry in std::fs::read_dir(&dir).map_err(CompareError::io(&dir))? {
        let path = entry.map_err(CompareError::io(&dir))?.path();
        let Some(shard) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| shard_name(kind, n))
        else {
            continue;
        };
        if let Some(first) = files.insert(shard.to_owned(), path.clone()) {
            return Err(CompareError::DuplicateShard {
                shard: shard.to_owned(),
                first,
                second: path,
            });
        }
    }
    Ok(files)
}

fn compare_kind(
    kind: FeatureKind,
    files_a: &BTreeMap<String, PathBuf>,
    files_b: &BTreeMap<String, PathBuf>,
) -> Result<FeatureComparison, CompareError> {
    let only = |of: &BTreeMap<String, PathBuf>, other: &BTreeMap<String, PathBuf>| {
        let mut names: Vec<String> = of
            .keys()
            .filter(|s| !other.contains_key(*s))
            .cloned()
            .collect();
        names.sort_by(|x, y| natural_cmp(x, y));
        names
    };
    let mut shared: Vec<&String> = files_a
        .keys()
        .filter(|s| files_b.contains_key(*s))
        .collect();
    shared.sort_by(|x, y| natural_cmp(x, y));
    let mut tally = FeatureTally::default();
    for shard in &shared {
        compare_shard(kind, &files_a[*shard], &files_b[*shard], &mut tally)?;
    }
    Ok(FeatureComparison {
        kind,
        shards: shared.len() as u64,
        shards_only_in_a: only(files_a, files_b),
        shards_only_in_b: only(files_b, files_a),
        dim: tally.dim,
        rows: tally.rows,
        only_in_a: tally.only_in_a,
        only_in_b: tally.only_in_b,
        stats: tally.stats.map(|s| FeatureStats {
            mean_cosine: s.cosine_sum / tally.rows as f64,
            max_abs_diff: s.max_abs_diff,
            max_abs_diff_id: s.max_abs_diff_id,
            min_cosine: s.min_cosine,
            min_cosine_id: s.min_cosine_id,
        }),
    })
}

/// The rows of one shard's file, ours or the Python tools'.
enum ShardRows {
    Mapped(FeatureFile),
    Legacy(LegacyFeatures),
}

impl ShardRows {
    fn open(path: &Path, kind: FeatureKind) -> Result<Self, CompareError> {
        let (rows, found) = if path.extension().is_some_and(|e| e == "pt") {
            let legacy = read_legacy_features(path)?;
            let found = match legacy.kind {
                LegacyKind::Dnabert => FeatureKind::Nucleotide,
                LegacyKind::Esm => FeatureKind::Protein,
                LegacyKind::Merged => FeatureKind::Merged,
            };
            (Self::Legacy(legacy), found)
        } else {
            let file = FeatureFile::open(path)?;
            let found = file.meta().kind;
            (Self::Mapped(file), found)
        };
        if found != kind {
            return Err(CompareError::WrongKind {
                path: path.to_path_buf(),
                found,
                expected: kind,
            });
        }
        Ok(rows)
    }

    fn ids(&self) -> &[String] {
        match self {
            Self::Mapped(file) => file.ids(),
            Self::Legacy(legacy) => &legacy.ids,
        }
    }

    fn dim(&self) -> usize {
        match self {
            Self::Mapped(file) => file.dim(),
            Self::Legacy(legacy) => legacy.dim,
        }
    }

    fn row_into(&self, row: usize, out: &mut [f32]) {
        match self {
            Self::Mapped(file) => file.row_into(row, out),
            Self::Legacy(legacy) => {
                out.copy_from_slice(&legacy.data[row * legacy.dim..(row + 1) * legacy.dim])
            }
        }
    }
}

fn compare_shard(
    kind: FeatureKind,
    path_a: &Path,
    path_b: &Path,
    tally: &mut FeatureTally,
) -> Result<(), CompareError> {
    let a = ShardRows::open(path_a, kind)?;
    let b = ShardRows::open(path_b, kind)?;
    if a.dim() != b.dim() {
        return Err(CompareError::WidthMismatch {
            a: path_a.to_path_buf(),
            b: path_b.to_path_buf(),
            dim_a: a.dim(),
            dim_b: b.dim(),
        });
    }
    tally.dim = a.dim();
    let mut b_rows: HashMap<&str, usize> = HashMap::with_capacity(b.ids().len());
    for (j, id) in b.ids().iter().enumerate().rev() {
        b_rows.insert(id, j);
    }
    let (mut row_a, mut row_b) = (vec![0f32; a.dim()], vec![0f32; b.dim()]);
    let mut used = vec![false; b.ids().len()];
    for (i, id) in a.ids().iter().enumerate() {
        match b_rows.remove(id.as_str()) {
            Some(j) => {
                used[j] = true;
                a.row_into(i, &mut row_a);
                b.row_into(j, &mut row_b);
                tally.add(id, &row_a, &row_b);
            }
            None => note_id(&mut tally.only_in_a, id),
        }
    }
    for (id, used) in b.ids().iter().zip(used) {
        if !used {
            note_id(&mut tally.only_in_b, id);
        }
    }
    Ok(())
}

#[derive(Default)]
struct FeatureTally {
    dim: usize,
    rows: u64,
    only_in_a: IdExamples,
    only_in_b: IdExamples,
    stats: Option<RunningStats>,
}

struct RunningStats {
    max_abs_diff: f64,
    max_abs_diff_id: String,
    min_cosine: f64,
    min_cosine_id: String,
    cosine_sum: f64,
}

impl FeatureTally {
    fn add(&mut self, id: &str, a: &[f32], b: &[f32]) {
        let (diff, cosine) = row_distance(a, b);
        self.rows += 1;
        let Some(stats) = &mut self.stats else {
            self.stats = Some(RunningStats {
                max_abs_diff: diff,
                max_abs_diff_id: id.to_owned(),
                min_cosine: cosine,
                min_cosine_id: id.to_owned(),
                cosine_sum: cosine,
            });
            return;
        };
        stats.cosine_sum += cosine;
        // A NaN is the worst value and stays so.
        if !stats.max_abs_diff.is_nan() && (diff.is_nan() || diff > stats.max_abs_diff) {
            stats.max_abs_diff = diff;
            stats.max_abs_diff_id = id.to_owned();
        }
        if !stats.min_cosine.is_nan() && (cosine.is_nan() || cosine < stats.min_cosine) {
            stats.min_cosine = cosine;
            stats.min_cosine_id = id.to_owned();
        }
    }
}

/// The largest |a − b| of the two rows and their cosine similarity, in f64. Two zero rows
/// are the same direction (1); a zero row and another are not (0).
pub(super) fn row_distance(a: &[f32], b: &[f32]) -> (f64, f64) {
    let (mut max, mut dot, mut norm_a, mut norm_b) = (0f64, 0f64, 0f64, 0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        let diff = (x - y).abs();
        if !max.is_nan() && (diff.is_nan() || diff > max) {
            max = diff;
        }
        dot += x * y;
        norm_a += x * x;
        norm_b += y * y;
    }
    let cosine = if norm_a == 0.0 || norm_b == 0.0 {
        if norm_a == norm_b {
            1.0
        } else {
            0.0
        }
    } else {
        // sqrt(n·n) is n exactly, so identical rows give exactly 1.
        dot / (norm_a * norm_b).sqrt()
    };
    (max, cosine)
}
