//! The MosaicBERT blocks of DNABERT-2 `bert_layers.py`, on padded `[B, T, H]` tensors.
//!
//! The reference unpads tokens before each layer and repads after; computing on the padded
//! batch gives the same rows for real tokens because every padded key gets a -10000 bias,
//! whose softmax weight is exactly 0 in f32, bf16 and f16.
use tch::{Device, Kind, Tensor};

use crate::layers::{LayerNorm, Linear};
use crate::weights::{Checkpoint, WeightError};

/// Word + token-type (always type 0) embeddings, then LayerNorm. No position embeddings:
/// ALiBi carries position.
pub struct Embeddings {
    word: Tensor,
    token_type_0: Tensor,
    layer_norm: LayerNorm,
}

impl Embeddings {
    pub fn load(
        ckpt: &Checkpoint,
        eps: f64,
        kind: Kind,
        device: Device,
    ) -> Result<Self, WeightError> {
        let word = ckpt.load("embeddings.word_embeddings.weight", kind, device)?;
        let token_type_0 = ckpt
            .load("embeddings.token_type_embeddings.weight", kind, device)?
            .get(0);
        let layer_norm = LayerNorm::load(ckpt, "embeddings.LayerNorm", eps, kind, device)?;
        Ok(Self {
            word,
            token_type_0,
            layer_norm,
        })
    }

    /// `[B, T]` ids to `[B, T, H]`.
    pub fn forward(&self, ids: &Tensor) -> Tensor {
        let words = Tensor::embedding(&self.word, ids, -1, false, false);
        self.layer_norm.forward(&(words + &self.token_type_0))
    }
}

/// One encoder layer: fused-QKV self-attention with post-LN, then the gated-GELU MLP with
/// post-LN.
pub struct EncoderLayer {
    wqkv: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    gated: Linear,
    wo: Linear,
    mlp_norm: LayerNorm,
    heads: i64,
    intermediate: i64,
}

impl EncoderLayer {
    pub fn load(
        ckpt: &Checkpoint,
        index: usize,
        heads: i64,
        intermediate: i64,
        eps: f64,
        kind: Kind,
        device: Device,
    ) -> Result<Self, WeightError> {
        let p = format!("encoder.layer.{index}");
        Ok(Self {
            wqkv: Linear::load(
                ckpt,
                &format!("{p}.attention.self.Wqkv"),
                true,
                kind,
                device,
            )?,
            attention_out: Linear::load(
                ckpt,
                &format!("{p}.attention.output.dense"),
                true,
                kind,
                device,
            )?,
            attention_norm: LayerNorm::load(
                ckpt,
                &format!("{p}.attention.output.LayerNorm"),
                eps,
                kind,
                device,
            )?,
            gated: Linear::load(ckpt, &format!("{p}.mlp.gated_layers"), false, kind, device)?,
            wo: Linear::load(ckpt, &format!("{p}.mlp.wo"), true, kind, device)?,
            mlp_norm: LayerNorm::load(ckpt, &format!("{p}.mlp.layernorm"), eps, kind, device)?,
            heads,
            intermediate,
        })
    }

    /// `x`: `[B, T, H]`; `bias`: `[B, heads, T, T]` additive (ALiBi + padding), in x's kind.
    pub fn forward(&self, x: &Tensor, bias: &Tensor) -> Tensor {
        let attention = self
            .attention_norm
            .forward(&(self.attention_out.forward(&self.self_attention(x, bias)) + x));
        let up = self.gated.forward(&attention);
        // The first half is gated through the exact (erf) GELU, the second half is the gate.
        let gated = up.narrow(-1, 0, self.intermediate);
        let linear = up.narrow(-1, self.intermediate, self.intermediate);
        let mlp = self.wo.forward(&(gated.gelu("none") * linear));
        self.mlp_norm.forward(&(mlp + &attention))
    }

    fn self_attention(&self, x: &Tensor, bias: &Tensor) -> Tensor {
        let size = x.size();
        let (b, t, h) = (size[0], size[1], size[2]);
        let head_dim = h / self.heads;
        // Wqkv's output is laid out as (3, heads, head_dim), as `rearrange` reads it.
        let qkv = self.wqkv.forward(x).view([b, t, 3, self.heads, head_dim]);
        let part = |i: i64| qkv.select(2, i).permute([0, 2, 1, 3]);
        // Default scale 1/sqrt(head_dim), no dropout: inference only.
        let context = Tensor::scaled_dot_product_attention(
            &part(0),
            &part(1),
            &part(2),
            Some(bias),
            0.0,
            false,
            None,
            false,
        );
        context.permute([0, 2, 1, 3]).reshape([b, t, h])
    }
}
