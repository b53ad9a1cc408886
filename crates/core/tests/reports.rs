//! Both report files against the original tool's own outputs (../shared/fixtures), byte for
//! byte, and numpy's `str(np.float32)` against ground truth written by
//! scripts/numpy_f32_cases.py.
use std::fs;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use virnucpro_core::report::{
    numpy_f32, write_reports, Consensus, PredictionRow, ReportError, ReportWriter,
    HIGHESTSCORE_FILE, RESULTS_FILE, RESULTS_HEADER,
};
use virnucpro_testkit::fixture;

/// The folders holding an original `prediction_results.txt` and its `_highestscore.csv`.
const FIXTURE_DIRS: [&str; 4] = [
    "e2e/a500/expected/input_merged",
    "e2e/a300/expected/input_merged",
    "reference/test_fixed_500bp_vanilla",
    "reference/test_with_orfs_vanilla",
];

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parse an original `prediction_results.txt`; every score must print back as it was.
fn parse_results(path: &Path) -> Vec<PredictionRow> {
    let text = String::from_utf8(read(path)).unwrap();
    let body = text
        .strip_prefix(RESULTS_HEADER)
        .unwrap_or_else(|| panic!("{}: header", path.display()));
    assert!(body.ends_with('\n'), "{}: final newline", path.display());
    let mut rows = Vec::new();
    for (n, line) in body.lines().enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 4, "{}:{}: {line:?}", path.display(), n + 2);
        let score = |s: &str| -> f32 {
            let x: f32 = s.parse().unwrap();
            assert_eq!(
                numpy_f32::format(x),
                s,
                "{}:{}: score {s} prints back differently",
                path.display(),
                n + 2
            );
            x
        };
        let row = PredictionRow {
            id: fields[0].to_owned(),
            p_others: score(fields[2]),
            p_virus: score(fields[3]),
        };
        assert_eq!(
            row.label().as_str(),
            fields[1],
            "{}:{}",
            path.display(),
            n + 2
        );
        rows.push(row);
    }
    rows
}

#[test]
fn fixture_reports_are_rewritten_byte_for_byte() {
    let (mut identical, mut total, mut scores) = (0, 0, 0);
    for dir in FIXTURE_DIRS {
        let dir = fixture(dir);
        let results = dir.join(RESULTS_FILE);
        let highestscore = dir.join(HIGHESTSCORE_FILE);
        let rows = parse_results(&results);
        assert!(!rows.is_empty(), "{}", results.display());
        scores += 2 * rows.len();

        let out = tempfile::tempdir().unwrap();
        let summary = write_reports(out.path(), &rows).unwrap();
        assert_eq!(summary.rows, rows.len() as u64);
        for (want, got) in [
            (read(&results), read(&out.path().join(RESULTS_FILE))),
            (
                read(&highestscore),
                read(&out.path().join(HIGHESTSCORE_FILE)),
            ),
        ] {
            let (want_lines, got_lines) = (lines(&want), lines(&got));
            total += want_lines.len();
            identical += want_lines
                .iter()
                .zip(&got_lines)
                .filter(|(a, b)| a == b)
                .count();
            assert_eq!(got, want, "{}", dir.display());
        }
        assert_eq!(
            summary.groups as usize + 1,
            lines(&read(&highestscore)).len()
        );
    }
    eprintln!(
        "{identical} of {total} report lines byte-identical, {scores} scores printed back exactly"
    );
    assert_eq!(identical, total);
    // a500: 330 + 328 lines, a300: 539 + 509, two vanilla references: 5 + 3 each.
    assert_eq!(total, 330 + 328 + 539 + 509 + 2 * (5 + 3));
}

/// Lines of a `\n`-terminated file, terminators dropped.
fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    body.split(|&b| b == b'\n').collect()
}

#[test]
fn numpy_str_of_float32_ground_truth() {
    check_cases(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/numpy_f32_cases.tsv"),
        5000,
    );
}

/// A larger case file written by `scripts/numpy_f32_cases.py` (same layout), named by
/// `NUMPY_F32_CASES`: `NUMPY_F32_CASES=/tmp/cases.tsv cargo test -- --ignored`.
#[test]
#[ignore = "needs NUMPY_F32_CASES"]
fn numpy_str_of_float32_external_cases() {
    let path = std::env::var_os("NUMPY_F32_CASES").expect("NUMPY_F32_CASES");
    check_cases(Path::new(&path), 1);
}

