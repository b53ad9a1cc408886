//! One `torch.save` archive (`pytorch_model.bin`, a fair-esm `.pt`): the pickle is run in
//! the safe VM of `virnucpro_core::pickle` (nothing in it is executed) and every tensor
//! reachable from its root is named the way `state_dict()` would name it.
use std::path::Path;

use tch::Kind;
use virnucpro_core::pickle::{named_tensors, Dtype, TensorRef, TorchArchive, Value};

use super::WeightError;

pub(super) struct TorchFile {
    pub archive: TorchArchive,
    pub root: Value,
}

impl TorchFile {
    pub fn open(path: &Path) -> Result<(Self, Vec<(String, TensorRef)>), WeightError> {
        let archive = TorchArchive::open(path)?;
        let root = archive.load()?;
        let mut tensors = named_tensors(&root);
        tensors.sort_by(|a, b| a.0.cmp(&b.0));
        Ok((Self { archive, root }, tensors))
    }
}

pub(super) fn kind_of(dtype: Option<Dtype>) -> Option<Kind> {
    Some(match dtype? {
        Dtype::F64 => Kind::Double,
        Dtype::F32 => Kind::Float,
        Dtype::F16 => Kind::Half,
        Dtype::BF16 => Kind::BFloat16,
        Dtype::I64 => Kind::Int64,
        Dtype::I32 => Kind::Int,
        Dtype::I16 => Kind::Int16,
        Dtype::I8 => Kind::Int8,
        Dtype::U8 => Kind::Uint8,
        Dtype::Bool => Kind::Bool,
    })
}
