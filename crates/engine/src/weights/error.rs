//! Typed errors of weight loading. Every one names the file or folder it concerns.
use std::fmt;
use std::path::PathBuf;

use virnucpro_core::pickle::TorchFileError;

/// A tensor whose shape in the checkpoint differs from what the model needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeMismatch {
    pub name: String,
    pub expected: Vec<i64>,
    pub found: Vec<i64>,
}

impl fmt::Display for ShapeMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} has shape {:?}, expected {:?}",
            self.name, self.found, self.expected
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WeightError {
    #[error("{}: no such file or folder", path.display())]
    NotFound { path: PathBuf },
    #[error("{}: no model weights in this folder (looked for {})", dir.display(), looked_for.join(", "))]
    NoWeights {
        dir: PathBuf,
        looked_for: Vec<&'static str>,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a readable safetensors file: {reason}", path.display())]
    Safetensors { path: PathBuf, reason: String },
    #[error("{}: not a supported weight file: {reason}", path.display())]
    Format { path: PathBuf, reason: String },
    #[error("{}: {}", .0.path.display(), .0.problem)]
    Torch(#[from] TorchFileError),
    #[error("{}: sharded checkpoint index: {reason}", path.display())]
    Index { path: PathBuf, reason: String },
    #[error("{}: the weights do not fit the model: {}", path.display(), describe_keys(missing, unexpected, mismatched))]
    Keys {
        path: PathBuf,
        missing: Vec<String>,
        unexpected: Vec<String>,
        mismatched: Vec<ShapeMismatch>,
    },
    #[error("{}: no tensor named {name}", path.display())]
    MissingTensor { path: PathBuf, name: String },
    #[error("{}: tensor {name} has dtype {dtype}, which cannot be loaded", path.display())]
    UnsupportedDtype {
        path: PathBuf,
        name: String,
        dtype: String,
    },
    #[error("{}: libtorch failed while loading {name}: {source}", path.display())]
    Tch {
        path: PathBuf,
        name: String,
        #[source]
        source: tch::TchError,
    },
}

/// At most this many names of each kind are spelled out in a message.
const LISTED: usize = 8;

fn list<T: fmt::Display>(what: &str, items: &[T]) -> Option<String> {
    if items.is_empty() {
        return None;
    }
    let shown: Vec<String> = items.iter().take(LISTED).map(|i| i.to_string()).collect();
    let more = items.len().saturating_sub(LISTED);
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    Some(format!(
        "{} {what}: {}{tail}",
        items.len(),
        shown.join(", ")
    ))
}

fn describe_keys(
    missing: &[String],
    unexpected: &[String],
    mismatched: &[ShapeMismatch],
) -> String {
    [
        list("missing", missing),
        list("unexpected", unexpected),
        list("with the wrong shape", mismatched),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_errors_list_every_kind_and_truncate() {
        let missing: Vec<String> = (0..10).map(|i| format!("layer.{i}.w")).collect();
        let err = WeightError::Keys {
            path: "m.safetensors".into(),
            missing,
            unexpected: vec!["extra".into()],
            mismatched: vec![ShapeMismatch {
                name: "emb".into(),
                expected: vec![33, 64],
                found: vec![33, 32],
            }],
        };
        let text = err.to_string();
        assert!(text
            .starts_with("m.safetensors: the weights do not fit the model: 10 missing: layer.0.w"));
        assert!(text.contains("layer.7.w and 2 more"));
        assert!(!text.contains("layer.8.w"));
        assert!(text.contains("1 unexpected: extra"));
        assert!(text.contains("1 with the wrong shape: emb has shape [33, 32], expected [33, 64]"));
    }
}
