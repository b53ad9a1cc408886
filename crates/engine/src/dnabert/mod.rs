//! DNABERT-S (`zhihan1996/DNABERT-S`): the MosaicBERT / DNABERT-2 encoder that gives
//! VirNucPro its nucleotide embeddings, with its BPE tokenizer.
//!
//! A port of DNABERT-2's `bert_layers.py` (`BertModel`): embeddings without positions,
//! post-LN layers with fused QKV attention biased by ALiBi, and a gated-GELU MLP. The
//! embedding VirNucPro uses is the mean of the last hidden state over all tokens,
//! [CLS] and [SEP] included.

mod alibi;
mod config;
mod encoder;
mod error;
mod layer;
mod layout;
mod model;
mod tokenizer;

pub use alibi::slopes as alibi_slopes;
pub use error::DnaBertError;
pub use model::DnaBertS;
pub use tokenizer::DnaTokenizer;

#[cfg(test)]
mod fast_tests;
