//! Legacy feature files of the Python tools, checked against values extracted independently
//! by scripts/torch_fixture_expected.py, and against each other (merged = DNABERT ++ ESM).
mod support;

use std::collections::HashMap;

use support::{esm_pickle, exact_f64, expected, sequential_sum, torch_archive, write_temp, Pickle};
use virnucpro_core::legacy::{read_legacy_features, LegacyErrorKind, LegacyFeatures, LegacyKind};

fn read(relative: &str) -> LegacyFeatures {
    let path = virnucpro_testkit::fixture(relative);
    read_legacy_features(&path).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn fixtures_match_the_independent_python_reading() {
    let expected = expected();
    let files = expected["legacy"].as_object().unwrap();
    assert_eq!(
        files.len(),
        12,
        "all reference and e2e feature files are covered"
    );
    for (file, want) in files {
        let got = read(file);
        let kind = match want["kind"].as_str().unwrap() {
            "Dnabert" => LegacyKind::Dnabert,
            "Esm" => LegacyKind::Esm,
            _ => LegacyKind::Merged,
        };
        assert_eq!(got.kind, kind, "{file}");
        let ids: Vec<&str> = want["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(got.ids, ids, "{file}");
        assert_eq!(got.ids.len() as u64, want["rows"].as_u64().unwrap());
        assert_eq!(got.dim as u64, want["dim"].as_u64().unwrap(), "{file}");
        assert_eq!(got.data.len(), got.ids.len() * got.dim, "{file}");
        for (i, sum) in want["row_sums"].as_array().unwrap().iter().enumerate() {
            let row = got.row(i).unwrap();
            assert_eq!(sequential_sum(row), exact_f64(sum), "{file} row {i}");
        }
        for spot in want["spots"].as_array().unwrap() {
            let (i, j) = (
                spot[0].as_u64().unwrap() as usize,
                spot[1].as_u64().unwrap() as usize,
            );
            let value = exact_f64(&spot[2]);
            assert_eq!(f64::from(got.row(i).unwrap()[j]), value, "{file} [{i},{j}]");
        }
    }
}

#[test]
fn merged_rows_are_the_dnabert_row_then_the_esm_row_of_the_same_id() {
    for dir in [
        "reference/test_fixed_500bp_vanilla/output_1_",
        "reference/test_with_orfs_vanilla/output_1_",
    ]
    .map(|d| {
        (
            format!("{d}DNABERT_S.pt"),
            format!("{d}ESM.pt"),
            format!("{d}merged.pt"),
        )
    })
    .into_iter()
    .chain(["a300", "a500"].map(|a| {
        (
            format!("e2e/{a}/expected/input_nucleotide/output_1_DNABERT_S.pt"),
            format!("e2e/{a}/expected/input_protein/output_1_ESM.pt"),
            format!("e2e/{a}/expected/input_merged/output_1_merged.pt"),
        )
    })) {
        let (dnabert, esm, merged) = (read(&dir.0), read(&dir.1), read(&dir.2));
        assert_eq!(merged.dim, dnabert.dim + esm.dim);
        let index = |f: &LegacyFeatures| -> HashMap<String, usize> {
            f.ids
                .iter()
                .enumerate()
                .map(|(i, id)| (id.clone(), i))
                .collect()
        };
        let (by_dna, by_esm) = (index(&dnabert), index(&esm));
        assert!(!merged.ids.is_empty());
        for (i, id) in merged.ids.iter().enumerate() {
            let expected: Vec<f32> = [
                dnabert.row(by_dna[id]).unwrap(),
                esm.row(by_esm[id]).unwrap(),
            ]
            .concat();
            assert_eq!(
                merged.row(i).unwrap(),
                &expected[..],
                "{} row {i} ({id})",
                dir.2
            );
        }
    }
}

fn write_archive(
    pickle: &[u8],
    storages: &[(&str, Vec<u8>)],
) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = write_temp(&dir, "features.pt", &torch_archive(pickle, storages));
    (dir, path)
}

fn error_of(pickle: &[u8], storages: &[(&str, Vec<u8>)]) -> (LegacyErrorKind, String) {
    let (_dir, path) = write_archive(pickle, storages);
    let err = read_legacy_features(&path).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("features.pt"),
        "message names the file: {message}"
    );
    (err.kind(), message)
}

