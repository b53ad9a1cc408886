//! Paired-end reads through `prepare`: R1/R2 files found by their names (Illumina's,
//! `_1`/`_2`) or given, read in lockstep with /1 and /2 read IDs, every kind of mismatch
//! stopping with an error naming both files, and `pair_summary.tsv` from a read summary.
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use virnucpro_core::fasta::InputError;
use virnucpro_core::pairs::{
    write_pair_summary, PairError, PairMode, PairRecord, Pairing, PAIR_SUMMARY_HEADER,
};
use virnucpro_core::prepare::{prepare, PrepareError, PrepareOptions, PrepareSummary};
use virnucpro_core::report::READ_SUMMARY_HEADER;

/// A FASTQ record per `(header, sequence)`.
fn fastq(records: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (header, seq) in records {
        let quality = "I".repeat(seq.len());
        out.extend_from_slice(format!("@{header}\n{seq}\n+\n{quality}\n").as_bytes());
    }
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    if name.ends_with(".gz") {
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(bytes).unwrap();
        fs::write(&path, gz.finish().unwrap()).unwrap();
    } else {
        fs::write(&path, bytes).unwrap();
    }
    path
}

const SEQ_A: &str = "ATGAAACCCGGGTTTAAACCCGGGTTTAAACCCGGGTTTTAG";
const SEQ_B: &str = "ATGCCCAAAGGGTTTCCCAAAGGGTTTCCCAAAGGGTTTTGA";

fn options(pairing: Pairing, threads: usize) -> PrepareOptions {
    PrepareOptions {
        chunk_len: 300,
        shard_size: 5,
        threads,
        pairing,
        ..PrepareOptions::default()
    }
}

fn run(
    inputs: &[PathBuf],
    pairing: Pairing,
) -> (tempfile::TempDir, Result<PrepareSummary, PrepareError>) {
    let out = tempfile::tempdir().unwrap();
    let result = prepare(inputs, out.path(), &options(pairing, 1), &mut |_| {});
    (out, result)
}

/// The read IDs of the chunked reads, in order (`{read}_chunk_1`: one chunk per read here).
fn read_ids(out: &Path, summary: &PrepareSummary) -> Vec<String> {
    fs::read_to_string(out.join(&summary.chunked))
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix('>'))
        .map(|id| id.strip_suffix("_chunk_1").unwrap_or(id).to_owned())
        .collect()
}

fn pair_error(result: Result<PrepareSummary, PrepareError>) -> (PairError, String) {
    match result {
        Err(PrepareError::Input(InputError::Pair(e))) => {
            let message = e.to_string();
            (*e, message)
        }
        Err(e) => panic!("not a pair error: {e}"),
        Ok(_) => panic!("prepared"),
    }
}

