//! ESM-2 protein language model (fair-esm `ESM2` / Hugging Face `EsmModel`), any size from
//! 8M to 15B, configured from the checkpoint. fp32 CPU outputs match both reference
//! implementations to 1e-5 (`tests/esm2_parity.rs`).
mod alphabet;
mod config;
mod encoder;
mod error;
mod keys;
mod layer;
mod model;
mod packed;

pub use alphabet::{Alphabet, AlphabetError};
pub use config::Esm2Config;
pub use error::{Esm2Error, Esm2Problem};
pub use model::{Esm2, VIRNUCPRO_MAX_RESIDUES};

#[cfg(test)]
mod fast_tests;
#[cfg(test)]
mod packed_tests;
