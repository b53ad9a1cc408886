//! Finding the first NaN or infinity in a run of f32 values, fast on the usual case where
//! there is none: merged rows, legacy rows and feature files are all checked by it.

/// Values checked at once: a block is tested without branches (so the compiler can use
/// vector instructions), and searched value by value only when it holds a bad one.
const FINITE_BLOCK: usize = 256;

/// The index of the first NaN or infinity in `values`.
pub fn first_non_finite(values: &[f32]) -> Option<usize> {
    // All exponent bits set: infinity or NaN.
    const EXPONENT: u32 = 0x7f80_0000;
    values
        .chunks(FINITE_BLOCK)
        .enumerate()
        .find(|(_, block)| {
            block
                .iter()
                .fold(false, |bad, v| bad | (v.to_bits() & EXPONENT == EXPONENT))
        })
        .and_then(|(i, block)| {
            let at = block.iter().position(|v| !v.is_finite())?;
            Some(i * FINITE_BLOCK + at)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_non_finite_value_is_found_wherever_it_is() {
        let specials = [f32::NAN, -f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
        // Finite edge values on either side of the exponent test.
        let finite = [
            0.0,
            -0.0,
            f32::MAX,
            f32::MIN,
            f32::MIN_POSITIVE,
            1e-45,
            -1e-45,
            1.0,
        ];
        for len in [0, 1, 255, 256, 257, 3 * FINITE_BLOCK + 5] {
            let clean: Vec<f32> = (0..len).map(|i| finite[i % finite.len()]).collect();
            assert_eq!(first_non_finite(&clean), None, "len {len}");
            for at in [0, len / 2, len.saturating_sub(1)]
                .into_iter()
                .filter(|&a| a < len)
            {
                for (k, special) in specials.iter().enumerate() {
                    let mut values = clean.clone();
                    values[at] = *special;
                    // A later bad value does not hide the first.
                    if let Some(last) = values.last_mut().filter(|_| at + 1 < len) {
                        *last = specials[(k + 1) % specials.len()];
                    }
                    assert_eq!(
                        first_non_finite(&values),
                        Some(at),
                        "len {len}, {special} at {at}"
                    );
                }
            }
        }
        // NaNs of many payloads, either sign, one per block position.
        for at in 0..FINITE_BLOCK {
            let payload = ((at as u32 + 1) * 0x0002_9a5b) & 0x007f_ffff;
            let sign = (at as u32 & 1) << 31;
            let mut values = vec![1.0f32; FINITE_BLOCK];
            values[at] = f32::from_bits(sign | 0x7f80_0000 | payload.max(1));
            assert!(values[at].is_nan());
            assert_eq!(first_non_finite(&values), Some(at), "payload {payload:#x}");
        }
    }
}