/// Illumina names (gzip), `_1`/`_2` names (gzip) and a lone `_R1` in one folder: two pairs
/// read in lockstep where their R1 sorts, the lone one on its own with a warning.
#[test]
fn pairs_found_by_their_names_are_read_in_lockstep() {
    let dir = tempfile::tempdir().unwrap();
    let casava = |n: u32, mate: u32| format!("M001:7:FC:1:1101:{n}:1 {mate}:N:0:ACGT");
    let (c1, c2, c3, c4) = (casava(1, 1), casava(1, 2), casava(2, 1), casava(2, 2));
    write(
        dir.path(),
        "S1_S1_L001_R1_001.fastq.gz",
        &fastq(&[(&c1, SEQ_A), (&c3, SEQ_B)]),
    );
    write(
        dir.path(),
        "S1_S1_L001_R2_001.fastq.gz",
        &fastq(&[(&c2, SEQ_B), (&c4, SEQ_A)]),
    );
    write(dir.path(), "x_1.fq.gz", &fastq(&[("p/1", SEQ_A)]));
    write(dir.path(), "x_2.fq.gz", &fastq(&[("p/2", SEQ_B)]));
    write(dir.path(), "y_R1.fastq", &fastq(&[("lone", SEQ_A)]));
    for threads in [1, 3] {
        let out = tempfile::tempdir().unwrap();
        let summary = prepare(
            &[dir.path().to_path_buf()],
            out.path(),
            &options(Pairing::default(), threads),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(
            read_ids(out.path(), &summary),
            [
                "M001:7:FC:1:1101:1:1/1",
                "M001:7:FC:1:1101:1:1/2",
                "M001:7:FC:1:1101:2:1/1",
                "M001:7:FC:1:1101:2:1/2",
                "p/1",
                "p/2",
                "lone",
            ]
        );
        assert_eq!(summary.reads, 7);
        let pairs: Vec<(String, String, u64, u64)> = summary
            .pairs
            .iter()
            .map(|p| {
                let name = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
                (name(&p.r1), name(&p.r2), p.first_read, p.reads)
            })
            .collect();
        assert_eq!(
            pairs,
            [
                (
                    "S1_S1_L001_R1_001.fastq.gz".into(),
                    "S1_S1_L001_R2_001.fastq.gz".into(),
                    0,
                    4
                ),
                ("x_1.fq.gz".into(), "x_2.fq.gz".into(), 4, 2),
            ]
        );
        assert_eq!(summary.warnings.len(), 1, "{:?}", summary.warnings);
        assert!(
            summary.warnings[0]
                .contains("y_R1.fastq: named as read 1 of a pair, but its mate y_R2.fastq"),
            "{}",
            summary.warnings[0]
        );
        // prepare.json says the run had pairs, for the stages after it.
        let json: serde_json::Value =
            serde_json::from_slice(&fs::read(out.path().join("prepare.json")).unwrap()).unwrap();
        assert_eq!(json["pairs"][1]["first_read"], 4);
        let record = virnucpro_core::prepare::PreparedRecord::read(out.path()).unwrap();
        assert_eq!(record.pairs, summary.pairs);
    }
}

#[test]
fn mates_that_do_not_match_stop_with_both_files_named() {
    let dir = tempfile::tempdir().unwrap();
    let r1 = write(
        dir.path(),
        "a_R1.fq.gz",
        &fastq(&[("r1", SEQ_A), ("r2", SEQ_A), ("r3", SEQ_A)]),
    );
    let r2 = write(
        dir.path(),
        "a_R2.fq.gz",
        &fastq(&[("r1", SEQ_B), ("r2", SEQ_B)]),
    );
    let inputs = [r1.clone(), r2.clone()];
    let (_out, result) = run(&inputs, Pairing::default());
    let (error, message) = pair_error(result);
    assert_eq!(error.longer_file(), r1);
    assert_eq!(error.shorter_file(), r2);
    for part in [
        format!("{} and {} are read as a pair", r1.display(), r2.display()),
        format!(
            "but {} has more records: its record 3 ('r3') has no mate",
            r1.display()
        ),
        format!("{} ends after 2 records", r2.display()),
        "--pairs off".to_owned(),
    ] {
        assert!(message.contains(&part), "{part:?} in {message}");
    }

    // R2 longer.
    write(
        dir.path(),
        "a_R2.fq.gz",
        &fastq(&[("r1", SEQ_B), ("r2", SEQ_B), ("r3", SEQ_B), ("r4", SEQ_B)]),
    );
    let (_out, result) = run(&inputs, Pairing::default());
    let (error, message) = pair_error(result);
    assert_eq!(error.longer_file(), r2);
    assert!(
        message.contains(&format!(
            "but {} has more records: its record 4 ('r4') has no mate; {} ends after 3 records",
            r2.display(),
            r1.display()
        )),
        "{message}"
    );

    // Names that differ (after /1 and /2 are set aside).
    write(
        dir.path(),
        "a_R2.fq.gz",
        &fastq(&[("r1/2", SEQ_B), ("q2/2", SEQ_B), ("r3/2", SEQ_B)]),
    );
    let (_out, result) = run(&inputs, Pairing::default());
    let (error, message) = pair_error(result);
    assert!(
        matches!(error, PairError::NamesDiffer { record: 2, .. }),
        "{error:?}"
    );
    assert!(
        message.contains(&format!(
            "{} and {} are read as a pair, but record 2 is 'r2' in the first and 'q2/2' in the second",
            r1.display(),
            r2.display()
        )),
        "{message}"
    );

    // A /2 in R1 is not R1's suffix: the files are the wrong way round.
    let (_out, result) = run(
        std::slice::from_ref(&r2),
        Pairing {
            mode: PairMode::Off,
            explicit: vec![(r2.clone(), r1.clone())],
        },
    );
    let (error, message) = pair_error(result);
    assert!(
        matches!(error, PairError::NamesDiffer { record: 1, .. }),
        "{error:?}"
    );
    assert!(
        !message.contains("--pairs off"),
        "given as a pair: {message}"
    );
}

/// Old-style `/1` `/2` names and Casava 1.8 headers are mates; a file given as a pair is
/// one whatever its name, in `off` mode too, where files named as mates are not.
#[test]
fn old_style_and_casava_names_and_explicit_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let r1 = write(
        dir.path(),
        "left.fastq",
        &fastq(&[("HWI:1:2/1 x", SEQ_A), ("HWI:1:3/1", SEQ_A)]),
    );
    let r2 = write(
        dir.path(),
        "right.fastq",
        &fastq(&[("HWI:1:2/2", SEQ_B), ("HWI:1:3/2 y", SEQ_B)]),
    );
    let named = write(dir.path(), "s_1.fq", &fastq(&[("n", SEQ_A)]));
    write(dir.path(), "s_2.fq", &fastq(&[("n", SEQ_B)]));
    let explicit = Pairing {
        mode: PairMode::Off,
        explicit: vec![(r1.clone(), r2.clone())],
    };
    // The pair's files need not be listed among the inputs.
    let (out, result) = run(std::slice::from_ref(&named), explicit);
    let summary = result.unwrap();
    assert_eq!(
        read_ids(out.path(), &summary),
        ["n", "HWI:1:2/1", "HWI:1:2/2", "HWI:1:3/1", "HWI:1:3/2"]
    );
    assert_eq!(summary.inputs.len(), 3);
    assert_eq!(
        (summary.pairs[0].first_read, summary.pairs[0].reads),
        (1, 4)
    );
    assert!(summary.warnings.is_empty(), "off warns about no names");

    let casava = write(
        dir.path(),
        "c_R1.fq",
        &fastq(&[("M1:1:FC:1:1:5:9 1:N:0:1", SEQ_A)]),
    );
    write(
        dir.path(),
        "c_R2.fq",
        &fastq(&[("M1:1:FC:1:1:5:9 2:N:0:1", SEQ_B)]),
    );
    let (out, result) = run(&[casava, dir.path().join("c_R2.fq")], Pairing::default());
    let summary = result.unwrap();
    assert_eq!(
        read_ids(out.path(), &summary),
        ["M1:1:FC:1:1:5:9/1", "M1:1:FC:1:1:5:9/2"]
    );
}

