//! The streaming decoder of the Python tools' DNABERT-S and ESM files against the general
//! one (the reference): the same rows, bit for bit, and the same errors, word for word, on
//! every fixture, on hand-made edge cases, on every truncation of small files and on random
//! damage. Where the streaming decoder declines, `Decoder::Auto` must still give exactly
//! the general decoder's answer.
mod support;

use std::path::Path;

use proptest::prelude::*;
use support::{esm_pickle, f32_bytes, torch_archive, Pickle};
use virnucpro_core::legacy::{
    read_legacy_features, read_legacy_features_into, read_legacy_from, read_legacy_with, Decoded,
    Decoder, LegacyErrorKind, LegacyKind,
};

/// A decoder's answer in comparable form: kind, ids, width and the bits of every value, or
/// the error's kind and message.
type Outcome = Result<(LegacyKind, Vec<String>, usize, Vec<u32>), (LegacyErrorKind, String)>;

fn outcome(result: Result<Decoded, virnucpro_core::legacy::LegacyError>) -> Option<Outcome> {
    match result {
        Ok(Decoded::Read { features: f, .. }) => Some(Ok((
            f.kind,
            f.ids,
            f.dim,
            f.data.iter().map(|v| v.to_bits()).collect(),
        ))),
        Ok(Decoded::Declined(_)) => None,
        Err(e) => Some(Err((e.kind(), e.to_string()))),
    }
}

fn from_bytes(
    bytes: &[u8],
    decoder: Decoder,
) -> Result<Decoded, virnucpro_core::legacy::LegacyError> {
    read_legacy_from(Path::new("features.pt"), bytes.to_vec(), decoder)
}

/// Auto gives the general decoder's answer; the streaming decoder alone gives it too or
/// declines. Returns whether the streaming decoder read the file.
fn assert_same(bytes: &[u8]) -> bool {
    let general = outcome(from_bytes(bytes, Decoder::General)).expect("general never declines");
    let auto = outcome(from_bytes(bytes, Decoder::Auto)).expect("auto never declines");
    assert_eq!(auto, general, "auto vs general");
    match outcome(from_bytes(bytes, Decoder::Fast)) {
        Some(fast) => {
            assert_eq!(fast, general, "streaming vs general");
            true
        }
        None => false,
    }
}

const LEGACY_FIXTURES: [&str; 8] = [
    "reference/test_fixed_500bp_vanilla/output_1_DNABERT_S.pt",
    "reference/test_fixed_500bp_vanilla/output_1_ESM.pt",
    "reference/test_with_orfs_vanilla/output_1_DNABERT_S.pt",
    "reference/test_with_orfs_vanilla/output_1_ESM.pt",
    "e2e/a300/expected/input_nucleotide/output_1_DNABERT_S.pt",
    "e2e/a300/expected/input_protein/output_1_ESM.pt",
    "e2e/a500/expected/input_nucleotide/output_1_DNABERT_S.pt",
    "e2e/a500/expected/input_protein/output_1_ESM.pt",
];

#[test]
fn every_dnabert_and_esm_fixture_is_streamed_to_the_general_decoders_rows() {
    for file in LEGACY_FIXTURES {
        let path = virnucpro_testkit::fixture(file);
        let general = outcome(read_legacy_with(&path, Decoder::General)).unwrap();
        let fast = read_legacy_with(&path, Decoder::Fast).unwrap();
        let Decoded::Read { streamed: true, .. } = &fast else {
            panic!("{file}: the streaming decoder declined: {fast:?}");
        };
        assert_eq!(outcome(Ok(fast)).unwrap(), general, "{file}");
        assert!(general.is_ok(), "{file}: {general:?}");
        let auto = read_legacy_with(&path, Decoder::Auto).unwrap();
        assert!(
            matches!(auto, Decoded::Read { streamed: true, .. }),
            "{file}"
        );
    }
}