/// `{'ids': ids, 'data': tensor(rows, dim)}` over storage "0".
fn merged_pickle(ids: &[&str], class: &str, rows: i32, dim: i32) -> Vec<u8> {
    Pickle::proto(2)
        .op(b'}')
        .mark()
        .str("ids")
        .str_list(ids)
        .str("data")
        .tensor(class, "0", rows * dim, 0, &[rows, dim], &[dim, 1])
        .op(b'u')
        .stop()
}

/// `{'nucleotide': ids, 'data': [{'label': id, 'mean_representation': row}]}`.
fn dnabert_pickle(ids: &[&str], labels: &[&str], rows: &[&[f64]]) -> Vec<u8> {
    let mut p = Pickle::proto(2)
        .op(b'}')
        .mark()
        .str("version")
        .int(2)
        .str("nucleotide")
        .str_list(ids)
        .str("data")
        .op(b']')
        .mark();
    for (label, row) in labels.iter().zip(rows) {
        p = p
            .op(b'}')
            .mark()
            .str("label")
            .str(label)
            .str("mean_representation")
            .op(b']')
            .mark();
        for &v in row.iter() {
            p = p.float(v);
        }
        p = p.op(b'e').op(b'u');
    }
    p.op(b'e').str("status").str("complete").op(b'u').stop()
}

#[test]
fn hand_built_files_of_each_kind_are_read_and_extra_keys_ignored() {
    let (_d, path) = write_archive(
        &dnabert_pickle(&["a", "b"], &["a", "b"], &[&[1.0, -2.5], &[0.25, 3.0]]),
        &[],
    );
    let f = read_legacy_features(&path).unwrap();
    assert_eq!(
        (f.kind, f.ids.clone(), f.dim, f.data),
        (
            LegacyKind::Dnabert,
            vec!["a".into(), "b".into()],
            2,
            vec![1.0, -2.5, 0.25, 3.0]
        )
    );

    let storages = [
        ("0", support::f32_bytes(&[1.0, 2.0, 3.0])),
        ("1", support::f32_bytes(&[4.0, 5.0, 6.0])),
    ];
    let (_d, path) = write_archive(&esm_pickle(&["x", "y"], "FloatStorage", &[3, 3]), &storages);
    let f = read_legacy_features(&path).unwrap();
    assert_eq!((f.kind, f.dim), (LegacyKind::Esm, 3));
    assert_eq!(f.data, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);

    // A half-precision merged file: every f16 value converts exactly.
    let halves: Vec<u8> = [1.0f32, -0.5, 65504.0, 0.000061035156]
        .iter()
        .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
        .collect();
    let (_d, path) = write_archive(
        &merged_pickle(&["p", "q"], "HalfStorage", 2, 2),
        &[("0", halves)],
    );
    let f = read_legacy_features(&path).unwrap();
    assert_eq!((f.kind, f.dim), (LegacyKind::Merged, 2));
    assert_eq!(f.data, vec![1.0, -0.5, 65504.0, 0.000061035156]);
}

#[test]
fn inconsistent_files_are_corrupt_with_details() {
    let (kind, message) = error_of(
        &merged_pickle(&["a", "b", "c"], "FloatStorage", 2, 2),
        &[("0", support::f32_bytes(&[0.0; 4]))],
    );
    assert_eq!(kind, LegacyErrorKind::Corrupt);
    assert!(
        message.contains("3 ids") && message.contains("2 rows"),
        "{message}"
    );

    let storages = [
        ("0", support::f32_bytes(&[1.0, 2.0, 3.0])),
        ("1", support::f32_bytes(&[4.0, 5.0])),
    ];
    let (kind, message) = error_of(&esm_pickle(&["x", "y"], "FloatStorage", &[3, 2]), &storages);
    assert_eq!(kind, LegacyErrorKind::Corrupt);
    assert!(
        message.contains("row 1 has 2 values but earlier rows have 3"),
        "{message}"
    );

    let (kind, message) = error_of(
        &dnabert_pickle(&["a", "b"], &["a", "b"], &[&[1.0, 2.0], &[f64::NAN, 0.0]]),
        &[],
    );
    assert_eq!(kind, LegacyErrorKind::Corrupt);
    assert!(message.contains("row 1 (b) column 0 is NaN"), "{message}");

    let (kind, message) = error_of(
        &merged_pickle(&["a"], "FloatStorage", 1, 3),
        &[("0", support::f32_bytes(&[0.0, f32::INFINITY, 1.0]))],
    );
    assert_eq!(kind, LegacyErrorKind::Corrupt);
    assert!(message.contains("row 0 (a) column 1 is inf"), "{message}");

    let (kind, message) = error_of(
        &dnabert_pickle(&["a", "b"], &["a", "z"], &[&[1.0], &[2.0]]),
        &[],
    );
    assert_eq!(kind, LegacyErrorKind::Corrupt);
    assert!(message.contains("label"), "{message}");

    // The storage holds fewer elements than the tensor claims.
    let (kind, message) = error_of(
        &merged_pickle(&["a", "b"], "FloatStorage", 2, 4),
        &[("0", support::f32_bytes(&[0.0; 5]))],
    );
    assert_eq!(kind, LegacyErrorKind::Corrupt);
    assert!(message.contains("storage 0"), "{message}");

    let unknown = Pickle::proto(2)
        .op(b'}')
        .mark()
        .str("rows")
        .int(1)
        .op(b'u')
        .stop();
    let (kind, message) = error_of(&unknown, &[]);
    assert_eq!(kind, LegacyErrorKind::Corrupt);
    assert!(message.contains("'rows'"), "{message}");
}

