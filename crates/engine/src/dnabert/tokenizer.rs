//! The DNABERT-S BPE tokenizer, read from the model's own `tokenizer.json`.
//!
//! The file that ships with DNABERT-S asks for fixed padding to 2000 tokens and truncation
//! at 2000. Both are switched off here: padding without an attention mask changes every
//! embedding (measured 3.1 max-abs on the first tokens), and truncation would silently
//! drop sequence. Batching pads explicitly with [`DnaTokenizer::pad_id`] and a mask.
use std::path::{Path, PathBuf};

use tch::Tensor;
use tokenizers::Tokenizer;

use super::error::DnaBertError;

/// `[PAD]` in the DNABERT-S vocabulary; used when the file does not name a pad token.
const DEFAULT_PAD_ID: i64 = 3;

pub struct DnaTokenizer {
    inner: Tokenizer,
    path: PathBuf,
    pad_id: i64,
}

impl std::fmt::Debug for DnaTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnaTokenizer")
            .field("path", &self.path)
            .field("pad_id", &self.pad_id)
            .finish_non_exhaustive()
    }
}

impl DnaTokenizer {
    /// Loads `tokenizer.json` from a model folder.
    pub fn from_dir(dir: &Path) -> Result<Self, DnaBertError> {
        Self::from_file(&dir.join("tokenizer.json"))
    }

    /// Loads a `tokenizer.json` file and switches off its padding and truncation.
    pub fn from_file(path: &Path) -> Result<Self, DnaBertError> {
        if !path.is_file() {
            return Err(DnaBertError::MissingFile {
                path: path.to_path_buf(),
                what: "tokenizer.json",
            });
        }
        let mut inner = Tokenizer::from_file(path).map_err(|e| DnaBertError::Tokenizer {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        // Read the pad id before dropping the padding settings that carry it.
        let pad_id = inner
            .get_padding()
            .map(|p| i64::from(p.pad_id))
            .or_else(|| inner.token_to_id("[PAD]").map(i64::from))
            .unwrap_or(DEFAULT_PAD_ID);
        inner.with_padding(None);
        inner
            .with_truncation(None)
            .map_err(|e| DnaBertError::Tokenizer {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        tracing::debug!(path = %path.display(), pad_id, "loaded DNABERT-S tokenizer");
        Ok(Self {
            inner,
            path: path.to_path_buf(),
            pad_id,
        })
    }

    /// Token ids of one sequence, `[CLS]` and `[SEP]` included.
    pub fn encode(&self, seq: &str) -> Result<Vec<i64>, DnaBertError> {
        let encoding = self
            .inner
            .encode(seq, true)
            .map_err(|e| DnaBertError::Encode {
                path: self.path.clone(),
                message: e.to_string(),
            })?;
        Ok(encoding.get_ids().iter().map(|&id| i64::from(id)).collect())
    }

    /// Token ids of several sequences, right-padded with [`Self::pad_id`] to the longest:
    /// `(ids, mask)`, both `[B, T]` i64 on the CPU, mask 1 for real tokens.
    pub fn batch(&self, sequences: &[&str]) -> Result<(Tensor, Tensor), DnaBertError> {
        let encoded = sequences
            .iter()
            .map(|s| self.encode(s))
            .collect::<Result<Vec<_>, _>>()?;
        let width = encoded.iter().map(Vec::len).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(encoded.len() * width);
        let mut mask = Vec::with_capacity(encoded.len() * width);
        for row in &encoded {
            ids.extend_from_slice(row);
            ids.extend(std::iter::repeat_n(self.pad_id, width - row.len()));
            mask.extend(std::iter::repeat_n(1_i64, row.len()));
            mask.extend(std::iter::repeat_n(0_i64, width - row.len()));
        }
        let shape = [encoded.len() as i64, width as i64];
        Ok((
            Tensor::from_slice(&ids).view(shape),
            Tensor::from_slice(&mask).view(shape),
        ))
    }

    /// Number of ids the tokenizer can produce, added special tokens included.
    pub fn vocab_size(&self) -> i64 {
        self.inner.get_vocab_size(true) as i64
    }

    /// The id that fills the right end of shorter sequences in a batch.
    pub fn pad_id(&self) -> i64 {
        self.pad_id
    }

    /// The `tokenizer.json` this tokenizer came from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