/// The merge hands each file the row buffer of an earlier one (with its old values, and
/// a capacity too large or too small): the rows must be the file's own, and nothing else.
#[test]
fn rows_read_into_a_used_buffer_are_those_read_into_a_new_one() {
    let paths = LEGACY_FIXTURES.map(virnucpro_testkit::fixture);
    let fresh: Vec<_> = paths
        .iter()
        .map(|p| read_legacy_features(p).unwrap())
        .collect();
    let mut buffer = vec![f32::NAN; 3];
    // Each file into the buffer the file before left, twice round: every layout after
    // every other, the buffer growing and being reused larger than needed.
    for (path, expected) in paths.iter().zip(&fresh).cycle().take(2 * paths.len()) {
        let before = buffer.capacity();
        let read = read_legacy_features_into(path, std::mem::take(&mut buffer)).unwrap();
        assert_eq!(read.kind, expected.kind, "{}", path.display());
        assert_eq!(read.ids, expected.ids, "{}", path.display());
        assert_eq!(read.dim, expected.dim, "{}", path.display());
        let bits = |d: &[f32]| d.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&read.data), bits(&expected.data), "{}", path.display());
        if read.data.len() <= before {
            assert_eq!(
                read.data.capacity(),
                before,
                "{}: the buffer was reused",
                path.display()
            );
        }
        buffer = read.data;
    }
    // A file the streaming decoder declines, read into a used buffer: the general decoder's
    // rows, whatever the buffer held.
    let dir = tempfile::tempdir().unwrap();
    let declined = dir.path().join("output_1_DNABERT_S.pt");
    std::fs::write(&declined, archive(&int_row(), &[])).unwrap();
    let Ok(Decoded::Declined(_)) = read_legacy_with(&declined, Decoder::Fast) else {
        panic!("the streaming decoder reads a row starting with an int");
    };
    let read = read_legacy_features_into(&declined, vec![7.0; 100]).unwrap();
    assert_eq!(read.data, read_legacy_features(&declined).unwrap().data);
    assert_eq!(read.data.len(), 2);
}

#[test]
fn merged_files_and_other_torch_files_go_to_the_general_decoder_unchanged() {
    let mut files: Vec<_> = [
        "reference/test_fixed_500bp_vanilla/output_1_merged.pt",
        "reference/test_with_orfs_vanilla/output_1_merged.pt",
        "e2e/a300/expected/input_merged/output_1_merged.pt",
        "e2e/a500/expected/input_merged/output_1_merged.pt",
        "models/esm2_tiny_fairesm/esm2_t2_tiny_fixture.pt",
    ]
    .map(virnucpro_testkit::fixture)
    .to_vec();
    for name in [
        "classifier_500_tiny_legacy.pth",
        "state_dict_legacy.bin",
        "output_1_ESM_legacy.pt",
    ] {
        files.push(virnucpro_testkit::format_fixture(name));
    }
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        assert_same(&bytes);
        let fast = from_bytes(&bytes, Decoder::Fast);
        assert!(
            !matches!(fast, Ok(Decoded::Read { .. })),
            "{}: only DNABERT-S and ESM layouts are streamed",
            path.display()
        );
    }
}

/// `{'nucleotide': ids, 'data': [{'label': l, 'mean_representation': row}]}`, shaped as
/// `torch.save` writes it (memo puts, label strings shared with the ids by BINGET).
fn dnabert(ids: &[&str], rows: &[&[f64]]) -> Vec<u8> {
    let mut p = Pickle::proto(2)
        .op(b'}')
        .put(0)
        .mark()
        .str("nucleotide")
        .put(1)
        .op(b']')
        .put(2)
        .mark();
    for (i, id) in ids.iter().enumerate() {
        p = p.str(id).put(3 + i as u8);
    }
    let mut memo = 3 + ids.len() as u8;
    p = p
        .op(b'e')
        .str("data")
        .put(memo)
        .op(b']')
        .put(memo + 1)
        .mark();
    memo += 2;
    for (i, row) in rows.iter().enumerate() {
        p = p.op(b'}').put(memo).mark().str("label").put(memo + 1);
        p = if i < ids.len() {
            p.get(3 + i as u8)
        } else {
            p.str("extra")
        };
        p = p
            .str("mean_representation")
            .put(memo + 2)
            .op(b']')
            .put(memo + 3)
            .mark();
        memo += 4;
        for &v in row.iter() {
            p = p.float(v);
        }
        p = p.op(b'e').op(b'u');
    }
    p.op(b'e').op(b'u').stop()
}

