//! One ESM-2 transformer layer: pre-LayerNorm rotary self-attention and a GELU feed-forward
//! block, computed as fair-esm's `TransformerLayer` does, op for op where it matters.
use tch::{Device, Kind, TchError, Tensor};

use super::config::Esm2Config;
use super::keys::{Layout, Part};
use crate::layers::{LayerNorm, Linear};
use crate::weights::{Checkpoint, WeightError};

#[derive(Debug)]
pub(crate) struct Layer {
    attn_norm: LayerNorm,
    query: Linear,
    key: Linear,
    value: Linear,
    attn_out: Linear,
    final_norm: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    /// Rotary frequencies as stored: the released checkpoints hold them rounded to fp16, and
    /// recomputing `1 / 10000^(2i/d)` instead changes the outputs.
    inv_freq: Tensor,
    heads: i64,
    head_dim: i64,
}

impl Layer {
    pub fn load(
        checkpoint: &Checkpoint,
        layout: Layout,
        index: usize,
        config: &Esm2Config,
        kind: Kind,
        device: Device,
    ) -> Result<Self, WeightError> {
        let name = |part| layout.part(index, part);
        let linear = |part| Linear::load(checkpoint, &name(part), true, kind, device);
        let norm =
            |part| LayerNorm::load(checkpoint, &name(part), config.layer_norm_eps, kind, device);
        Ok(Self {
            attn_norm: norm(Part::AttnNorm)?,
            query: linear(Part::Query)?,
            key: linear(Part::Key)?,
            value: linear(Part::Value)?,
            attn_out: linear(Part::AttnOut)?,
            final_norm: norm(Part::FinalNorm)?,
            fc1: linear(Part::Fc1)?,
            fc2: linear(Part::Fc2)?,
            inv_freq: checkpoint.load(&name(Part::InvFreq), kind, device)?,
            heads: config.heads,
            head_dim: config.head_dim,
        })
    }

    /// The layer's tensors, named as `layout` names them.
    pub fn parameters(&self, layout: Layout, index: usize) -> Vec<(String, Tensor)> {
        let mut out = Vec::with_capacity(17);
        for (part, linear) in [
            (Part::Query, &self.query),
            (Part::Key, &self.key),
            (Part::Value, &self.value),
            (Part::AttnOut, &self.attn_out),
            (Part::Fc1, &self.fc1),
            (Part::Fc2, &self.fc2),
        ] {
            let prefix = layout.part(index, part);
            out.push((format!("{prefix}.weight"), linear.weight.shallow_clone()));
            if let Some(bias) = &linear.bias {
                out.push((format!("{prefix}.bias"), bias.shallow_clone()));
            }
        }
        for (part, norm) in [
            (Part::AttnNorm, &self.attn_norm),
            (Part::FinalNorm, &self.final_norm),
        ] {
            let prefix = layout.part(index, part);
            out.push((format!("{prefix}.weight"), norm.weight.shallow_clone()));
            out.push((format!("{prefix}.bias"), norm.bias.shallow_clone()));
        }
        out.push((
            layout.part(index, Part::InvFreq),
            self.inv_freq.shallow_clone(),
        ));
        out
    }

    /// `x` is `[B, T, hidden]`; `key_mask` is `[B, 1, 1, T]`, true where a key may be attended
    /// to, or `None` when no row is padded (fair-esm drops the mask then too).
    pub fn forward(&self, x: &Tensor, key_mask: Option<&Tensor>) -> Result<Tensor, TchError> {
        let attended = self.attention(&layer_norm(&self.attn_norm, x)?, key_mask)?;
        let x = x.f_add(&attended)?;
        let hidden = gelu(&linear(&self.fc1, &layer_norm(&self.final_norm, &x)?)?)?;
        x.f_add(&linear(&self.fc2, &hidden)?)
    }

    fn attention(&self, x: &Tensor, key_mask: Option<&Tensor>) -> Result<Tensor, TchError> {
        let (batch, len, width) = x.size3()?;
        // fair-esm scales q before the rotation (both are linear, so the order only moves
        // the last bit).
        let scaling = (self.head_dim as f64).powf(-0.5);
        let split = |t: Tensor| {
            t.f_view([batch, len, self.heads, self.head_dim])?
                .f_transpose(1, 2)
        };
        let q = split(linear(&self.query, x)?.f_mul_scalar(scaling)?)?;
        let k = split(linear(&self.key, x)?)?;
        let v = split(linear(&self.value, x)?)?;
        let (cos, sin) = rotary_tables(&self.inv_freq, len)?;
        let q = rotate(&q, &cos, &sin)?;
        let k = rotate(&k, &cos, &sin)?;
        // Softmax over keys with padded keys excluded; q is already scaled, hence scale 1.
        let out =
            Tensor::f_scaled_dot_product_attention(&q, &k, &v, key_mask, 0.0, false, 1.0, false)?;
        let out = out
            .f_transpose(1, 2)?
            .f_contiguous()?
            .f_view([batch, len, width])?;
        linear(&self.attn_out, &out)
    }
}

/// `cos` and `sin` of `position * inv_freq`, each `[T, head_dim]`, the frequencies repeated
/// over both halves (fair-esm's `cat((freqs, freqs))` layout). Computed in the kind of
/// `inv_freq`, as fair-esm does (`arange(T).type_as(inv_freq)`).
pub(crate) fn rotary_tables(inv_freq: &Tensor, len: i64) -> Result<(Tensor, Tensor), TchError> {
    let positions =
        Tensor::f_arange(len, (Kind::Int64, inv_freq.device()))?.f_to_kind(inv_freq.kind())?;
    let freqs = positions.f_outer(inv_freq)?;
    let emb = Tensor::f_cat(&[&freqs, &freqs], -1)?;
    Ok((emb.f_cos()?, emb.f_sin()?))
}

/// `x * cos + rotate_half(x) * sin` with `rotate_half(x) = cat(-x2, x1)` over the halves of
/// the last dimension.
fn rotate(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor, TchError> {
    let halves = x.f_chunk(2, -1)?;
    let rotated = Tensor::f_cat(&[&halves[1].f_neg()?, &halves[0]], -1)?;
    x.f_mul(cos)?.f_add(&rotated.f_mul(sin)?)
}

/// fair-esm's (and HF ESM's) explicit erf GELU, `x * 0.5 * (1 + erf(x / sqrt 2))`, rather
/// than `torch.nn.functional.gelu`, whose kernel rounds differently.
fn gelu(x: &Tensor) -> Result<Tensor, TchError> {
    let erf = x
        .f_div_scalar(std::f64::consts::SQRT_2)?
        .f_erf()?
        .f_add_scalar(1.0)?;
    x.f_mul_scalar(0.5)?.f_mul(&erf)
}

/// `Linear::forward`, but returning libtorch failures (a CUDA out-of-memory must reach the
/// caller, which may retry with a smaller batch) instead of panicking.
fn linear(layer: &Linear, x: &Tensor) -> Result<Tensor, TchError> {
    x.f_linear(&layer.weight, layer.bias.as_ref())
}

/// `LayerNorm::forward`, fallible for the same reason as [`linear`].
pub(crate) fn layer_norm(norm: &LayerNorm, x: &Tensor) -> Result<Tensor, TchError> {
    x.f_layer_norm(
        norm.weight.size().as_slice(),
        Some(&norm.weight),
        Some(&norm.bias),
        norm.eps,
        true,
    )
}
