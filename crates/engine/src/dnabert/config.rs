//! The parts of a DNABERT-S `config.json` the encoder needs, checked.
//!
//! Only the head count cannot be read from tensor shapes, so it is the one required value;
//! everything else is cross-checked against the weights in `model.rs` when present.
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::DnaBertError;

/// The value MosaicBERT's `BertConfig` falls back to.
const DEFAULT_LAYER_NORM_EPS: f64 = 1e-12;

#[derive(Debug, Deserialize)]
struct RawConfig {
    model_type: Option<String>,
    num_attention_heads: Option<i64>,
    hidden_size: Option<i64>,
    num_hidden_layers: Option<i64>,
    intermediate_size: Option<i64>,
    vocab_size: Option<i64>,
    layer_norm_eps: Option<f64>,
}

/// A read and validated `config.json`.
#[derive(Debug, Clone)]
pub struct DnaBertConfig {
    pub path: PathBuf,
    pub num_attention_heads: i64,
    pub layer_norm_eps: f64,
    /// Declared sizes, to be cross-checked against the weights.
    pub hidden_size: Option<i64>,
    pub num_hidden_layers: Option<i64>,
    pub intermediate_size: Option<i64>,
    pub vocab_size: Option<i64>,
}

impl DnaBertConfig {
    pub fn from_file(path: &Path) -> Result<Self, DnaBertError> {
        if !path.is_file() {
            return Err(DnaBertError::MissingFile {
                path: path.to_path_buf(),
                what: "config.json",
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| DnaBertError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json(path, &text)
    }

    fn from_json(path: &Path, text: &str) -> Result<Self, DnaBertError> {
        let raw: RawConfig =
            serde_json::from_str(text).map_err(|source| DnaBertError::ConfigSyntax {
                path: path.to_path_buf(),
                source,
            })?;
        let bad = |problem: String| DnaBertError::BadConfig {
            path: path.to_path_buf(),
            problem,
        };
        // DNABERT-S and DNABERT-2 both say "bert"; an ESM or other folder says otherwise.
        if let Some(model_type) = raw.model_type.as_deref() {
            if model_type != "bert" {
                return Err(DnaBertError::WrongArchitecture {
                    path: path.to_path_buf(),
                    problem: format!("model_type is {model_type:?}, expected \"bert\""),
                });
            }
        }
        let heads = raw
            .num_attention_heads
            .ok_or_else(|| bad("num_attention_heads is missing".into()))?;
        if heads < 1 {
            return Err(bad(format!("num_attention_heads is {heads}, must be >= 1")));
        }
        let eps = raw.layer_norm_eps.unwrap_or(DEFAULT_LAYER_NORM_EPS);
        if !(eps.is_finite() && eps > 0.0) {
            return Err(bad(format!(
                "layer_norm_eps is {eps}, must be finite and > 0"
            )));
        }
        for (name, value) in [
            ("hidden_size", raw.hidden_size),
            ("num_hidden_layers", raw.num_hidden_layers),
            ("intermediate_size", raw.intermediate_size),
            ("vocab_size", raw.vocab_size),
        ] {
            if let Some(v) = value {
                if v < 1 {
                    return Err(bad(format!("{name} is {v}, must be >= 1")));
                }
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            num_attention_heads: heads,
            layer_norm_eps: eps,
            hidden_size: raw.hidden_size,
            num_hidden_layers: raw.num_hidden_layers,
            intermediate_size: raw.intermediate_size,
            vocab_size: raw.vocab_size,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<DnaBertConfig, DnaBertError> {
        DnaBertConfig::from_json(Path::new("config.json"), text)
    }

    #[test]
    fn reads_heads_and_eps() {
        let c = parse(r#"{"model_type":"bert","num_attention_heads":12,"layer_norm_eps":1e-5}"#)
            .unwrap();
        assert_eq!(c.num_attention_heads, 12);
        assert_eq!(c.layer_norm_eps, 1e-5);
        let c = parse(r#"{"num_attention_heads":4}"#).unwrap();
        assert_eq!(c.layer_norm_eps, DEFAULT_LAYER_NORM_EPS);
    }

    #[test]
    fn refuses_bad_values() {
        for text in [
            r#"{}"#,
            r#"{"num_attention_heads":0}"#,
            r#"{"num_attention_heads":12,"layer_norm_eps":-1.0}"#,
            r#"{"num_attention_heads":12,"layer_norm_eps":0.0}"#,
            r#"{"num_attention_heads":12,"hidden_size":0}"#,
        ] {
            let err = parse(text).unwrap_err();
            assert!(
                matches!(err, DnaBertError::BadConfig { .. }),
                "{text}: {err}"
            );
        }
        assert!(matches!(
            parse(r#"{"model_type":"esm","num_attention_heads":20}"#).unwrap_err(),
            DnaBertError::WrongArchitecture { .. }
        ));
        assert!(matches!(
            parse("not json").unwrap_err(),
            DnaBertError::ConfigSyntax { .. }
        ));
    }
}