fn check_cases(path: &Path, at_least: usize) {
    let text = String::from_utf8(read(path)).unwrap();
    let mut cases = 0;
    let mut wrong = Vec::new();
    for line in text.lines() {
        let (bits, want) = line.split_once('\t').unwrap();
        let x = f32::from_bits(u32::from_str_radix(bits, 16).unwrap());
        let got = numpy_f32::format(x);
        if got != want {
            wrong.push(format!("{bits} ({x:e}): numpy {want}, ours {got}"));
        }
        cases += 1;
    }
    assert!(cases >= at_least, "{cases} cases");
    eprintln!("{cases} cases from {}", path.display());
    assert!(
        wrong.is_empty(),
        "{} of {cases} differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn streaming_writer_matches_and_nothing_appears_before_finish() {
    let rows = [
        PredictionRow {
            id: "r_2_chunk_1F1".into(),
            p_others: 0.25,
            p_virus: 0.75,
        },
        PredictionRow {
            id: "r_10_chunk_1R3".into(),
            p_others: 0.999_938,
            p_virus: 6.196_664_6e-5,
        },
        PredictionRow {
            id: "r_2_chunk_1R2".into(),
            p_others: 0.5,
            p_virus: 0.5,
        },
    ];
    let out = tempfile::tempdir().unwrap();
    let mut writer = ReportWriter::create(out.path()).unwrap();
    for row in &rows {
        writer.push(row).unwrap();
    }
    assert_eq!(
        fs::read_dir(out.path()).unwrap().count(),
        1,
        "only the temporary file"
    );
    assert!(!out.path().join(RESULTS_FILE).exists());
    writer.finish().unwrap();
    assert_eq!(
        fs::read_to_string(out.path().join(RESULTS_FILE)).unwrap(),
        "Sequence_ID\tPrediction\tscore1\tscore2\n\
         r_2_chunk_1F1\tvirus\t0.25\t0.75\n\
         r_10_chunk_1R3\tothers\t0.999938\t6.1966646e-05\n\
         r_2_chunk_1R2\tothers\t0.5\t0.5\n"
    );
    assert_eq!(
        fs::read_to_string(out.path().join(HIGHESTSCORE_FILE)).unwrap(),
        "Modified_ID\tIs_Virus\nr_10_chunk_1\tFalse\nr_2_chunk_1\tTrue\n"
    );
    assert_eq!(fs::read_dir(out.path()).unwrap().count(), 2);

    // Dropped without finishing: nothing left behind.
    let out = tempfile::tempdir().unwrap();
    let mut writer = ReportWriter::create(out.path()).unwrap();
    writer.push(&rows[0]).unwrap();
    drop(writer);
    assert_eq!(fs::read_dir(out.path()).unwrap().count(), 0);
}

#[test]
fn ids_that_would_break_a_row_are_refused() {
    let out = tempfile::tempdir().unwrap();
    for id in ["a\tbF1", "a\nbF1", "a\rbF1"] {
        let row = PredictionRow {
            id: id.into(),
            p_others: 0.5,
            p_virus: 0.5,
        };
        let err = write_reports(out.path(), [&row]).unwrap_err();
        assert!(
            matches!(err, ReportError::BadId { id: ref bad } if bad == id),
            "{err}"
        );
    }
    assert_eq!(fs::read_dir(out.path()).unwrap().count(), 0);
}

#[test]
fn missing_folder_is_an_io_error_naming_the_file() {
    let out = tempfile::tempdir().unwrap();
    let missing = out.path().join("nope");
    match ReportWriter::create(&missing) {
        Err(ReportError::Io { path, .. }) => assert_eq!(path, missing.join(RESULTS_FILE)),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("created a report in a missing folder"),
    }
}

#[test]
fn consensus_is_independent_of_row_order() {
    let rows: Vec<PredictionRow> = ["bF1", "aR1", "bR2", "aF3", "cF1"]
        .iter()
        .zip([(0.2, 0.8), (0.7, 0.3), (0.9, 0.1), (0.6, 0.4), (0.5, 0.5)])
        .map(|(id, (p_others, p_virus))| PredictionRow {
            id: (*id).into(),
            p_others,
            p_virus,
        })
        .collect();
    let verdicts = |rows: &mut dyn Iterator<Item = &PredictionRow>| {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Consensus::new(dir.path());
        rows.for_each(|r| c.add(r).unwrap());
        c.into_verdicts()
            .unwrap()
            .map(Result::unwrap)
            .collect::<Vec<_>>()
    };
    let forward = verdicts(&mut rows.iter());
    assert_eq!(
        forward,
        [("a".into(), false), ("b".into(), false), ("c".into(), true)]
    );
    assert_eq!(verdicts(&mut rows.iter().rev()), forward);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn numpy_str_reads_back_exactly(bits in any::<u32>()) {
        let x = f32::from_bits(bits);
        prop_assume!(x.is_finite());
        let s = numpy_f32::format(x);
        let back: f32 = s.parse().unwrap();
        prop_assert_eq!(back.to_bits(), x.to_bits(), "{}", s);
    }

    #[test]
    fn numpy_str_of_probabilities_reads_back_exactly(p in 0.0f32..=1.0) {
        let s = numpy_f32::format(p);
        prop_assert_eq!(s.parse::<f32>().unwrap().to_bits(), p.to_bits(), "{}", s);
    }
}
