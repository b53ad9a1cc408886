//! The few layer types the encoders are built from, holding tensors loaded by name from a
//! [`Checkpoint`]. They call the same ATen ops as `torch.nn` (`aten::linear`,
//! `aten::layer_norm`), so results match PyTorch's kernel for kernel.
use tch::{Device, Kind, Tensor};

use crate::weights::{Checkpoint, WeightError};

/// Whether attention runs as one fused `scaled_dot_product_attention` call instead of the
/// reference implementations' own op sequence (matmul, scale, mask, softmax, matmul).
///
/// The fused kernel sums in another order, so its results differ from the reference in the
/// last bits; the reference sequence, in the reference's shapes, is bit-identical to PyTorch
/// running the original code on the same machine (docs/models.md, "Parity"). In f32, the
/// precision of parity, that costs 4-5 % per layer on the CPU and at most 6 % on an H200;
/// in bf16 and f16, which never match an f32 reference anyway, it would cost 1.3-3x per
/// layer on the GPU, so they keep the fused kernel.
pub(crate) fn fused_attention(kind: Kind) -> bool {
    matches!(kind, Kind::Half | Kind::BFloat16)
}

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
