//! DNABERT-S (`zhihan1996/DNABERT-S`): the MosaicBERT / DNABERT-2 encoder that gives
//! VirNucPro its nucleotide embeddings, with its BPE tokenizer.

mod error;
mod tokenizer;

pub use error::DnaBertError;
pub use tokenizer::DnaTokenizer;
