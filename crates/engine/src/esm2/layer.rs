//! One ESM-2 transformer layer: pre-LayerNorm rotary self-attention and a GELU feed-forward
//! block, computed as fair-esm's `TransformerLayer` does, op for op and in its time-major
//! shapes, so that the results are bit-identical to fair-esm on the same machine.
use tch::{Device, Kind, TchError, Tensor};

use super::config::Esm2Config;
use super::error::Esm2Problem;
use super::keys::{Layout, Part};
use super::packed::Packing;
use crate::layers::{fused_attention, FastPath, LayerNorm, Linear};
use crate::weights::{Checkpoint, WeightError};

/// What every layer of one forward pass shares: the switches in force and, with
/// [`FastPath::position_cache`], the rotary tables of the batch's length.
pub(crate) struct Step<'a> {
    pub fast: FastPath,
    /// `(cos, sin)`, each `[T, head_dim]`, when every layer's frequencies are the same; on a
    /// packed batch each `[tokens, 1, head_dim]`, one row per token at its own position.
    pub rotary: Option<&'a (Tensor, Tensor)>,
}

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

    /// The rotary frequencies as loaded (in the model's kind).
    pub fn inv_freq(&self) -> &Tensor {
        &self.inv_freq
    }

    /// fair-esm's `TransformerLayer.forward` (pre-LN). `x` is time-major `[T, B, hidden]`, as
    /// fair-esm runs its layers; `key_padding` is `[B, T]`, true at padded positions, or
    /// `None` when no row is padded (fair-esm drops the mask then too).
    pub fn forward(
        &self,
        x: &Tensor,
        key_padding: Option<&Tensor>,
        step: &Step,
    ) -> Result<Tensor, TchError> {
        self.block(x, step, |normed| self.attention(normed, key_padding, step))
    }

    /// The same layer on a packed batch, `x` `[tokens, hidden]` ([`FastPath::packed`]): every
    /// op but the attention is the padded path's, on the real tokens only.
    pub(super) fn forward_packed(
        &self,
        x: &Tensor,
        packing: &Packing,
        step: &Step,
    ) -> Result<Tensor, Esm2Problem> {
        self.block(x, step, |normed| {
            self.attention_packed(normed, packing, step)
        })
    }

    /// The pre-LN block around `attend`, one body for both layouts so that they cannot drift
    /// apart: norm, attention, residual, norm, fc1, GELU, fc2, residual.
    fn block<E: From<TchError>>(
        &self,
        x: &Tensor,
        step: &Step,
        attend: impl FnOnce(&Tensor) -> Result<Tensor, E>,
    ) -> Result<Tensor, E> {
        let attended = attend(&layer_norm(&self.attn_norm, x)?)?;
        let x = residual(x, attended, step.fast)?;
        let hidden = linear(&self.fc1, &layer_norm(&self.final_norm, &x)?)?;
        let hidden = gelu(hidden, step.fast)?;
        Ok(residual(&x, linear(&self.fc2, &hidden)?, step.fast)?)
    }

    /// fair-esm's `MultiheadAttention.forward` with rotary embeddings (the path ESM-2 takes:
    /// `rot_emb` rules out `F.multi_head_attention_forward`), op for op and in the same
    /// shapes, so that libtorch picks the same kernels; half precisions take the fused
    /// kernel for the attention proper instead ([`fused_attention`]).
    fn attention(
        &self,
        x: &Tensor,
        key_padding: Option<&Tensor>,
        step: &Step,
    ) -> Result<Tensor, TchError> {
        let (len, batch, width) = x.size3()?;
        let rows = batch * self.heads;
        // `q *= self.scaling`, before the rotation: both are linear, but the order changes
        // the rounding unless the scale is a power of two (head_dim 32 in the 150M model).
        let mut q = linear(&self.query, x)?;
        let _ = q.f_mul_scalar_((self.head_dim as f64).powf(-0.5))?;
        // `.contiguous().view(T, B * heads, head_dim).transpose(0, 1)`: [B * heads, T, head_dim].
        let split = |t: &Tensor| {
            t.f_contiguous()?
                .f_view([len, rows, self.head_dim])?
                .f_transpose(0, 1)
        };
        let own;
        let (cos, sin) = match step.rotary {
            Some((cos, sin)) => (cos, sin),
            None => {
                own = rotary_tables(&self.inv_freq, len)?;
                (&own.0, &own.1)
            }
        };
        let in_place = step.fast.in_place;
        let q = rotate(&split(&q)?, cos, sin, in_place)?;
        let k = rotate(&split(&linear(&self.key, x)?)?, cos, sin, in_place)?;
        let v = split(&linear(&self.value, x)?)?;
        let out = attend(&q, &k, &v, batch, self.heads, key_padding)?;
        // `attn.transpose(0, 1).contiguous().view(tgt_len, bsz, embed_dim)`.
        let out = out
            .f_transpose(0, 1)?
            .f_contiguous()?
            .f_view([len, batch, width])?;
        linear(&self.attn_out, &out)
    }

    /// [`Layer::attention`] on a packed batch, `x` `[tokens, hidden]`: the same projections,
    /// scale and rotation on `[tokens, heads, head_dim]`, with each token's rotary position
    /// its place in its own row, and attention within each row only.
    fn attention_packed(
        &self,
        x: &Tensor,
        packing: &Packing,
        step: &Step,
    ) -> Result<Tensor, Esm2Problem> {
        let (tokens, width) = x.size2()?;
        let mut q = linear(&self.query, x)?;
        let _ = q.f_mul_scalar_((self.head_dim as f64).powf(-0.5))?;
        let split = |t: &Tensor| t.f_view([tokens, self.heads, self.head_dim]);
        let own;
        let (cos, sin) = match step.rotary {
            Some((cos, sin)) => (cos, sin),
            None => {
                own = packing.rotary(&self.inv_freq)?;
                (&own.0, &own.1)
            }
        };
        let in_place = step.fast.in_place;
        let q = rotate(&split(&q)?, cos, sin, in_place)?;
        let k = rotate(&split(&linear(&self.key, x)?)?, cos, sin, in_place)?;
        let v = split(&linear(&self.value, x)?)?;
        let out = packing.attend(&q, &k, &v)?.f_reshape([tokens, width])?;
        Ok(linear(&self.attn_out, &out)?)
    }
}

