//! The half-precision fast path ([`FastPath`]) of ESM-2 against its exact path, on the tiny
//! fair-esm fixture: every switch alone and every switch left out stay within half
//! tolerance of the exact path; the switches that only move work compute the same bits;
//! f32 ignores them; padded rows equal single rows; and the fast pooling refuses what the
//! row-by-row pooling refuses. bf16 and f16 both run on the CPU.
use tch::{Device, Kind, Tensor};
use virnucpro_testkit::fixture;

use super::{Alphabet, Esm2, VIRNUCPRO_MAX_RESIDUES};
use crate::layers::FastPath;

/// Residue strings of mixed lengths (a single residue, the 1024 cap exceeded).
pub(super) fn sequences() -> Vec<String> {
    let residues = b"LAGVSERTIDPNQKFYMHWC";
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut random = |len: usize| -> String {
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                residues[(state >> 33) as usize % residues.len()] as char
            })
            .collect()
    };
    let long = VIRNUCPRO_MAX_RESIDUES + 60;
    [3usize, 41, 1, 17, long, 9, 28]
        .into_iter()
        .map(&mut random)
        .collect()
}

/// Right-padded `[B, T]` ids and the residue counts.
pub(super) fn batch(sequences: &[String]) -> (Tensor, Vec<usize>) {
    let alphabet = Alphabet::new();
    let rows: Vec<Vec<i64>> = sequences
        .iter()
        .map(|s| alphabet.encode(s).unwrap())
        .collect();
    let width = rows.iter().map(Vec::len).max().unwrap();
    let mut flat = Vec::new();
    for row in &rows {
        flat.extend_from_slice(row);
        flat.resize(flat.len() + width - row.len(), Alphabet::PAD);
    }
    let ids = Tensor::from_slice(&flat).view([rows.len() as i64, width as i64]);
    (ids, sequences.iter().map(String::len).collect())
}

pub(super) fn load(kind: Kind) -> Esm2 {
    let path = fixture("models/esm2_tiny_fairesm/esm2_t2_tiny_fixture.pt");
    Esm2::load(&path, kind, Device::Cpu).unwrap()
}

fn embed(model: &mut Esm2, fast: FastPath, ids: &Tensor, lengths: &[usize]) -> Tensor {
    model.set_fast_path(fast);
    model.embed(ids, lengths).unwrap()
}

pub(super) fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
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

/// The fast path's own error in the kind: the measured worst difference from the exact
/// path was 1.6e-2 (bf16) and 2.0e-3 (f16), all of it the gelu kernel's rounding carried
/// through two layers; values reach ~4. Below the ~0.2 a mean taking one position too many
/// or too few would move a short row by.
pub(super) fn tolerance(kind: Kind) -> f64 {
    match kind {
        Kind::BFloat16 => 5e-2,
        _ => 5e-3,
    }
}

#[test]
fn every_switch_stays_within_half_tolerance_of_the_exact_path() {
    let (ids, lengths) = batch(&sequences());
    let reference = load(Kind::Float).embed(&ids, &lengths).unwrap();
    for kind in [Kind::BFloat16, Kind::Half] {
        let mut model = load(kind);
        assert_eq!(model.fast_path(), FastPath::DEFAULT, "{kind:?} default");
        let exact = embed(&mut model, FastPath::EXACT, &ids, &lengths);
        let to_f32 = max_abs_diff(&exact, &reference);
        for (name, fast) in variants() {
            let got = embed(&mut model, fast, &ids, &lengths);
            assert_eq!(got.kind(), Kind::Float);
            let diff = max_abs_diff(&got, &exact);
            let vs_f32 = max_abs_diff(&got, &reference);
            eprintln!("esm2 {kind:?} {name}: vs exact {diff:.2e}, vs f32 {vs_f32:.2e} (exact path {to_f32:.2e})");
            assert!(diff <= tolerance(kind), "{kind:?} {name}: {diff:e}");
            if !fast.gelu && !fast.packed {
                // The other switches round nothing differently: at most the f32 sums of the
                // pooling add up in another order (measured 6e-8). Packing runs the GEMMs
                // and attention in other shapes, which round half values differently (like
                // padded rows vs single rows): `packed_tests` holds it to 1e-5 in f32.
                assert!(diff <= 1e-6, "{kind:?} {name} without gelu: {diff:e}");
            }
            assert!(
                vs_f32 <= 2.0 * tolerance(kind),
                "{kind:?} {name} vs f32: {vs_f32:e}"
            );
        }
    }
}

