//! The few layer types the encoders are built from, holding tensors loaded by name from a
//! [`Checkpoint`]. They call the same ATen ops as `torch.nn` (`aten::linear`,
//! `aten::layer_norm`), so results match PyTorch's kernel for kernel.
use tch::{Device, Kind, Tensor};

use crate::weights::{Checkpoint, WeightError};

/// `torch.nn.Linear`: `y = x Wᵀ + b`.
#[derive(Debug)]
pub struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
}

impl Linear {
    /// Loads `{prefix}.weight` and, if `bias`, `{prefix}.bias`.
    pub fn load(
        checkpoint: &Checkpoint,
        prefix: &str,
        bias: bool,
        kind: Kind,
        device: Device,
    ) -> Result<Self, WeightError> {
        let weight = checkpoint.load(&format!("{prefix}.weight"), kind, device)?;
        let bias = if bias {
            Some(checkpoint.load(&format!("{prefix}.bias"), kind, device)?)
        } else {
            None
        };
        Ok(Self { weight, bias })
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        x.linear(&self.weight, self.bias.as_ref())
    }
}

/// `torch.nn.LayerNorm` over the last dimension, with affine weight and bias.
#[derive(Debug)]
pub struct LayerNorm {
    pub weight: Tensor,
    pub bias: Tensor,
    pub eps: f64,
}

impl LayerNorm {
    /// Loads `{prefix}.weight` and `{prefix}.bias`.
    pub fn load(
        checkpoint: &Checkpoint,
        prefix: &str,
        eps: f64,
        kind: Kind,
        device: Device,
    ) -> Result<Self, WeightError> {
        Ok(Self {
            weight: checkpoint.load(&format!("{prefix}.weight"), kind, device)?,
            bias: checkpoint.load(&format!("{prefix}.bias"), kind, device)?,
            eps,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        let width = self.weight.size();
        x.layer_norm(
            width.as_slice(),
            Some(&self.weight),
            Some(&self.bias),
            self.eps,
            true,
        )
    }
}