/// The attention proper of `batch` rows of `heads` heads each: `q` (already scaled), `k` and
/// `v` are `[batch * heads, T, head_dim]`, and so is the result. `key_padding` is `[batch, T]`,
/// true at padded keys. The reference op sequence, or the fused kernel in half precision
/// ([`fused_attention`]); the packed path runs it on one row at a time.
pub(super) fn attend(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    batch: i64,
    heads: i64,
    key_padding: Option<&Tensor>,
) -> Result<Tensor, TchError> {
    let (rows, len, head_dim) = q.size3()?;
    if fused_attention(q.kind()) {
        let split = |t: &Tensor| t.f_reshape([batch, heads, len, head_dim]);
        let keep = match key_padding {
            Some(padding) => Some(padding.f_logical_not()?.f_view([batch, 1, 1, len])?),
            None => None,
        };
        // q is already scaled, hence scale 1.
        return Tensor::f_scaled_dot_product_attention(
            &split(q)?,
            &split(k)?,
            &split(v)?,
            keep.as_ref(),
            0.0,
            false,
            1.0,
            false,
        )?
        .f_reshape([rows, len, head_dim]);
    }
    let weights = q.f_bmm(&k.f_transpose(1, 2)?)?;
    if let Some(padding) = key_padding {
        // `masked_fill(key_padding_mask.unsqueeze(1).unsqueeze(2), -inf)` on the
        // [B, heads, T, T] view; in place, the same kernel without a copy.
        let _ = weights
            .f_view([batch, heads, len, len])?
            .f_masked_fill_(&padding.f_unsqueeze(1)?.f_unsqueeze(2)?, f64::NEG_INFINITY)?;
    }
    // `utils.softmax(x, dim=-1)` is `F.softmax(x.float(), dim)`, then `.type_as(x)`
    // (a no-op in f32).
    weights
        .f_to_kind(Kind::Float)?
        .f_softmax(-1, None::<Kind>)?
        .f_to_kind(q.kind())?
        .f_bmm(v)
}