fn esm(ids: &[&str], lens: &[i32]) -> Vec<u8> {
    esm_pickle(ids, "FloatStorage", lens)
}

fn esm_storages(lens: &[i32], value: f32) -> Vec<(String, Vec<u8>)> {
    lens.iter()
        .enumerate()
        .map(|(i, &n)| {
            (
                i.to_string(),
                f32_bytes(&vec![value + i as f32; n as usize]),
            )
        })
        .collect()
}

fn archive(pickle: &[u8], storages: &[(String, Vec<u8>)]) -> Vec<u8> {
    let storages: Vec<(&str, Vec<u8>)> = storages
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    torch_archive(pickle, &storages)
}

#[test]
fn well_formed_hand_made_files_are_streamed() {
    let rows: [&[f64]; 2] = [&[1.0, -2.5, 0.1], &[1e-40, 3.0e38, -0.0]];
    assert!(assert_same(&archive(&dnabert(&["a", "b"], &rows), &[])));
    let lens = [3, 3, 3];
    assert!(assert_same(&archive(
        &esm(&["x", "y", "z"], &lens),
        &esm_storages(&lens, 0.5)
    )));
    // Values beyond f32's range become infinite and are refused the same way.
    let big: [&[f64]; 1] = [&[1e39]];
    assert!(assert_same(&archive(&dnabert(&["a"], &big), &[])));
    // No rows at all.
    assert!(assert_same(&archive(&dnabert(&[], &[]), &[])));
}

#[test]
fn errors_are_the_general_decoders_word_for_word() {
    let nan: [&[f64]; 2] = [&[1.0, 2.0], &[f64::NAN, 0.0]];
    let width: [&[f64]; 2] = [&[1.0, 2.0], &[3.0]];
    let empty: [&[f64]; 1] = [&[]];
    let cases = [
        archive(&dnabert(&["a", "b"], &nan), &[]),
        archive(&dnabert(&["a", "b"], &width), &[]),
        archive(&dnabert(&["a"], &empty), &[]),
        // More rows than ids, fewer rows than ids.
        archive(&dnabert(&["a"], &[&[1.0], &[2.0]]), &[]),
        archive(&dnabert(&["a", "b"], &[&[1.0]]), &[]),
        archive(&esm(&["x", "y"], &[3, 2]), &esm_storages(&[3, 2], 0.0)),
        // A storage shorter than its tensor, a missing storage.
        archive(&esm(&["x"], &[4]), &esm_storages(&[3], 0.0)),
        archive(&esm(&["x", "y"], &[2, 2]), &esm_storages(&[2], 0.0)),
        archive(
            &esm(&["x"], &[2]),
            &[("0".into(), f32_bytes(&[f32::NAN, 1.0]))],
        ),
        // Bad values in two later rows (checked as each row is read): the first is named.
        archive(
            &esm(&["x", "y", "z"], &[2, 2, 2]),
            &[
                ("0".into(), f32_bytes(&[0.5, 1.0])),
                ("1".into(), f32_bytes(&[2.0, f32::INFINITY])),
                ("2".into(), f32_bytes(&[f32::NAN, 3.0])),
            ],
        ),
    ];
    for (i, bytes) in cases.iter().enumerate() {
        let general = outcome(from_bytes(bytes, Decoder::General)).unwrap();
        assert!(general.is_err(), "case {i} must fail: {general:?}");
        assert_same(bytes);
    }
    let last = cases.last().unwrap();
    let error = outcome(from_bytes(last, Decoder::Fast))
        .unwrap()
        .unwrap_err();
    assert_eq!(
        error.1,
        "features.pt: row 1 (y) column 1 is inf (features must be finite)"
    );
}

/// A DNABERT-S file whose row starts with an int: the general decoder reads it (as a
/// float), the streaming one declines it.
fn int_row() -> Vec<u8> {
    Pickle::proto(2)
        .op(b'}')
        .mark()
        .str("nucleotide")
        .str_list(&["a"])
        .str("data")
        .op(b']')
        .op(b'}')
        .mark()
        .str("label")
        .str("a")
        .str("mean_representation")
        .op(b']')
        .mark()
        .int(3)
        .float(0.5)
        .op(b'e')
        .op(b'u')
        .op(b'a')
        .op(b'u')
        .stop()
}