/// `--pairs off`: the two files of a pair are read one after the other, and the mates'
/// shared names are the duplicate-ID error they always were.
#[test]
fn pairs_off_reads_each_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let r1 = write(dir.path(), "x_R1.fq.gz", &fastq(&[("same", SEQ_A)]));
    let r2 = write(dir.path(), "x_R2.fq.gz", &fastq(&[("same", SEQ_B)]));
    let (_out, result) = run(&[r1.clone(), r2.clone()], Pairing::off());
    match result {
        Err(PrepareError::BadRecord { issue }) => {
            let message = issue.to_string();
            assert!(
                message.contains("x_R2.fq.gz: record 1 ('same'"),
                "{message}"
            );
            assert!(
                message.contains("the ID is used by an earlier record"),
                "{message}"
            );
        }
        other => panic!("{:?}", other.map(|s| s.reads)),
    }
    let (_out, result) = run(&[r1, r2], Pairing::default());
    assert_eq!(result.unwrap().reads, 2);
}

/// A bad record skips only its own mate; the pair goes on, and pairs[] counts what is
/// left. Mate IDs must be unique across the run, as any read's.
#[test]
fn a_bad_mate_is_skipped_alone() {
    let dir = tempfile::tempdir().unwrap();
    let r1 = write(
        dir.path(),
        "b_1.fq",
        &fastq(&[("a", SEQ_A), ("b", "ACXT"), ("c", SEQ_A)]),
    );
    let r2 = write(
        dir.path(),
        "b_2.fq",
        &fastq(&[("a", SEQ_B), ("b", SEQ_B), ("c", SEQ_B)]),
    );
    let out = tempfile::tempdir().unwrap();
    let options = PrepareOptions {
        skip_bad_records: true,
        ..options(Pairing::default(), 2)
    };
    let summary = prepare(&[r1.clone(), r2.clone()], out.path(), &options, &mut |_| {}).unwrap();
    assert_eq!(
        read_ids(out.path(), &summary),
        ["a/1", "a/2", "b/2", "c/1", "c/2"]
    );
    assert_eq!(summary.skipped.len(), 1);
    assert_eq!(summary.skipped[0].location.file, r1);
    assert_eq!(
        (summary.pairs[0].first_read, summary.pairs[0].reads),
        (0, 5)
    );

    // Without skipping, the bad mate stops prepare as a bad record does.
    let (_out, result) = run(&[r1, r2], Pairing::default());
    assert!(matches!(result, Err(PrepareError::BadRecord { .. })));

    // Two pairs with the same names: the second's mates are duplicate IDs.
    let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut inputs = Vec::new();
    for folder in [&first, &second] {
        inputs.push(write(folder.path(), "d_1.fq", &fastq(&[("a", SEQ_A)])));
        inputs.push(write(folder.path(), "d_2.fq", &fastq(&[("a", SEQ_B)])));
    }
    let (_out, result) = run(&inputs, Pairing::default());
    match result {
        Err(PrepareError::BadRecord { issue }) => {
            assert_eq!(issue.location.file, inputs[2]);
            assert!(issue
                .to_string()
                .contains("the ID is used by an earlier record"));
        }
        other => panic!("{:?}", other.map(|s| s.reads)),
    }
}