#[test]
fn cached_tables_and_in_place_ops_change_no_bit() {
    let sequences = sequences();
    // Batches of three widths, the first again last: the cache must follow the width.
    let batches = [
        batch(&sequences[..2]),
        batch(&sequences[5..]),
        batch(&sequences[..2]),
    ];
    for kind in [Kind::BFloat16, Kind::Half] {
        let mut model = load(kind);
        for (ids, lengths) in &batches {
            let exact = embed(&mut model, FastPath::EXACT, ids, lengths);
            for text in [
                "none,+position_cache",
                "none,+in_place",
                "none,+position_cache,+in_place",
            ] {
                let got = embed(&mut model, text.parse().unwrap(), ids, lengths);
                assert!(
                    got.equal(&exact),
                    "{kind:?} {text}: {:e}",
                    max_abs_diff(&got, &exact)
                );
            }
            // And every representation, not just the pooled one.
            model.set_fast_path("none,+position_cache,+in_place".parse().unwrap());
            let fast = model.representations(ids).unwrap();
            model.set_fast_path(FastPath::EXACT);
            for (i, (a, b)) in fast
                .iter()
                .zip(model.representations(ids).unwrap())
                .enumerate()
            {
                assert!(a.equal(&b), "{kind:?} representation {i}");
            }
        }
    }
}

#[test]
fn f32_ignores_the_switches() {
    let (ids, lengths) = batch(&sequences());
    let plain = load(Kind::Float);
    assert_eq!(plain.fast_path(), FastPath::EXACT);
    let want = plain.embed(&ids, &lengths).unwrap();
    let mut model = load(Kind::Float);
    for (name, fast) in variants() {
        model.set_fast_path(fast);
        assert_eq!(model.fast_path(), FastPath::EXACT, "{name}");
        assert!(model.embed(&ids, &lengths).unwrap().equal(&want), "{name}");
    }
}

#[test]
fn padded_rows_equal_single_rows_on_the_fast_path() {
    let sequences = sequences();
    let (ids, lengths) = batch(&sequences);
    for kind in [Kind::BFloat16, Kind::Half] {
        let model = load(kind);
        let pooled = model.embed(&ids, &lengths).unwrap();
        let mut worst = 0f64;
        for (row, sequence) in sequences.iter().enumerate() {
            let (single, length) = batch(std::slice::from_ref(sequence));
            let alone = model.embed(&single, &length).unwrap().squeeze_dim(0);
            let diff = max_abs_diff(&pooled.get(row as i64), &alone);
            assert!(diff <= tolerance(kind), "{kind:?} row {row}: {diff:e}");
            worst = worst.max(diff);
        }
        eprintln!("esm2 {kind:?} fast path, padded vs single rows: {worst:.2e}");
    }
}

#[test]
fn the_fast_pooling_refuses_what_the_row_pooling_refuses() {
    let (ids, lengths) = batch(&sequences()[..3]);
    // Row 1 holds `<cls>` alone: nothing to average whatever its length says.
    let cls_only = Tensor::from_slice(&[0i64, 5, 6, 2, 0, 1, 1, 1]).view([2, 4]);
    let cases: [(&Tensor, &[usize]); 3] = [
        (&ids, &lengths[..2]),
        (&ids, &[3, 0, 1]),
        (&cls_only, &[2, 4]),
    ];
    let mut model = load(Kind::BFloat16);
    // The fast pooling, and the packed path, which checks everything before its forward.
    let fast_paths: [FastPath; 3] = [
        FastPath::ALL,
        "none,+pool".parse().unwrap(),
        "none,+packed".parse().unwrap(),
    ];
    for (ids, lengths) in cases {
        model.set_fast_path(FastPath::EXACT);
        let exact = model.embed(ids, lengths).unwrap_err().to_string();
        for fast_path in fast_paths {
            model.set_fast_path(fast_path);
            let fast = model.embed(ids, lengths).unwrap_err().to_string();
            assert_eq!(fast, exact, "{fast_path}");
        }
    }
    // The checks on the ids, read at once, say what the three reads said.
    let bad = [
        Tensor::from_slice(&[0i64, 40, 2]).view([1, 3]),
        Tensor::from_slice(&[0i64, 5, 2, 1, 1, 1]).view([2, 3]),
    ];
    for ids in &bad {
        model.set_fast_path(FastPath::EXACT);
        let exact = model.embed(ids, &[1, 1]).unwrap_err().to_string();
        for fast_path in fast_paths {
            model.set_fast_path(fast_path);
            let fast = model.embed(ids, &[1, 1]).unwrap_err().to_string();
            assert_eq!(fast, exact, "{fast_path}");
        }
    }
}