#[test]
fn unexpected_opcodes_and_globals_fall_back_to_the_general_decoder() {
    let dangerous = Pickle::proto(2)
        .op(b'}')
        .mark()
        .str("nucleotide")
        .str_list(&["a"])
        .str("data")
        .global("os", "system")
        .str("echo")
        .op(0x85)
        .reduce()
        .op(b'u')
        .stop();
    let unknown_class = Pickle::proto(2)
        .op(b'}')
        .mark()
        .str("proteins")
        .str_list(&["a"])
        .str("data")
        .op(b']')
        .global("mymodule", "Thing")
        .op(b')')
        .reduce()
        .op(b'a')
        .op(b'u')
        .stop();
    let int_row = int_row();
    // Protocol 4 framing, short strings and MEMOIZE.
    let proto4 = Pickle::proto(4)
        .ops(&[0x95])
        .ops(&[0; 8])
        .op(b'}')
        .op(0x94)
        .mark()
        .ops(&[0x8c, 10])
        .ops(b"nucleotide")
        .op(0x94)
        .op(b']')
        .op(0x94)
        .ops(&[0x8c, 1, b'a'])
        .op(0x94)
        .op(b'a')
        .ops(&[0x8c, 4])
        .ops(b"data")
        .op(b']')
        .op(b'}')
        .mark()
        .ops(&[0x8c, 5])
        .ops(b"label")
        .ops(&[b'h', 3])
        .ops(&[0x8c, 19])
        .ops(b"mean_representation")
        .op(b']')
        .mark()
        .float(1.0)
        .float(2.0)
        .op(b'e')
        .op(b'u')
        .op(b'a')
        .op(b'u')
        .stop();
    // The same list twice (a shared reference) and a recursive structure.
    let shared = Pickle::proto(2)
        .op(b'}')
        .mark()
        .str("nucleotide")
        .str_list(&["a", "b"])
        .str("data")
        .op(b']')
        .mark()
        .op(b'}')
        .put(0)
        .mark()
        .str("label")
        .str("a")
        .str("mean_representation")
        .op(b']')
        .float(1.0)
        .op(b'a')
        .op(b'u')
        .get(0)
        .op(b'e')
        .op(b'u')
        .stop();
    let recursive = Pickle::proto(2)
        .op(b'}')
        .put(0)
        .mark()
        .str("nucleotide")
        .str_list(&[])
        .str("data")
        .op(b']')
        .str("self")
        .get(0)
        .op(b'u')
        .stop();
    let deep = (0..300).fold(
        Pickle::proto(2)
            .op(b'}')
            .mark()
            .str("nucleotide")
            .str_list(&[])
            .str("data")
            .op(b']')
            .str("deep"),
        |p, _| p.op(b']'),
    );
    let deep = (0..300).fold(deep, |p, _| p.op(b'a')).op(b'u').stop();
    let tuple_ids = Pickle::proto(2)
        .op(b'}')
        .mark()
        .str("nucleotide")
        .str("a")
        .op(0x85)
        .str("data")
        .op(b']')
        .op(b'u')
        .stop();
    let forbidden = dangerous.clone();
    // (case, whether the streaming decoder reads it itself)
    for (name, pickle, expect_streamed) in [
        ("dangerous", dangerous, false),
        ("unknown class", unknown_class, false),
        ("int in a row", int_row, false),
        ("protocol 4", proto4, true),
        ("shared", shared, false),
        ("recursive", recursive, false),
        ("deep", deep, false),
        ("tuple ids", tuple_ids, true),
    ] {
        let bytes = archive(&pickle, &[]);
        assert_eq!(assert_same(&bytes), expect_streamed, "{name}");
    }
    let forbidden = outcome(from_bytes(&archive(&forbidden, &[]), Decoder::Auto)).unwrap();
    assert!(
        matches!(&forbidden, Err((LegacyErrorKind::Corrupt, m)) if m.contains("refusing global os.system")),
        "{forbidden:?}"
    );
}

