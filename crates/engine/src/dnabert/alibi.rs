//! ALiBi attention biases as DNABERT-2's `BertEncoder.rebuild_alibi_tensor` builds them.
//!
//! The reference keeps a table of `alibi_starting_size` (512) positions and rebuilds it
//! larger when a longer input comes; building the `[heads, T, T]` bias for exactly the
//! length at hand gives the same values for any length.
use tch::{Device, Kind, Tensor};

/// Per-head slopes from the ALiBi paper: a geometric series for the closest power of two,
/// then every other slope of the series for twice as many heads.
///
/// Computed in f64 and rounded to f32 once, as Python does before `torch.Tensor(slopes)`.
pub fn slopes(n_heads: i64) -> Vec<f32> {
    slopes_f64(n_heads).into_iter().map(|s| s as f32).collect()
}

fn slopes_f64(n_heads: i64) -> Vec<f64> {
    if n_heads < 1 {
        return Vec::new();
    }
    let log2 = (n_heads as f64).log2();
    if log2.fract() == 0.0 {
        return power_of_2_slopes(n_heads);
    }
    let closest = 1_i64 << log2.floor() as u32;
    let mut out = power_of_2_slopes(closest);
    let doubled = slopes_f64(2 * closest);
    let extra = usize::try_from(n_heads - closest).unwrap_or(0);
    out.extend(doubled.into_iter().step_by(2).take(extra));
    out
}

fn power_of_2_slopes(n_heads: i64) -> Vec<f64> {
    let start = 2f64.powf(-(2f64.powf(-((n_heads as f64).log2() - 3.0))));
    // `start * ratio**i` with ratio == start, as in the reference (not start**(i+1)).
    (0..n_heads).map(|i| start * start.powf(i as f64)).collect()
}

/// `bias[h, i, j] = -slope[h] * |i - j|` as a `[1, heads, len, len]` f32 tensor.
pub fn bias(slopes: &[f32], len: i64, device: Device) -> Tensor {
    let positions = Tensor::arange(len, (Kind::Int64, device));
    let distance = (positions.unsqueeze(0) - positions.unsqueeze(1)).abs();
    let n_heads = slopes.len() as i64;
    let slopes = Tensor::from_slice(slopes)
        .to_device(device)
        .view([1, n_heads, 1, 1]);
    // The reference multiplies the f32 slopes by the negated int64 distances.
    slopes * distance.neg().to_kind(Kind::Float).view([1, 1, len, len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_heads_interleave_the_sixteen_head_series() {
        // 2^-1 .. 2^-8 for the 8-head series, then 2^-0.5, 2^-1.5, 2^-2.5, 2^-3.5 (every
        // other slope of the 16-head series); inputs.json lists the same f32 values.
        let mut expected: Vec<f32> = (1..=8).map(|i| 2f64.powi(-i) as f32).collect();
        expected.extend([-0.5, -1.5, -2.5, -3.5].map(|e: f64| 2f64.powf(e) as f32));
        assert_eq!(slopes(12), expected);
    }

    #[test]
    fn powers_of_two_are_geometric() {
        assert_eq!(slopes(8)[0], 0.5);
        assert_eq!(slopes(8)[7], 1.0 / 256.0);
        assert_eq!(slopes(1), vec![2f32.powi(-8)]);
        assert!(slopes(0).is_empty());
    }

    #[test]
    fn bias_is_symmetric_and_zero_on_the_diagonal() {
        let b = bias(&slopes(2), 5, Device::Cpu);
        assert_eq!(b.size(), vec![1, 2, 5, 5]);
        let v = |h: i64, i: i64, j: i64| b.double_value(&[0, h, i, j]);
        assert_eq!(v(0, 2, 2), 0.0);
        assert_eq!(v(1, 0, 4), v(1, 4, 0));
        assert_eq!(v(0, 0, 3), -3.0 * f64::from(slopes(2)[0]));
    }
}
