//! The half-precision fast path ([`FastPath`]) of DNABERT-S against its exact path, on the
//! tiny fixture: every switch alone and every switch left out computes the exact path's
//! bits; so does the cached ALiBi table across batches of changing length; f32 ignores the
//! switches; padded rows equal single rows within half tolerance. bf16 and f16 both run on
//! the CPU.
use tch::{Device, Kind, Tensor};
use virnucpro_testkit::fixture;

use super::DnaBertS;
use crate::layers::FastPath;

/// DNA of mixed lengths, a few bases to a 500 bp chunk.
fn sequences() -> Vec<String> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut random = |len: usize| -> String {
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                b"ACGT"[(state >> 33) as usize % 4] as char
            })
            .collect()
    };
    [500usize, 37, 5, 260, 120, 64]
        .into_iter()
        .map(&mut random)
        .collect()
}

fn load(kind: Kind) -> DnaBertS {
    DnaBertS::load(&fixture("models/dnabert_s_tiny"), kind, Device::Cpu).unwrap()
}

fn embed(model: &mut DnaBertS, fast: FastPath, sequences: &[String]) -> Tensor {
    model.set_fast_path(fast);
    let sequences: Vec<&str> = sequences.iter().map(String::as_str).collect();
    model.embed_sequences(&sequences).unwrap()
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

/// Every switch alone, every switch left out, and all of them.
fn variants() -> Vec<(String, FastPath)> {
    let mut out = vec![("all".to_string(), FastPath::ALL)];
    for name in FastPath::NAMES {
        for text in [format!("none,+{name}"), format!("-{name}")] {
            let fast = text.parse().unwrap();
            out.push((text, fast));
        }
    }
    out
}

/// A few units in the last place of the kind at the embeddings' magnitude (~2): the exact
/// path itself differs this much between a padded and a single row (measured 8.8e-3 in
/// bf16, 1.8e-3 in f16, the matmuls blocking their sums by the batch's shape).
fn tolerance(kind: Kind) -> f64 {
    match kind {
        Kind::BFloat16 => 3e-2,
        _ => 4e-3,
    }
}

#[test]
fn every_switch_computes_the_exact_paths_bits() {
    let sequences = sequences();
    let reference = embed(&mut load(Kind::Float), FastPath::EXACT, &sequences);
    for kind in [Kind::BFloat16, Kind::Half] {
        let mut model = load(kind);
        assert_eq!(model.fast_path(), FastPath::DEFAULT, "{kind:?} default");
        let exact = embed(&mut model, FastPath::EXACT, &sequences);
        for (name, fast) in variants() {
            let got = embed(&mut model, fast, &sequences);
            let diff = max_abs_diff(&got, &exact);
            let vs_f32 = max_abs_diff(&got, &reference);
            eprintln!("dnabert {kind:?} {name}: vs exact {diff:.2e}, vs f32 {vs_f32:.2e}");
            // No switch changes a value in DNABERT-S: pool, gelu and packed have nothing to
            // change there, the cached table holds the same values, and the in-place ops compute
            // the same sums into tensors of the same layout.
            assert!(got.equal(&exact), "{kind:?} {name}: {diff:e}");
            assert!(vs_f32 <= 0.05, "{kind:?} {name} vs f32: {vs_f32:e}");
        }
    }
}

#[test]
fn the_cached_alibi_table_changes_no_bit() {
    let sequences = sequences();
    // Batches of three lengths, the first again last: the cache must follow the length.
    let batches = [&sequences[..2], &sequences[2..3], &sequences[..2]];
    for kind in [Kind::BFloat16, Kind::Half] {
        let mut model = load(kind);
        for batch in batches {
            let exact = embed(&mut model, FastPath::EXACT, batch);
            let cached = embed(&mut model, "none,+position_cache".parse().unwrap(), batch);
            assert!(
                cached.equal(&exact),
                "{kind:?}: {:e}",
                max_abs_diff(&cached, &exact)
            );
        }
    }
}

#[test]
fn f32_ignores_the_switches() {
    let sequences = sequences();
    let mut plain = load(Kind::Float);
    assert_eq!(plain.fast_path(), FastPath::EXACT);
    let want = embed(&mut plain, FastPath::EXACT, &sequences);
    let mut model = load(Kind::Float);
    for (name, fast) in variants() {
        let got = embed(&mut model, fast, &sequences);
        assert_eq!(model.fast_path(), FastPath::EXACT, "{name}");
        assert!(got.equal(&want), "{name}");
    }
}

#[test]
fn padded_rows_equal_single_rows_on_the_fast_path() {
    let sequences = sequences();
    for kind in [Kind::BFloat16, Kind::Half] {
        let mut model = load(kind);
        let pooled = embed(&mut model, FastPath::ALL, &sequences);
        let mut worst = 0f64;
        for (row, sequence) in sequences.iter().enumerate() {
            let alone = embed(&mut model, FastPath::ALL, std::slice::from_ref(sequence));
            let diff = max_abs_diff(&pooled.get(row as i64), &alone.squeeze_dim(0));
            assert!(diff <= tolerance(kind), "{kind:?} row {row}: {diff:e}");
            worst = worst.max(diff);
        }
        eprintln!("dnabert {kind:?} fast path, padded vs single rows: {worst:.2e}");
    }
}
