//! The MosaicBERT blocks of DNABERT-2 `bert_layers.py`, on padded `[B, T, H]` tensors.
//!
//! The reference unpads tokens before each layer and repads after; computing on the padded
//! batch gives the same rows for real tokens, bit for bit, because every padded key gets a
//! -10000 bias, whose softmax weight is exactly 0 in f32, bf16 and f16, and a zero weight
//! adds nothing to the weighted sum of values.
use tch::{Device, Kind, Tensor};

use crate::layers::{fused_attention, FastPath, LayerNorm, Linear};
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
    /// With [`FastPath::in_place`] the residual adds and the gate product write into tensors
    /// this layer has just made (the same sums, without an allocation each).
    pub fn forward(&self, x: &Tensor, bias: &Tensor, fast: FastPath) -> Tensor {
        let mut attended = self.attention_out.forward(&self.self_attention(x, bias));
        let attention = if fast.in_place {
            let _ = attended.g_add_(x);
            self.attention_norm.forward(&attended)
        } else {
            self.attention_norm.forward(&(attended + x))
        };
        let up = self.gated.forward(&attention);
        // The first half is gated through the exact (erf) GELU, the second half is the gate.
        let gated = up.narrow(-1, 0, self.intermediate);
        let linear = up.narrow(-1, self.intermediate, self.intermediate);
        if fast.in_place {
            // The product goes into the GELU's fresh (contiguous) output, not back into
            // `up`: `wo` then reads the same contiguous input, so the sums stay the same.
            let mut product = gated.gelu("none");
            let _ = product.g_mul_(&linear);
            let mut mlp = self.wo.forward(&product);
            let _ = mlp.g_add_(&attention);
            return self.mlp_norm.forward(&mlp);
        }
        let mlp = self.wo.forward(&(gated.gelu("none") * linear));
        self.mlp_norm.forward(&(mlp + &attention))
    }

    /// `BertUnpadSelfAttention.forward` on the PyTorch path (DNABERT-S runs without Triton),
    /// op for op and in the same shapes, so that libtorch picks the same kernels; half
    /// precisions take the fused kernel instead ([`fused_attention`]).
    fn self_attention(&self, x: &Tensor, bias: &Tensor) -> Tensor {
        let size = x.size();
        let (b, t, h) = (size[0], size[1], size[2]);
        let head_dim = h / self.heads;
        // Wqkv's output is laid out as (3, heads, head_dim), as `rearrange` reads it.
        let qkv = self.wqkv.forward(x).view([b, t, 3, self.heads, head_dim]);
        let q = qkv.select(2, 0).permute([0, 2, 1, 3]); // b h s d
        let v = qkv.select(2, 2).permute([0, 2, 1, 3]); // b h s d
        let context = if fused_attention(x.kind()) {
            let k = qkv.select(2, 1).permute([0, 2, 1, 3]);
            // Default scale 1/sqrt(head_dim), no dropout: inference only.
            Tensor::scaled_dot_product_attention(&q, &k, &v, Some(bias), 0.0, false, None, false)
        } else {
            // k as b h d s; `matmul(q, k) / math.sqrt(head_size)`, divided after the product
            // (not q pre-scaled), then `+ bias`; in place: the same kernels, fewer copies of
            // the [B, h, T, T] scores.
            let k = qkv.select(2, 1).permute([0, 2, 3, 1]);
            let mut scores = q.matmul(&k);
            let _ = scores.g_div_scalar_((head_dim as f64).sqrt());
            let _ = scores.g_add_(bias);
            scores.softmax(-1, None::<Kind>).matmul(&v)
        };
        context.permute([0, 2, 1, 3]).reshape([b, t, h])
    }
}
