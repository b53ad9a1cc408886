//! A feature matrix held in memory: what a feature file holds, for a run that passes the
//! embeddings from the encoders through the merge to the classifier without writing them.
use super::FeatureMeta;

/// Rows in memory with the metadata their file would carry (`meta.ids` names the rows,
/// `meta.dim` is the width; `rows.len() == meta.ids.len() * meta.dim`).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureTable {
    pub meta: FeatureMeta,
    pub rows: Vec<f32>,
}

impl FeatureTable {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.meta.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.meta.ids.is_empty()
    }

    /// Row `i`, `meta.dim` values.
    pub fn row(&self, i: usize) -> &[f32] {
        let dim = self.meta.dim;
        &self.rows[i * dim..(i + 1) * dim]
    }
}
