//! The one error type of the DNABERT-S model: every variant names the file it is about.
use std::path::PathBuf;

use crate::weights::WeightError;

#[derive(Debug, thiserror::Error)]
pub enum DnaBertError {
    #[error("{path}: {what} not found (a DNABERT-S model needs config.json, tokenizer.json and its weights side by side)")]
    MissingFile { path: PathBuf, what: &'static str },

    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: not a valid config.json: {source}")]
    ConfigSyntax {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    #[error("{path}: bad config value: {problem}")]
    BadConfig { path: PathBuf, problem: String },

    #[error("{path}: cannot load the tokenizer: {message}")]
    Tokenizer { path: PathBuf, message: String },

    #[error("{path}: cannot tokenize a sequence: {message}")]
    Encode { path: PathBuf, message: String },

    #[error("{path}: not a DNABERT-S (MosaicBERT) checkpoint: {problem}")]
    WrongArchitecture { path: PathBuf, problem: String },

    #[error("{path}: weights do not agree with config.json: {problem}")]
    ConfigMismatch { path: PathBuf, problem: String },

    #[error(transparent)]
    Weights(#[from] WeightError),
}