/// `cos` and `sin` of `position * inv_freq`, each `[T, head_dim]` (fair-esm's
/// `[1, T, head_dim]` broadcasts the same), the frequencies repeated over both halves
/// (fair-esm's `cat((freqs, freqs))` layout). Computed in the kind of `inv_freq`, as fair-esm
/// does (`arange(T).type_as(inv_freq)`).
pub(crate) fn rotary_tables(inv_freq: &Tensor, len: i64) -> Result<(Tensor, Tensor), TchError> {
    let positions =
        Tensor::f_arange(len, (Kind::Int64, inv_freq.device()))?.f_to_kind(inv_freq.kind())?;
    let freqs = positions.f_outer(inv_freq)?;
    let emb = Tensor::f_cat(&[&freqs, &freqs], -1)?;
    Ok((emb.f_cos()?, emb.f_sin()?))
}

/// `x * cos + rotate_half(x) * sin` with `rotate_half(x) = cat(-x2, x1)` over the halves of
/// the last dimension; `in_place` reuses the two products' buffers (same values).
fn rotate(x: &Tensor, cos: &Tensor, sin: &Tensor, in_place: bool) -> Result<Tensor, TchError> {
    let halves = x.f_chunk(2, -1)?;
    let mut rotated = Tensor::f_cat(&[&halves[1].f_neg()?, &halves[0]], -1)?;
    if in_place {
        let _ = rotated.f_mul_(sin)?;
        let mut out = x.f_mul(cos)?;
        let _ = out.f_add_(&rotated)?;
        return Ok(out);
    }
    x.f_mul(cos)?.f_add(&rotated.f_mul(sin)?)
}

/// `x + update`, the residual connection. In place, the sum goes into `update`, which the
/// layer has just made: `x` may be a representation the caller keeps.
fn residual(x: &Tensor, mut update: Tensor, fast: FastPath) -> Result<Tensor, TchError> {
    if fast.in_place {
        let _ = update.f_add_(x)?;
        Ok(update)
    } else {
        x.f_add(&update)
    }
}

/// fair-esm's (and HF ESM's) explicit erf GELU, `x * 0.5 * (1 + erf(x / sqrt 2))`, rather
/// than `torch.nn.functional.gelu`, whose kernel rounds differently; with
/// [`FastPath::gelu`] that kernel (one pass over the widest activation instead of five).
fn gelu(mut x: Tensor, fast: FastPath) -> Result<Tensor, TchError> {
    match (fast.gelu, fast.in_place) {
        (true, true) => {
            let _ = x.f_gelu_("none")?;
            Ok(x)
        }
        (true, false) => x.f_gelu("none"),
        (false, true) => {
            let mut erf = x.f_div_scalar(std::f64::consts::SQRT_2)?;
            let _ = erf.f_erf_()?;
            let _ = erf.f_add_scalar_(1.0)?;
            let _ = x.f_mul_scalar_(0.5)?;
            let _ = x.f_mul_(&erf)?;
            Ok(x)
        }
        (false, false) => {
            let erf = x
                .f_div_scalar(std::f64::consts::SQRT_2)?
                .f_erf()?
                .f_add_scalar(1.0)?;
            x.f_mul_scalar(0.5)?.f_mul(&erf)
        }
    }
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
