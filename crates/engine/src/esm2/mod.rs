//! ESM-2 protein language model (fair-esm `ESM2` / Hugging Face `EsmModel`), any size from
//! 8M to 15B, configured from the checkpoint.
mod alphabet;
mod config;
mod error;
mod keys;

pub use alphabet::{Alphabet, AlphabetError};
pub use config::Esm2Config;
pub use error::{Esm2Error, Esm2Problem};
