//! Where a DNABERT-S model's files are, and what its weights say about its shape.
//!
//! Sizes are read from tensor shapes (the file is the truth about what it holds) and then
//! compared with config.json, so that a config that does not belong to the weights is an
//! error rather than a crash or a silently wrong model.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::weights::Checkpoint;

use super::config::DnaBertConfig;
use super::error::DnaBertError;

/// DNABERT-2-117M style files (`BertForMaskedLM`) keep the encoder under this prefix.
const MLM_PREFIX: &str = "bert.";
/// The MLM head next to the prefixed encoder; embeddings never need it.
const MLM_HEAD_PREFIX: &str = "cls.";
const WORD_EMBEDDINGS: &str = "embeddings.word_embeddings.weight";
const LAYER_PREFIX: &str = "encoder.layer.";

/// The model folder (config.json, tokenizer.json) and what to hand `Checkpoint::open`.
pub fn resolve(path: &Path) -> Result<(PathBuf, PathBuf), DnaBertError> {
    if path.is_dir() {
        Ok((path.to_path_buf(), path.to_path_buf()))
    } else if path.is_file() {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Ok((dir, path.to_path_buf()))
    } else {
        Err(DnaBertError::MissingFile {
            path: path.to_path_buf(),
            what: "model folder or weights file",
        })
    }
}

/// Drops the `bert.` prefix of MLM checkpoints, refusing anything else beside it.
pub fn encoder_weights(ckpt: Checkpoint) -> Result<Checkpoint, DnaBertError> {
    let prefixed = format!("{MLM_PREFIX}{WORD_EMBEDDINGS}");
    if !ckpt.contains(&prefixed) {
        return Ok(ckpt);
    }
    let stray: Vec<&str> = ckpt
        .names()
        .into_iter()
        .filter(|n| !n.starts_with(MLM_PREFIX) && !n.starts_with(MLM_HEAD_PREFIX))
        .collect();
    if !stray.is_empty() {
        return Err(DnaBertError::WrongArchitecture {
            path: weights_file(&ckpt),
            problem: format!(
                "a `bert.`-prefixed checkpoint with other keys beside `cls.`: {}",
                preview(&stray)
            ),
        });
    }
    tracing::debug!(path = %ckpt.path().display(), "using the `bert.` encoder of an MLM checkpoint");
    Ok(ckpt.with_prefix(MLM_PREFIX))
}

/// Sizes read from the weights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    pub vocab: i64,
    pub hidden: i64,
    pub layers: usize,
    pub intermediate: i64,
    pub token_types: i64,
}

impl Shape {
    /// Reads the sizes from the checkpoint's shapes; the first thing that is not MosaicBERT
    /// (an ESM or a classic BERT checkpoint) is a wrong-architecture error.
    pub fn infer(ckpt: &Checkpoint) -> Result<Self, DnaBertError> {
        let wrong = |problem: String| DnaBertError::WrongArchitecture {
            path: weights_file(ckpt),
            problem,
        };
        let shape_of = |name: &str| ckpt.info(name).map(|i| i.shape.clone());
        let Some(word) = shape_of(WORD_EMBEDDINGS) else {
            return Err(wrong(format!(
                "no {WORD_EMBEDDINGS} (keys found: {})",
                preview(&ckpt.names())
            )));
        };
        let [vocab, hidden] = word[..] else {
            return Err(wrong(format!(
                "{WORD_EMBEDDINGS} has shape {word:?}, expected 2-D"
            )));
        };
        let layer_ids: BTreeSet<usize> = ckpt
            .names()
            .into_iter()
            .filter_map(|n| n.strip_prefix(LAYER_PREFIX))
            .filter_map(|rest| rest.split('.').next()?.parse().ok())
            .collect();
        let Some(&last) = layer_ids.last() else {
            return Err(wrong("no encoder.layer.* weights".into()));
        };
        let wqkv = "encoder.layer.0.attention.self.Wqkv.weight";
        if !ckpt.contains(wqkv) {
            return Err(wrong(format!(
                "no fused attention weight {wqkv} (a classic BERT checkpoint has separate query/key/value)"
            )));
        }
        let wo = "encoder.layer.0.mlp.wo.weight";
        let intermediate = match shape_of(wo).as_deref() {
            Some(&[_, i]) => i,
            Some(other) => return Err(wrong(format!("{wo} has shape {other:?}, expected 2-D"))),
            None => return Err(wrong(format!("no gated MLP weight {wo}"))),
        };
        let tt = "embeddings.token_type_embeddings.weight";
        let token_types = match shape_of(tt).as_deref() {
            Some(&[n, _]) if n >= 1 => n,
            Some(other) => return Err(wrong(format!("{tt} has shape {other:?}"))),
            None => 1, // reported as missing by check_keys with the expected shape
        };
        Ok(Self {
            vocab,
            hidden,
            layers: last + 1,
            intermediate,
            token_types,
        })
    }