#[test]
fn integer_features_are_an_unsupported_dtype() {
    let storages = [("0", vec![0u8; 16])];
    let (kind, message) = error_of(&esm_pickle(&["x"], "LongStorage", &[2]), &storages);
    assert_eq!(kind, LegacyErrorKind::UnsupportedDtype);
    assert!(message.contains("int64"), "{message}");
    let (kind, message) = error_of(&esm_pickle(&["x"], "QInt8Storage", &[2]), &storages);
    assert_eq!(kind, LegacyErrorKind::UnsupportedDtype);
    assert!(message.contains("QInt8Storage"), "{message}");
}

#[test]
fn unreadable_and_foreign_files() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope_merged.pt");
    let err = read_legacy_features(&missing).unwrap_err();
    assert_eq!(err.kind(), LegacyErrorKind::Unreadable);
    assert!(err.to_string().contains("nope_merged.pt"), "{err}");

    // A folder cannot be read as a file.
    let err = read_legacy_features(dir.path()).unwrap_err();
    assert_eq!(err.kind(), LegacyErrorKind::Unreadable, "{err}");

    let fasta = virnucpro_testkit::fixture("reference/test_with_orfs.fa");
    let err = read_legacy_features(&fasta).unwrap_err();
    assert_eq!(err.kind(), LegacyErrorKind::Corrupt);
    assert!(err.to_string().contains("not a zip archive"), "{err}");

    // A big-endian archive is refused rather than read with swapped bytes.
    let pickle = merged_pickle(&["a"], "FloatStorage", 1, 1);
    let zip = support::zip_stored(&[
        ("archive/data.pkl", &pickle),
        ("archive/byteorder", b"big"),
        ("archive/data/0", &[0, 0, 0, 0]),
    ]);
    let path = write_temp(&dir, "be.pt", &zip);
    let err = read_legacy_features(&path).unwrap_err();
    assert_eq!(err.kind(), LegacyErrorKind::Corrupt);
    assert!(err.to_string().contains("big-endian"), "{err}");

    // Compressed entries are not what torch.save writes.
    let zip = support::zip_with_method(&[("archive/data.pkl", &pickle)], 8);
    let path = write_temp(&dir, "deflated.pt", &zip);
    let err = read_legacy_features(&path).unwrap_err();
    assert_eq!(err.kind(), LegacyErrorKind::Corrupt);
    assert!(err.to_string().contains("compression method 8"), "{err}");
}

#[test]
fn a_real_legacy_torch_pickle_is_named_as_one() {
    let legacy = virnucpro_testkit::format_fixture("output_1_ESM_legacy.pt");
    let err = read_legacy_features(&legacy).unwrap_err();
    assert_eq!(err.kind(), LegacyErrorKind::Corrupt);
    let text = err.to_string();
    assert!(text.contains("output_1_ESM_legacy.pt"), "{text}");
    assert!(
        text.contains("a torch file in the legacy (pre-1.6, non-zip) format; re-save it"),
        "{text}"
    );
}
