//! The packed fast path ([`FastPath::packed`]) against the padded path, on the CPU with the
//! tiny fair-esm fixture: the same embeddings (f32 with the switch forced on, to 1e-5; bf16
//! and f16 within the half tolerance of `fast_tests`), every real token of the last
//! representation the same, each row the same whatever the batch and the order it comes in,
//! and a batch that is not right-padded left to the padded path. On the CPU the packed
//! attention runs row by row; the CUDA kernel is not reached here.
use tch::{Kind, Tensor};

use super::fast_tests::{batch, load, max_abs_diff, sequences, tolerance};
use super::packed::{read_rows, unpack};
use super::{Alphabet, Esm2};
use crate::layers::FastPath;

/// f32 packed vs padded: the same ops in other shapes (`[tokens, hidden]` GEMMs, one row's
/// attention at a time), so only the last bits may move. A token at the wrong position, a
/// row attending to another or a pooled span off by one moves them by far more.
const F32_TOLERANCE: f64 = 1e-5;

/// Batches with rows of very different lengths: the fixture's mix (1 to 1084 residues),
/// one row alone, rows of a single residue, and the longest next to the shortest.
fn cases() -> Vec<(&'static str, Vec<String>)> {
    let all = sequences();
    vec![
        ("mixed", all.clone()),
        ("one row", vec![all[1].clone()]),
        ("one residue", vec![all[2].clone()]),
        (
            "single residues",
            vec!["M".into(), all[2].clone(), "W".into()],
        ),
        (
            "long and short",
            vec![all[2].clone(), all[4].clone(), all[0].clone()],
        ),
    ]
}

/// `embed` with exactly these switches (f32 included).
fn embed_with(model: &mut Esm2, fast: FastPath, sequences: &[String]) -> Tensor {
    let (ids, lengths) = batch(sequences);
    model.force_fast_path(fast);
    model.embed(&ids, &lengths).unwrap()
}

fn switches(text: &str) -> FastPath {
    text.parse().unwrap()
}

/// Each padded variant and its packed twin: packing alone, and on top of the default.
fn twins() -> [(FastPath, FastPath); 2] {
    [
        (FastPath::EXACT, switches("none,+packed")),
        (FastPath::DEFAULT, FastPath::ALL),
    ]
}

#[test]
fn packed_batches_give_the_padded_embeddings_in_f32() {
    let mut model = load(Kind::Float);
    for (name, sequences) in cases() {
        for (padded, packed) in twins() {
            let want = embed_with(&mut model, padded, &sequences);
            let got = embed_with(&mut model, packed, &sequences);
            assert_eq!(got.size(), want.size(), "{name}");
            let diff = max_abs_diff(&got, &want);
            eprintln!("esm2 f32 {name} {packed} vs {padded}: {diff:.2e}");
            assert!(diff <= F32_TOLERANCE, "{name} {packed}: {diff:e}");
        }
    }
}

#[test]
fn packed_batches_stay_within_half_tolerance_of_padded_ones() {
    for kind in [Kind::BFloat16, Kind::Half] {
        let mut model = load(kind);
        for (name, sequences) in cases() {
            for (padded, packed) in twins() {
                let want = embed_with(&mut model, padded, &sequences);
                let got = embed_with(&mut model, packed, &sequences);
                let diff = max_abs_diff(&got, &want);
                eprintln!("esm2 {kind:?} {name} {packed} vs {padded}: {diff:.2e}");
                assert!(
                    diff <= tolerance(kind),
                    "{kind:?} {name} {packed}: {diff:e}"
                );
            }
        }
    }
}

/// Not only the means: every real token of the last representation, `<cls>` and `<eos>`
/// included, taken from the packed output row by row.
#[test]
fn every_packed_token_has_its_padded_representation() {
    let mut model = load(Kind::Float);
    let (ids, _) = batch(&sequences());
    model.force_fast_path(FastPath::EXACT);
    let padded = model.last_hidden_state(&ids).unwrap();
    model.force_fast_path(switches("none,+packed"));
    let rows = read_rows(&ids).unwrap().expect("right-padded rows");
    let (packed, packing) = model.packed_forward(&ids, rows.clone()).unwrap();
    assert_eq!(
        packed.size()[0],
        rows.iter().sum::<i64>(),
        "no padding packed"
    );
    for (row, got) in unpack(&packed, &packing).iter().enumerate() {
        let want = padded.get(row as i64).narrow(0, 0, rows[row]);
        let diff = max_abs_diff(got, &want);
        assert!(diff <= F32_TOLERANCE, "row {row}: {diff:e}");
    }
}

/// A row's embedding is its own: the same alone, in the batch, and in the batch reversed
/// (its tokens then start at another offset of the packed sequence). Rotary positions are
/// relative inside a row's attention, so this holds only if every row's positions come from
/// the table at their own column; the positions themselves are pinned by
/// `packed::tests::positions_restart_on_every_row`.
#[test]
fn each_packed_row_equals_its_row_alone_in_any_order() {
    let sequences = sequences();
    let reversed: Vec<String> = sequences.iter().rev().cloned().collect();
    for (kind, limit) in [
        (Kind::Float, F32_TOLERANCE),
        (Kind::BFloat16, tolerance(Kind::BFloat16)),
    ] {
        let mut model = load(kind);
        let packed = FastPath::ALL;
        let forward = embed_with(&mut model, packed, &sequences);
        let backward = embed_with(&mut model, packed, &reversed);
        let rows = sequences.len() as i64;
        for (row, sequence) in sequences.iter().enumerate() {
            let alone = embed_with(&mut model, packed, std::slice::from_ref(sequence));
            let here = forward.get(row as i64);
            let there = backward.get(rows - 1 - row as i64);
            let (vs_alone, vs_reversed) = (
                max_abs_diff(&here, &alone.squeeze_dim(0)),
                max_abs_diff(&here, &there),
            );
            assert!(vs_alone <= limit, "{kind:?} row {row} alone: {vs_alone:e}");
            assert!(
                vs_reversed <= limit,
                "{kind:?} row {row} reversed: {vs_reversed:e}"
            );
        }
    }
}

/// Padding inside a row (not right-padded) cannot be packed by cutting rows at their token
/// counts; the packed switch leaves such a batch to the padded path, bit for bit.
#[test]
fn a_batch_not_right_padded_takes_the_padded_path() {
    let pad = Alphabet::PAD;
    let ids = Tensor::from_slice(&[0i64, 5, pad, 6, 2, 0, 7, 8, 2, pad]).view([2, 5]);
    assert!(read_rows(&ids).unwrap().is_none());
    let lengths = [3, 2];
    let mut model = load(Kind::BFloat16);
    model.force_fast_path(FastPath::EXACT);
    let want = model.embed(&ids, &lengths).unwrap();
    model.force_fast_path(switches("none,+packed"));
    assert!(model.embed(&ids, &lengths).unwrap().equal(&want));
}