fn read_summary(dir: &Path, rows: &[(&str, &str, &str)]) -> PathBuf {
    let mut text = READ_SUMMARY_HEADER.to_owned();
    for (id, best, call) in rows {
        let frames = if *call == "none" { 0 } else { 6 };
        let virus = u32::from(*call == "virus");
        text.push_str(&format!("{id}\t1\t{frames}\t{virus}\t{best}\t{call}\n"));
    }
    write(dir, "read_summary.tsv", text.as_bytes())
}

/// A pair is virus when either mate is, others when any mate is, none when both are; a
/// skipped mate is `missing`; reads outside the pairs are not listed.
#[test]
fn the_pair_summary_follows_the_calls_of_the_mates() {
    let dir = tempfile::tempdir().unwrap();
    let summary = read_summary(
        dir.path(),
        &[
            ("single/1", "0.9", "virus"),
            ("a/1", "0.2", "others"),
            ("a/2", "0.75", "virus"),
            ("b/1", "0.1", "others"),
            ("b/2", "", "none"),
            ("c/1", "", "none"),
            ("c/2", "", "none"),
            ("d/2", "1e-05", "others"),
            ("e/1", "0.6", "virus"),
            ("f/1", "0.3", "others"),
            ("f/2", "0.4", "others"),
            ("after", "0.9", "virus"),
        ],
    );
    let pairs = [PairRecord {
        r1: "r_1.fq".into(),
        r2: "r_2.fq".into(),
        first_read: 1,
        reads: 10,
    }];
    let out = dir.path().join("pair_summary.tsv");
    let totals = write_pair_summary(&summary, &pairs, 12, &out).unwrap();
    let expected = format!(
        "{PAIR_SUMMARY_HEADER}\
         a\tothers\tvirus\t0.75\tvirus\n\
         b\tothers\tnone\t0.1\tothers\n\
         c\tnone\tnone\t\tnone\n\
         d\tmissing\tothers\t1e-05\tothers\n\
         e\tvirus\tmissing\t0.6\tvirus\n\
         f\tothers\tothers\t0.4\tothers\n"
    );
    assert_eq!(fs::read_to_string(&out).unwrap(), expected);
    assert_eq!(
        (totals.pairs, totals.virus_pairs, totals.lone_mates),
        (6, 2, 2)
    );

    // Another prepare's read summary: an error, and the earlier file stays.
    let err = write_pair_summary(&summary, &pairs, 13, &out).unwrap_err();
    assert!(
        err.to_string().contains("12 reads listed, 13 prepared"),
        "{err}"
    );
    let shifted = [PairRecord {
        first_read: 0,
        ..pairs[0].clone()
    }];
    write(
        dir.path(),
        "read_summary.tsv",
        format!("{READ_SUMMARY_HEADER}plain\t1\t6\t0\t0.1\tothers\n").as_bytes(),
    );
    let err = write_pair_summary(&summary, &shifted, 1, &out).unwrap_err();
    assert!(
        err.to_string()
            .contains("read 1: 'plain' is a read of a pair but does not end in /1 or /2"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&out).unwrap(), expected);
}
