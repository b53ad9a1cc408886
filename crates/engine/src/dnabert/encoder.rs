//! DNABERT-S behind the embedding runner's model traits (`crate::encode`).
use tch::{Device, Kind, Tensor};

use crate::encode::{Encode, Tokenize};

use super::model::DnaBertS;
use super::tokenizer::DnaTokenizer;

impl Tokenize for DnaTokenizer {
    fn encode(&self, sequence: &str) -> Result<Vec<i64>, String> {
        DnaTokenizer::encode(self, sequence).map_err(|e| e.to_string())
    }

    fn pad_id(&self) -> i64 {
        DnaTokenizer::pad_id(self)
    }
}

impl Encode for DnaBertS {
    fn dim(&self) -> usize {
        usize::try_from(self.hidden_size()).unwrap_or(0)
    }

    /// The runner passes row lengths; the mask is rebuilt from them on the model's device.
    fn embed(&self, ids: &Tensor, lengths: &[i64]) -> Result<Tensor, tch::TchError> {
        let width = ids.size().get(1).copied().unwrap_or(0);
        let positions = Tensor::f_arange(width, (Kind::Int64, self.device()))?.f_unsqueeze(0)?;
        let lengths = Tensor::f_from_slice(lengths)?
            .f_to(self.device())?
            .f_unsqueeze(1)?;
        let mask = positions.f_lt_tensor(&lengths)?.f_to_kind(Kind::Int64)?;
        DnaBertS::embed(self, ids, &mask).f_to(Device::Cpu)
    }
}
