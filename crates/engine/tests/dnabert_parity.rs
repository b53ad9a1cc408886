//! The DNABERT-S tokenizer against the token ids recorded by the reference tokenizer.
use std::path::PathBuf;

use tch::Tensor;
use virnucpro_engine::dnabert::DnaTokenizer;
use virnucpro_testkit::fixture;

fn inputs() -> serde_json::Value {
    let text = std::fs::read_to_string(fixture("models/inputs.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn tiny_dir() -> PathBuf {
    fixture("models/dnabert_s_tiny")
}

fn ids_of(value: &serde_json::Value) -> Vec<i64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect()
}

#[test]
fn token_ids_match_every_case_and_edge_case() {
    let tokenizer = DnaTokenizer::from_dir(&tiny_dir()).unwrap();
    assert_eq!(tokenizer.pad_id(), 3);
    let inputs = inputs();
    let cases = inputs["dnabert_s"]["cases"].as_object().unwrap();
    assert_eq!(cases.len(), 8, "the fixture's cases changed");
    for (name, case) in cases {
        let seq = case["sequence"].as_str().unwrap();
        let got = tokenizer.encode(seq).unwrap();
        assert_eq!(got, ids_of(&case["input_ids"]), "case {name}");
        assert_eq!(
            got.len() as u64,
            case["n_tokens"].as_u64().unwrap(),
            "case {name}"
        );
    }
    let edge = inputs["dnabert_s"]["tokenizer_edge_cases"]
        .as_object()
        .unwrap();
    assert_eq!(edge.len(), 6, "the fixture's edge cases changed");
    for (seq, case) in edge {
        let got = tokenizer.encode(seq).unwrap();
        assert_eq!(got, ids_of(&case["ids"]), "edge case {seq:?}");
    }
}

#[test]
fn tokenizer_does_not_pad_or_truncate() {
    let tokenizer = DnaTokenizer::from_file(&tiny_dir().join("tokenizer.json")).unwrap();
    let short = tokenizer.encode("ACGT").unwrap();
    assert!(short.len() < 10, "padding left on: {} ids", short.len());
    // 12000 nt is far beyond the file's truncation at 2000 tokens.
    let long: String = "ACGTTGCAAGCTTAGC".repeat(750);
    let ids = tokenizer.encode(&long).unwrap();
    assert!(ids.len() > 2000, "truncation left on: {} ids", ids.len());
    assert_eq!(ids.first(), Some(&1));
    assert_eq!(ids.last(), Some(&2));
}

#[test]
fn tokenizer_batch_pads_right_with_a_mask() {
    let tokenizer = DnaTokenizer::from_dir(&tiny_dir()).unwrap();
    let (ids, mask) = tokenizer.batch(&["ACGTACGTTTGA", "", "N"]).unwrap();
    assert_eq!(ids.size(), vec![3, 6]);
    let row = |t: &Tensor, r: i64| Vec::<i64>::try_from(t.get(r)).unwrap();
    assert_eq!(row(&ids, 0), vec![1, 5, 194, 134, 23, 2]);
    assert_eq!(row(&ids, 1), vec![1, 2, 3, 3, 3, 3]);
    assert_eq!(row(&mask, 1), vec![1, 1, 0, 0, 0, 0]);
    assert_eq!(row(&ids, 2), vec![1, 0, 2, 3, 3, 3]);
    assert_eq!(row(&mask, 2), vec![1, 1, 1, 0, 0, 0]);
}
