//! ESM-2 protein language model (fair-esm `ESM2` / Hugging Face `EsmModel`), any size.
mod alphabet;

pub use alphabet::{Alphabet, AlphabetError};
