//! Each shard's classifier scores, `scores/{shard}.scores.safetensors`: what a run keeps
//! of a shard so that a resume need not embed, merge and classify it again.
//!
//! The file is a feature file (`core::features`, kind `scores`) of two columns,
//! `p_others` and `p_virus`, one row per frame in the shard's order, so it carries the
//! frame IDs, a data checksum and what it was made from:
//! - `model` names every model the scores depend on and their precision
//!   ([`scores_model`]);
//! - `inputs` are the shard's two prepared files (`nucleotide/output_N.fa`,
//!   `protein/output_N.faa`) by content.
//!
//! A resume reuses the scores only when all three match and the data passes its checksum
//! ([`up_to_date`]); the reports are then rebuilt from them byte for byte, since the
//! reports are made from exactly these `f32` values.
use std::path::Path;

use crate::features::{
    write_features, FeatureError, FeatureFile, FeatureKind, FeatureMeta, InputChecksum,
};

/// Two values per row: `p_others`, `p_virus`.
pub const SCORE_COLUMNS: usize = 2;

/// The `model` a shard's scores are recorded with: the classifier and both encoders
/// (their ids include the precision), so changing any of them invalidates the scores.
pub fn scores_model(classifier: &str, dnabert: &str, esm: &str) -> String {
    format!("{classifier} ← {dnabert} + {esm}")
}

/// One shard's scores, read back.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedScores {
    pub ids: Vec<String>,
    /// `(p_others, p_virus)` per row, in row order.
    pub scores: Vec<(f32, f32)>,
}

/// Write a shard's scores atomically (the file appears complete or not at all).
pub fn write_scores(
    path: &Path,
    model: &str,
    inputs: Vec<InputChecksum>,
    ids: Vec<String>,
    scores: &[(f32, f32)],
) -> Result<u64, FeatureError> {
    let meta = FeatureMeta {
        kind: FeatureKind::Scores,
        model: model.to_owned(),
        dim: SCORE_COLUMNS,
        ids,
        inputs,
    };
    let data: Vec<f32> = scores.iter().flat_map(|&(o, v)| [o, v]).collect();
    write_features(path, &meta, &data)
}

/// Read a shard's scores, checking that the file holds scores and that its data is what
/// was written.
pub fn read_scores(path: &Path) -> Result<SavedScores, FeatureError> {
    let file = FeatureFile::open(path)?;
    check_shape(&file)?;
    file.verify_data()?;
    let values = file.to_vec();
    Ok(SavedScores {
        ids: file.ids().to_vec(),
        scores: values
            .chunks_exact(SCORE_COLUMNS)
            .map(|c| (c[0], c[1]))
            .collect(),
    })
}

fn check_shape(file: &FeatureFile) -> Result<(), FeatureError> {
    let meta = file.meta();
    if meta.kind == FeatureKind::Scores && meta.dim == SCORE_COLUMNS {
        return Ok(());
    }
    Err(FeatureError::Shape {
        path: file.path().to_path_buf(),
        reason: format!(
            "holds {} rows of width {}, not scores (width {SCORE_COLUMNS})",
            meta.kind, meta.dim
        ),
    })
}

/// The number of rows of the scores at `path` when they were made by `model` from exactly
/// `inputs` and their data is sound; `None` otherwise (absent, stale or damaged: the shard
/// is scored again and the file replaced).
pub fn up_to_date(path: &Path, model: &str, inputs: &[InputChecksum]) -> Option<usize> {
    if !path.is_file() {
        return None;
    }
    let header = FeatureFile::validate_header(path).ok()?;
    let meta = &header.meta;
    if meta.kind != FeatureKind::Scores || meta.model != model || meta.inputs != inputs {
        tracing::info!("{}: made from other shards or models", path.display());
        return None;
    }
    match FeatureFile::open(path).and_then(|f| check_shape(&f).and_then(|()| f.verify_data())) {
        Ok(_) => Some(header.rows),
        Err(e) => {
            tracing::warn!("{e}; scoring the shard again");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str) -> InputChecksum {
        InputChecksum {
            name: name.into(),
            xxh3: "0123456789abcdef".into(),
            bytes: 10,
        }
    }

    #[test]
    fn scores_round_trip_exactly_and_are_reused_only_when_everything_matches() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("output_0.scores.safetensors");
        let inputs = vec![input("output_0.fa"), input("output_0.faa")];
        let model = scores_model("c", "d", "e");
        // Values whose decimal form is long: the reports must be rebuilt from the bits.
        let scores = vec![(0.1f32, 0.9f32), (f32::MIN_POSITIVE, 1.0 - f32::EPSILON)];
        let ids = vec!["r1_F1".to_string(), "r1_R3".to_string()];
        write_scores(&path, &model, inputs.clone(), ids.clone(), &scores).unwrap();
        let read = read_scores(&path).unwrap();
        assert_eq!(read.ids, ids);
        assert_eq!(read.scores.len(), 2);
        for (a, b) in read.scores.iter().zip(&scores) {
            assert_eq!(a.0.to_bits(), b.0.to_bits());
            assert_eq!(a.1.to_bits(), b.1.to_bits());
        }
        assert_eq!(up_to_date(&path, &model, &inputs), Some(2));
        assert_eq!(up_to_date(&path, "other", &inputs), None);
        assert_eq!(up_to_date(&path, &model, &inputs[..1]), None);
        assert_eq!(
            up_to_date(&dir.path().join("absent"), &model, &inputs),
            None
        );
    }

    #[test]
    fn damaged_scores_are_not_reused_and_a_merged_file_is_not_scores() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.safetensors");
        let inputs = vec![input("a")];
        write_scores(
            &path,
            "m",
            inputs.clone(),
            vec!["x".into()],
            &[(0.25, 0.75)],
        )
        .unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(up_to_date(&path, "m", &inputs), None);
        assert!(read_scores(&path).is_err());

        let merged = dir.path().join("m.safetensors");
        let meta = FeatureMeta {
            kind: FeatureKind::Merged,
            model: "m".into(),
            dim: 2,
            ids: vec!["x".into()],
            inputs: inputs.clone(),
        };
        write_features(&merged, &meta, &[0.5, 0.5]).unwrap();
        assert_eq!(up_to_date(&merged, "m", &inputs), None);
        let err = read_scores(&merged).unwrap_err().to_string();
        assert!(err.contains("not scores"), "{err}");
    }
}