#[test]
fn every_truncation_of_a_small_file_gives_the_same_answer() {
    let rows: [&[f64]; 2] = [&[1.0, -2.5], &[0.25, 3.0]];
    let pickle = dnabert(&["a", "b"], &rows);
    // Cut the pickle (inside an intact archive) at every byte, and the whole file too.
    for cut in 0..pickle.len() {
        assert_same(&archive(&pickle[..cut], &[]));
    }
    let lens = [2, 2];
    let pickle = esm(&["x", "y"], &lens);
    for cut in 0..pickle.len() {
        assert_same(&archive(&pickle[..cut], &esm_storages(&lens, 1.0)));
    }
    let file = std::fs::read(virnucpro_testkit::fixture(
        "reference/test_with_orfs_vanilla/output_1_ESM.pt",
    ))
    .unwrap();
    for cut in (0..file.len()).step_by(7) {
        assert_same(&file[..cut]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random damage to a small well-formed file: one or more bytes of the pickle replaced.
    #[test]
    fn damaged_pickles_give_the_same_answer(
        which in 0usize..2,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        values in prop::collection::vec(-1e6f64..1e6, 4),
    ) {
        let lens = [2, 2];
        let (mut pickle, storages) = if which == 0 {
            (dnabert(&["a", "b"], &[&values[..2], &values[2..]]), Vec::new())
        } else {
            (esm(&["x", "y"], &lens), esm_storages(&lens, values[0] as f32))
        };
        for (at, byte) in edits {
            let i = at.index(pickle.len());
            pickle[i] = byte;
        }
        assert_same(&archive(&pickle, &storages));
    }

    /// Well-formed files of random shape and values are always streamed, to the same rows.
    #[test]
    fn well_formed_files_are_streamed_to_the_same_rows(
        rows in 0usize..6,
        dim in 1usize..40,
        values in prop::collection::vec(any::<f64>(), 240),
    ) {
        let ids: Vec<String> = (0..rows).map(|i| format!("read_{i}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let data: Vec<&[f64]> = (0..rows).map(|r| &values[r * dim..(r + 1) * dim]).collect();
        let bytes = archive(&dnabert(&ids, &data), &[]);
        prop_assert!(assert_same(&bytes));
    }
}

#[test]
fn files_hashed_while_decoded_are_read_about_once_and_have_their_checksums() {
    use virnucpro_core::features::HashingSource;
    use virnucpro_core::legacy::read_legacy_source_into;
    use xxhash_rust::xxh3::xxh3_64;

    // Past the zip directory's tail read (a tiny file is hashed whole by it): 300 ESM rows
    // of 2560 values, each in its own storage, and DNABERT-S rows of 20,000 floats.
    let lens = vec![2560; 300];
    let ids: Vec<String> = (0..lens.len()).map(|i| format!("r{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let esm_file = archive(&esm(&ids, &lens), &esm_storages(&lens, 0.5));
    let row: Vec<f64> = (0..20_000).map(|i| f64::from(i) / 7.0).collect();
    let dnabert_file = archive(&dnabert(&["a", "b", "c"], &[&row, &row, &row]), &[]);
    for (name, bytes) in [("esm", esm_file), ("dnabert", dnabert_file)] {
        let path = Path::new("features.pt");
        let source = HashingSource::new(bytes.clone());
        let (features, source) = read_legacy_source_into(path, source, Vec::new()).unwrap();
        let expected = read_legacy_from(path, bytes.clone(), Decoder::General).unwrap();
        let Decoded::Read {
            features: general, ..
        } = expected
        else {
            panic!("{name}: the general decoder declined");
        };
        assert_eq!(features, general, "{name}");
        let (checksum, reads) = source.finish(name.into()).unwrap();
        assert_eq!(checksum.xxh3, format!("{:016x}", xxh3_64(&bytes)), "{name}");
        assert_eq!(checksum.bytes, bytes.len() as u64, "{name}");
        // Only the zip directory at the end, read first, is read again.
        assert!(
            reads.read_again * 100 < checksum.bytes,
            "{name}: {reads:?} of {} bytes",
            bytes.len()
        );
    }
}