    /// Every tensor a MosaicBERT encoder of this shape needs, with its shape.
    pub fn expected_keys(&self) -> Vec<(String, Vec<i64>)> {
        let (h, i) = (self.hidden, self.intermediate);
        let mut keys = vec![
            (WORD_EMBEDDINGS.to_string(), vec![self.vocab, h]),
            (
                "embeddings.token_type_embeddings.weight".to_string(),
                vec![self.token_types, h],
            ),
            ("embeddings.LayerNorm.weight".to_string(), vec![h]),
            ("embeddings.LayerNorm.bias".to_string(), vec![h]),
        ];
        for l in 0..self.layers {
            let p = format!("{LAYER_PREFIX}{l}");
            let mut add = |name: &str, shape: Vec<i64>| keys.push((format!("{p}.{name}"), shape));
            add("attention.self.Wqkv.weight", vec![3 * h, h]);
            add("attention.self.Wqkv.bias", vec![3 * h]);
            add("attention.output.dense.weight", vec![h, h]);
            add("attention.output.dense.bias", vec![h]);
            add("attention.output.LayerNorm.weight", vec![h]);
            add("attention.output.LayerNorm.bias", vec![h]);
            add("mlp.gated_layers.weight", vec![2 * i, h]);
            add("mlp.wo.weight", vec![h, i]);
            add("mlp.wo.bias", vec![h]);
            add("mlp.layernorm.weight", vec![h]);
            add("mlp.layernorm.bias", vec![h]);
        }
        keys
    }

    /// Lists every disagreement between config.json and the weights at once.
    pub fn check_config(&self, config: &DnaBertConfig, weights: &Path) -> Result<(), DnaBertError> {
        let mut problems = Vec::new();
        let layers = self.layers as i64;
        for (name, declared, found) in [
            ("hidden_size", config.hidden_size, self.hidden),
            ("num_hidden_layers", config.num_hidden_layers, layers),
            (
                "intermediate_size",
                config.intermediate_size,
                self.intermediate,
            ),
            ("vocab_size", config.vocab_size, self.vocab),
        ] {
            if let Some(declared) = declared {
                if declared != found {
                    problems.push(format!(
                        "{name} is {declared} in config.json but {found} in the weights"
                    ));
                }
            }
        }
        if self.hidden % config.num_attention_heads != 0 {
            problems.push(format!(
                "hidden size {} is not a multiple of num_attention_heads {}",
                self.hidden, config.num_attention_heads
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(DnaBertError::ConfigMismatch {
                path: weights.to_path_buf(),
                problem: format!(
                    "{} (config: {})",
                    problems.join("; "),
                    config.path.display()
                ),
            })
        }
    }
}

/// Keys that a BertModel file may carry but the encoder does not use.
pub fn ignorable(name: &str) -> bool {
    // The CLS pooler (dense + tanh) is not part of VirNucPro's mean embedding; the
    // token-type/position-id buffers appear in some exports.
    name.starts_with("pooler.")
        || name == "embeddings.token_type_ids"
        || name == "embeddings.position_ids"
}

/// The weight file a message should name: the file itself when there is one (a folder
/// path would not say which of its files was read), else the folder or index.
pub fn weights_file(ckpt: &Checkpoint) -> PathBuf {
    match ckpt.files() {
        [one] => one.clone(),
        _ => ckpt.path().to_path_buf(),
    }
}

fn preview(names: &[&str]) -> String {
    const SHOWN: usize = 5;
    let mut s = names
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        s.push_str(&format!(", … ({} in all)", names.len()));
    }
    if s.is_empty() {
        s.push_str("none");
    }
    s
}
