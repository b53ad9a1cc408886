//! `str(np.float32(x))` as numpy (1.14 to 2.2) prints it: the shortest digits that read back
//! as the same float32 (Dragon4 "unique" mode), laid out positionally when
//! `1e-4 <= |x| < 1e16` or `x == 0` (`0.00033506763`, `0.5`, `1.0`, `100.0`), else in
//! scientific notation with a signed exponent of at least two digits (`4.6460002e-08`,
//! `1e-04`, `1e+16`, `3.4028235e+38`). Non-finite values print `nan`, `inf`, `-inf`
//! (a NaN's sign is not printed).
//!
//! The digits come from Rust's own formatting: shortest round-trip `{:e}`, and its
//! correctly rounded `{:.N$e}` to settle exact ties the way numpy does (see
//! [`shortest_digits`]); this module only applies numpy's layout.
//!
//! numpy >= 2.3 switches float32 to scientific notation already at 1e6 (numpy gh-28679);
//! the original tool's outputs are probabilities in [0, 1], printed the same by both.

/// numpy's `str(np.float32(x))`.
pub fn format(x: f32) -> String {
    let mut out = String::with_capacity(16);
    write(&mut out, x);
    out
}

/// Append numpy's `str(np.float32(x))` to `out`.
pub fn write(out: &mut String, x: f32) {
    if x.is_nan() {
        out.push_str("nan");
        return;
    }
    if x.is_infinite() {
        out.push_str(if x > 0.0 { "inf" } else { "-inf" });
        return;
    }
    let sci = shortest_digits(x);
    let (negative, body) = match sci.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, sci.as_str()),
    };
    let (mantissa, exponent) = body.split_once('e').unwrap_or((body, "0"));
    // Rust writes the exponent as a plain integer; it always parses.
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (lead, rest) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: String = [lead, rest].concat();

    if negative {
        out.push('-');
    }
    // numpy compares with the long double 1e-4L; no float32 lies between it and 1e-4f64,
    // and 1e16 is exact in both.
    let magnitude = f64::from(x).abs();
    if magnitude == 0.0 || (1e-4..1e16).contains(&magnitude) {
        positional(out, &digits, exponent);
    } else {
        scientific(out, lead, rest, exponent);
    }
}

/// The shortest round-trip digits of `x` as `{:e}` writes them (`-1.2345e-5`, `1e0`, `0e0`),
/// with numpy's choice when two such digit strings are equally close to `x`.
///
/// Rust's `{:e}` picks the shortest digits closest to `x`, but when `x` lies exactly halfway
/// between two of them it takes the upper one, where numpy's Dragon4 takes the one with an
/// even last digit (2**-12 = 0.000244140625 prints `0.00024414062`; 1558090.25 prints
/// `1558090.2`). Rust's fixed-precision `{:.N$e}` is correctly rounded with ties to even, so
/// at the shortest length it gives numpy's digits whenever they read back as `x`.
fn shortest_digits(x: f32) -> String {
    let shortest = std::format!("{:e}", x);
    let mantissa = shortest.split('e').next().unwrap_or("");
    let len = mantissa.bytes().filter(u8::is_ascii_digit).count();
    let even = std::format!("{:.*e}", len.saturating_sub(1), x);
    if even != shortest && even.parse::<f32>() == Ok(x) {
        even
    } else {
        shortest
    }
}

/// `digits` (d1 d2 ... dn, no leading zero unless the value is 0) times 10^(exponent - n + 1),
/// written without an exponent, with at least one digit after the point.
fn positional(out: &mut String, digits: &str, exponent: i32) {
    let n = digits.len() as i32;
    if exponent < 0 {
        out.push_str("0.");
        for _ in 0..(-exponent - 1) {
            out.push('0');
        }
        out.push_str(digits);
        return;
    }
    let int_len = exponent + 1;
    if n <= int_len {
        out.push_str(digits);
        for _ in 0..(int_len - n) {
            out.push('0');
        }
        out.push_str(".0");
    } else {
        let (int_part, frac) = digits.split_at(int_len as usize);
        out.push_str(int_part);
        out.push('.');
        out.push_str(frac);
    }
}

/// `d1[.d2...dn]e±XX`: no trailing `.0` when there is a single digit.
fn scientific(out: &mut String, lead: &str, rest: &str, exponent: i32) {
    out.push_str(lead);
    if !rest.is_empty() {
        out.push('.');
        out.push_str(rest);
    }
    out.push('e');
    out.push(if exponent < 0 { '-' } else { '+' });
    let abs = exponent.unsigned_abs();
    if abs < 10 {
        out.push('0');
    }
    out.push_str(itoa::Buffer::new().format(abs));
}

#[cfg(test)]
mod tests {
    use super::format;

    #[test]
    fn examples_from_the_spec() {
        assert_eq!(format(0.000_335_067_63), "0.00033506763");
        assert_eq!(format(0.5), "0.5");
        assert_eq!(format(1.0), "1.0");
        assert_eq!(format(0.978_186_55), "0.97818655");
        assert_eq!(format(4.646_000_2e-8), "4.6460002e-08");
        assert_eq!(format(1e-4), "1e-04");
        assert_eq!(format(1e16), "1e+16");
        assert_eq!(format(1e15), "1000000000000000.0");
        assert_eq!(format(123.25), "123.25");
        assert_eq!(format(0.0), "0.0");
        assert_eq!(format(-0.0), "-0.0");
        assert_eq!(format(f32::NAN), "nan");
        assert_eq!(format(-f32::NAN), "nan");
        assert_eq!(format(f32::INFINITY), "inf");
        assert_eq!(format(f32::NEG_INFINITY), "-inf");
        assert_eq!(format(f32::from_bits(1)), "1e-45");
        assert_eq!(format(f32::MAX), "3.4028235e+38");
        // Exactly halfway between two shortest candidates: the even last digit.
        assert_eq!(format(2f32.powi(-12)), "0.00024414062");
        assert_eq!(format(1_558_090.2), "1558090.2");
        assert_eq!(format(3_775_872.2), "3775872.2");
    }
}
