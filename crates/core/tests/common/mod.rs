//! Shared by the integration tests: feature files written by the reference safetensors
//! implementation, as another tool (or Python) would write them.
use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{serialize, Dtype, TensorView};

/// Write `embeddings` of `shape` and `dtype` from raw little-endian `bytes`, with our
/// metadata (`ids`, `kind`, `dim` as given, which may disagree with the tensor on purpose).
pub fn write_safetensors(
    path: &Path,
    dtype: Dtype,
    shape: [usize; 2],
    bytes: &[u8],
    ids: &[String],
    kind: &str,
    dim: usize,
) {
    let view = TensorView::new(dtype, shape.to_vec(), bytes).unwrap();
    let metadata = HashMap::from([
        ("ids".to_string(), serde_json::to_string(ids).unwrap()),
        ("kind".to_string(), kind.to_string()),
        ("model".to_string(), "external".to_string()),
        ("dim".to_string(), dim.to_string()),
    ]);
    std::fs::write(
        path,
        serialize([("embeddings", view)], Some(metadata)).unwrap(),
    )
    .unwrap();
}
