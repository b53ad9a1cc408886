//! ESM-2 on packed batches ([`FastPath::packed`](crate::layers::FastPath::packed)): the real
//! tokens of every row one after another, `[tokens, hidden]`, with no padding at all. The
//! linears, norms and GELU then skip the padded positions, rotary positions restart at 0 on
//! every row (each token keeps the column it had in the padded batch), and each row attends
//! to its own tokens only: with the varlen flash kernel on CUDA in bf16/f16, row by row with
//! the padded path's own attention elsewhere (the CPU, and f32 in tests). The VirNucPro mean
//! is taken per row from the packed output, over the same span as the padded path.
use tch::{Device, Kind, TchError, Tensor};

use super::alphabet::Alphabet;
use super::error::Esm2Problem;
use super::layer::{attend, layer_norm, rotary_tables, Step};
use super::model::{check_lengths, check_range, check_real, check_shape, row_span, Esm2};
use crate::layers::fused_attention;

/// Where the rows of a right-padded `[B, T]` batch lie once packed.
pub(super) struct Packing {
    /// Token count of each row (`<cls>` and `<eos>` included), on the host.
    lengths: Vec<i64>,
    /// Where each row starts among the packed tokens, then their total (`cu_seqlens`), on
    /// the host: the row-by-row attention and the pooling slice by them.
    offsets: Vec<i64>,
    /// The longest row.
    max_len: i64,
    /// Each packed token's index in the flattened `[B * T]` batch, on the device.
    gather: Tensor,
    /// Each packed token's rotary position: its column in the padded batch, so 0 at every
    /// row's `<cls>`. On the device.
    positions: Tensor,
    /// `offsets` as int32 on the device, the flash kernel's `cum_seq_q` and `cum_seq_k`.
    cu_seqlens: Tensor,
}

impl Packing {
    /// The packing of rows of `lengths` tokens in a batch `width` wide; what the device needs
    /// goes up in one copy.
    pub(super) fn new(lengths: Vec<i64>, width: i64, device: Device) -> Result<Self, TchError> {
        let mut offsets = Vec::with_capacity(lengths.len() + 1);
        let (mut gather, mut positions) = (Vec::new(), Vec::new());
        let mut total = 0;
        for (row, &len) in lengths.iter().enumerate() {
            offsets.push(total);
            gather.extend((0..len).map(|t| row as i64 * width + t));
            positions.extend(0..len);
            total += len;
        }
        offsets.push(total);
        let host = [gather.as_slice(), &positions, &offsets].concat();
        let all = Tensor::f_from_slice(&host)?.f_to_device(device)?;
        let rows = lengths.len() as i64;
        Ok(Self {
            max_len: lengths.iter().copied().max().unwrap_or(0),
            gather: all.f_narrow(0, 0, total)?,
            positions: all.f_narrow(0, total, total)?,
            cu_seqlens: all.f_narrow(0, 2 * total, rows + 1)?.f_to_kind(Kind::Int)?,
            lengths,
            offsets,
        })
    }

    /// `[B, T, hidden]` to `[tokens, hidden]`: the real tokens of every row, in row order.
    pub(super) fn pack(&self, padded: &Tensor) -> Result<Tensor, TchError> {
        let (batch, width, hidden) = padded.size3()?;
        padded
            .f_reshape([batch * width, hidden])?
            .f_index_select(0, &self.gather)
    }

    /// `cos` and `sin` of every packed token at its own position, `[tokens, 1, head_dim]`
    /// (broadcast over the heads), from the padded path's `[T, head_dim]` tables.
    pub(super) fn gather_rotary(
        &self,
        tables: &(Tensor, Tensor),
    ) -> Result<(Tensor, Tensor), TchError> {
        let at = |table: &Tensor| table.f_index_select(0, &self.positions)?.f_unsqueeze(1);
        Ok((at(&tables.0)?, at(&tables.1)?))
    }

    /// [`Packing::gather_rotary`] of the tables built from `inv_freq`, for a layer whose
    /// frequencies are its own.
    pub(super) fn rotary(&self, inv_freq: &Tensor) -> Result<(Tensor, Tensor), TchError> {
        self.gather_rotary(&rotary_tables(inv_freq, self.max_len)?)
    }

    /// Attention within each row: `q` (already scaled), `k`, `v` and the result are
    /// `[tokens, heads, head_dim]`.
    pub(super) fn attend(&self, q: &Tensor, k: &Tensor, v: &Tensor) -> Result<Tensor, Esm2Problem> {
        if matches!(q.device(), Device::Cuda(_)) && fused_attention(q.kind()) {
            self.flash(q, k, v)
        } else {
            Ok(self.attend_rows(q, k, v)?)
        }
    }

