//! ESM-2 behind the embedding runner's model traits (`crate::encode`).
use tch::{Device, Tensor};

use crate::encode::{Encode, Tokenize};

use super::alphabet::Alphabet;
use super::model::Esm2;

impl Tokenize for Alphabet {
    fn encode(&self, sequence: &str) -> Result<Vec<i64>, String> {
        Alphabet::encode(self, sequence).map_err(|e| e.to_string())
    }

    fn pad_id(&self) -> i64 {
        Alphabet::PAD
    }
}

impl Encode for Esm2 {
    fn dim(&self) -> usize {
        self.hidden_size()
    }

    /// Rows are `<cls>` + residues + `<eos>`: the residue count is the token count less 2,
    /// which is VirNucPro's `len(sequence)` for the plain residue strings it embeds. (For
    /// text holding special tokens such as `<mask>` the original counted characters; such
    /// text never comes out of six-frame translation.)
    fn embed(&self, ids: &Tensor, lengths: &[i64]) -> Result<Tensor, tch::TchError> {
        let residues: Vec<usize> = lengths.iter().map(|&l| (l.max(2) - 2) as usize).collect();
        Esm2::embed(self, ids, &residues)
            .map_err(|e| tch::TchError::Torch(e.to_string()))?
            .f_to(Device::Cpu)
    }
}