    /// One row at a time through the padded path's attention (a batch of one row, no mask):
    /// the same math, so that packed and padded batches agree wherever the kernel is absent.
    fn attend_rows(&self, q: &Tensor, k: &Tensor, v: &Tensor) -> Result<Tensor, TchError> {
        let heads = q.size().get(1).copied().unwrap_or(0);
        let mut out = Vec::with_capacity(self.lengths.len());
        for (&start, &len) in self.offsets.iter().zip(&self.lengths) {
            // `[len, heads, head_dim]` to the padded path's `[heads, len, head_dim]`.
            let row = |t: &Tensor| t.f_narrow(0, start, len)?.f_transpose(0, 1);
            let attended = attend(&row(q)?, &row(k)?, &row(v)?, 1, heads, None)?;
            out.push(attended.f_transpose(0, 1)?);
        }
        Tensor::f_cat(&out, 0)
    }

    /// The varlen flash-attention kernel (CUDA, bf16/f16): every row at once, no padding.
    /// `q` is already scaled, as on the padded fast path, hence scale 1. A failure is the
    /// switch's own typed error, never a panic.
    pub(super) fn flash(&self, q: &Tensor, k: &Tensor, v: &Tensor) -> Result<Tensor, Esm2Problem> {
        let run = || -> Result<Tensor, TchError> {
            let (q, k, v) = (q.f_contiguous()?, k.f_contiguous()?, v.f_contiguous()?);
            let out = q.f_empty_like()?;
            // Returns the softmax log-sum-exp; the attention is written into `out`.
            let _logsumexp = Tensor::f_internal_flash_attention_forward_no_dropout_inplace(
                &out,
                &q,
                &k,
                &v,
                Some(&self.cu_seqlens),
                Some(&self.cu_seqlens),
                self.max_len,
                self.max_len,
                0.0,
                false,
                false,
                1.0,
                None::<i64>,
                None::<i64>,
                None::<&Tensor>,
                None::<&Tensor>,
                None::<&Tensor>,
                None::<i64>,
            )?;
            Ok(out)
        };
        run().map_err(Esm2Problem::PackedAttention)
    }

    /// VirNucPro's mean of each row, `[B, hidden]` f32, from the packed last representation:
    /// positions `1 ..= spans[row]` of the row (after `<cls>`), summed in f32.
    fn mean(&self, last: &Tensor, spans: &[i64]) -> Result<Tensor, TchError> {
        let mut picked = Vec::with_capacity(spans.iter().sum::<i64>() as usize);
        for (&start, &span) in self.offsets.iter().zip(spans) {
            picked.extend(start + 1..=start + span);
        }
        let host = [picked.as_slice(), spans].concat();
        let all = Tensor::f_from_slice(&host)?.f_to_device(last.device())?;
        let count = picked.len() as i64;
        let lengths = all.f_narrow(0, count, spans.len() as i64)?;
        let rows = last
            .f_index_select(0, &all.f_narrow(0, 0, count)?)?
            .f_to_kind(Kind::Float)?;
        Tensor::f_segment_reduce(&rows, "mean", Some(&lengths), None, None, 0, false, 0.0)
    }
}

/// The one read of the packed path: the checks of the padded path, plus the token count of
/// every row. `None` when a row holds padding before a real token: the packing assumes
/// right-padded rows, and the padded path takes such a batch as it is.
pub(super) fn read_rows(tokens: &Tensor) -> Result<Option<Vec<i64>>, Esm2Problem> {
    check_shape(tokens)?;
    let padding = tokens.f_eq(Alphabet::PAD)?;
    let real = padding
        .f_logical_not()?
        .f_sum_dim_intlist(-1, false, Kind::Int64)?;
    let width = tokens.size().get(1).copied().unwrap_or(0);
    let columns = Tensor::f_arange(width, (Kind::Int64, tokens.device()))?.f_unsqueeze(0)?;
    let right_padded = padding
        .f_eq_tensor(&columns.f_ge_tensor(&real.f_unsqueeze(1)?)?)?
        .f_all()?
        .f_to_kind(Kind::Int64)?;
    let stats = Tensor::f_stack(&[tokens.f_min()?, tokens.f_max()?, right_padded], 0)?;
    let read = Vec::<i64>::try_from(Tensor::f_cat(&[stats, real], 0)?.f_to_device(Device::Cpu)?)?;
    let [min, max, right_padded, rows @ ..] = read.as_slice() else {
        return Err(Esm2Problem::Input("token statistics unreadable".into()));
    };
    check_range(*min, *max)?;
    check_real(rows.iter().copied().min().unwrap_or(0))?;
    Ok((*right_padded == 1).then(|| rows.to_vec()))
}

impl Esm2 {
    /// [`Esm2::embed`] on the packed path; `None` for a batch that is not right-padded. The
    /// inputs are refused as the padded path refuses them, with the same messages, before
    /// any layer runs.
    pub(super) fn embed_packed(
        &self,
        tokens: &Tensor,
        lengths: &[usize],
    ) -> Result<Option<Tensor>, Esm2Problem> {
        let _no_grad = tch::no_grad_guard();
        let Some(rows) = read_rows(tokens)? else {
            tracing::debug!("ESM-2 batch not right-padded: the padded path takes it");
            return Ok(None);
        };
        check_lengths(lengths.len(), rows.len() as i64)?;
        let spans = lengths
            .iter()
            .zip(&rows)
            .enumerate()
            .map(|(row, (&length, &tokens_in_row))| row_span(row, length, tokens_in_row))
            .collect::<Result<Vec<_>, _>>()?;
        let (last, packing) = self.packed_forward(tokens, rows)?;
        Ok(Some(packing.mean(&last, &spans)?))
    }

    /// The encoder on the packed batch of right-padded `tokens` whose rows hold `rows`
    /// tokens each ([`read_rows`]): the last representation after the final layer norm,
    /// `[tokens, hidden]`, and how the rows lie in it.
    pub(super) fn packed_forward(
        &self,
        tokens: &Tensor,
        rows: Vec<i64>,
    ) -> Result<(Tensor, Packing), Esm2Problem> {
        let _no_grad = tch::no_grad_guard();
        let tokens = tokens.f_to_device(self.device())?;
        let width = tokens.size().get(1).copied().unwrap_or(0);
        // Embedded as a padded batch (token dropout's rescale is per row), then packed.
        let embedded = self.embedded(&tokens, &tokens.f_eq(Alphabet::PAD)?)?;
        let packing = Packing::new(rows, width, self.device())?;
        let mut x = packing.pack(&embedded)?;
        let rotary = match self.rotary_for(packing.max_len)? {
            Some(tables) => Some(packing.gather_rotary(&tables)?),
            None => None,
        };
        let step = Step {
            fast: self.fast_path(),
            rotary: rotary.as_ref(),
        };
        for layer in self.layers() {
            x = layer.forward_packed(&x, &packing, &step)?;
        }
        Ok((layer_norm(self.final_norm(), &x)?, packing))
    }
}

/// The rows of a packed output, each `[len, hidden]`: for comparing with padded rows.
#[cfg(test)]
pub(super) fn unpack(last: &Tensor, packing: &Packing) -> Vec<Tensor> {
    packing
        .offsets
        .iter()
        .zip(&packing.lengths)
        .map(|(&start, &len)| last.narrow(0, start, len))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn longs(t: &Tensor) -> Vec<i64> {
        Vec::<i64>::try_from(t.to_kind(Kind::Int64)).unwrap()
    }

    /// Rows of 3, 1 and 5 tokens in a batch 6 wide: each row's positions start at 0 (its
    /// `<cls>`), its tokens are taken from its own row of the padded batch, and the
    /// cumulative lengths are what the flash kernel reads.
    #[test]
    fn positions_restart_on_every_row() {
        let packing = Packing::new(vec![3, 1, 5], 6, Device::Cpu).unwrap();
        assert_eq!(longs(&packing.positions), [0, 1, 2, 0, 0, 1, 2, 3, 4]);
        assert_eq!(longs(&packing.gather), [0, 1, 2, 6, 12, 13, 14, 15, 16]);
        assert_eq!(packing.cu_seqlens.kind(), Kind::Int);
        assert_eq!(longs(&packing.cu_seqlens), [0, 3, 4, 9]);
        assert_eq!(packing.offsets, [0, 3, 4, 9]);
        assert_eq!(packing.max_len, 5);
        // The rotary rows gathered are the table's rows at those positions.
        let table = Tensor::arange(5, (Kind::Float, Device::Cpu)).unsqueeze(1);
        let (cos, _) = packing
            .gather_rotary(&(table.shallow_clone(), table))
            .unwrap();
        assert_eq!(cos.size(), [9, 1, 1]);
        assert_eq!(longs(&cos.flatten(0, -1)), [0, 1, 2, 0, 0, 1, 2, 3, 4]);
    }

    /// Off CUDA the flash kernel is not there: its failure comes back as the switch's typed
    /// error, naming the switch, and nothing panics.
    #[test]
    fn a_failing_flash_kernel_is_the_packed_switchs_error() {
        let packing = Packing::new(vec![2, 3], 3, Device::Cpu).unwrap();
        let q = Tensor::zeros([5, 2, 8], (Kind::BFloat16, Device::Cpu));
        let err = packing.flash(&q, &q, &q).unwrap_err();
        assert!(matches!(err, Esm2Problem::PackedAttention(_)), "{err:?}");
        assert!(err.to_string().contains("'packed'"), "{err}");
    }
}
