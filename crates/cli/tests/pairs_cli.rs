//! Paired-end reads on the command line: `predict` on Illumina-named gzip FASTQ pairs with
//! the tiny fixture models (../shared/fixtures), giving /1 and /2 reads in
//! read_summary.tsv and pair_summary.tsv; a resume with another pairing; `prepare` with
//! mismatched mates, `--pair` and `--pairs off`.
use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use flate2::write::GzEncoder;
use virnucpro_testkit::{fasta_records, fixture};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_virnucpro")
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// `predict` with the tiny models on the CPU into `out`, plus `args`.
fn predict(out: &Path, args: &[String]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(["predict", "--length", "500", "--devices", "cpu"])
        .args(["--dnabert", &path(&fixture("models/dnabert_s_tiny"))])
        .args([
            "--esm",
            &path(&fixture("models/esm2_tiny_fairesm/esm2_t2_tiny_fixture.pt")),
        ])
        .args(["--classifier", &path(&fixture("e2e/a500/classifier.pth"))])
        .args(["--out", &path(out)])
        .args(args);
    cmd
}

fn prepare(out: &Path, args: &[String]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(["prepare", "--length", "500", "--out", &path(out)])
        .args(args);
    cmd
}

/// A FASTQ file (gzip when its name ends in .gz) of `(header, sequence)` records.
fn write_fastq(path: &Path, records: &[(String, String)]) {
    let mut text = String::new();
    for (header, seq) in records {
        text.push_str(&format!("@{header}\n{seq}\n+\n{}\n", "I".repeat(seq.len())));
    }
    if path.extension().is_some_and(|e| e == "gz") {
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(text.as_bytes()).unwrap();
        fs::write(path, gz.finish().unwrap()).unwrap();
    } else {
        fs::write(path, text).unwrap();
    }
}

/// `pairs` mates with Casava 1.8 headers (the same first word in both files) from the
/// fixture's reads, as `{prefix}_R1_001.fastq.gz` and `{prefix}_R2_001.fastq.gz` in
/// `dir`; the fixture's reads after them go to `single.fa`.
fn illumina_pair(dir: &Path, prefix: &str, pairs: usize) -> [PathBuf; 2] {
    let reads = fasta_records(&fixture("e2e/a500/input.fa"));
    let name = |k: usize| format!("M00123:45:000000000-ABCDE:1:1101:{}:{}", 1000 + k, 2000 + k);
    let mates = [1, 2].map(|mate| {
        let records: Vec<(String, String)> = (0..pairs)
            .map(|k| {
                let read = &reads[2 * k + mate - 1];
                (format!("{} {mate}:N:0:ACGTACGT", name(k)), read.1.clone())
            })
            .collect();
        let file = dir.join(format!("{prefix}_R{mate}_001.fastq.gz"));
        write_fastq(&file, &records);
        file
    });
    let single: String = reads[2 * pairs..2 * pairs + 3]
        .iter()
        .map(|(h, s)| format!(">{h}\n{s}\n"))
        .collect();
    fs::write(dir.join("single.fa"), single).unwrap();
    mates
}

/// `file`'s lines after the header, split at tabs.
fn rows(file: &Path) -> Vec<Vec<String>> {
    fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        .lines()
        .skip(1)
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

#[test]
fn predict_on_illumina_pairs_calls_each_pair_from_its_mates() {
    let reads = tempfile::tempdir().unwrap();
    illumina_pair(reads.path(), "S1_S1_L001", 20);
    let out = tempfile::tempdir().unwrap();
    let output = predict(out.path(), &[path(reads.path())]).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("43 reads"), "{stdout}");
    let pair_file = out.path().join("pair_summary.tsv");
    assert!(stdout.contains(&path(&pair_file)), "listed: {stdout}");

    // read_summary.tsv: the mates interleaved with /1 and /2, then the single-end reads.
    let reads_rows = rows(&out.path().join("read_summary.tsv"));
    assert_eq!(reads_rows.len(), 43);
    for (k, row) in reads_rows.iter().take(40).enumerate() {
        let id = format!(
            "M00123:45:000000000-ABCDE:1:1101:{}:{}/{}",
            1000 + k / 2,
            2000 + k / 2,
            k % 2 + 1
        );
        assert_eq!(row[0], id);
    }
    assert!(!reads_rows[40][0].ends_with("/1") && !reads_rows[40][0].ends_with("/2"));

    // pair_summary.tsv: one line per pair, from its mates' lines, by the rule.
    let header = fs::read_to_string(&pair_file).unwrap();
    assert!(header.starts_with("pair_id\tmate1_call\tmate2_call\tbest_virus_score\tcall\n"));
    let by_id: HashMap<&str, &Vec<String>> =
        reads_rows.iter().map(|r| (r[0].as_str(), r)).collect();
    let pairs = rows(&pair_file);
    assert_eq!(pairs.len(), 20, "single-end reads are not listed");
    let mut calls = HashMap::new();
    for pair in &pairs {
        let [m1, m2] = ["/1", "/2"].map(|s| by_id[format!("{}{s}", pair[0]).as_str()]);
        assert_eq!((&pair[1], &pair[2]), (&m1[5], &m2[5]), "{pair:?}");
        let expected = if m1[5] == "virus" || m2[5] == "virus" {
            "virus"
        } else if m1[5] == "others" || m2[5] == "others" {
            "others"
        } else {
            "none"
        };
        assert_eq!(pair[4], expected, "{pair:?}");
        let best = |r: &Vec<String>| r[4].parse::<f32>().ok();
        let want = match (best(m1), best(m2)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        assert_eq!(pair[3].parse::<f32>().ok(), want, "{pair:?}");
        *calls.entry(pair[4].clone()).or_insert(0) += 1;
    }
    eprintln!("pair calls: {calls:?}");
    // Both rules are exercised: a pair called virus with a mate that is not.
    assert!(
        pairs
            .iter()
            .any(|p| p[4] == "virus" && (p[1] != "virus" || p[2] != "virus")),
        "{pairs:?}"
    );
    assert!(pairs.iter().any(|p| p[4] == "others"), "{pairs:?}");

    // The manifest records the pairing; a resume with --pairs off redoes prepare, where
    // the mates' shared names are duplicate IDs.
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.path().join("run-manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["settings"]["pairing"]["mode"], "auto");
    assert_eq!(manifest["plan"][0]["action"], "run");
    let off = [path(reads.path()), "--pairs".into(), "off".into()];
    let output = predict(out.path(), &off).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("the ID is used by an earlier record"),
        "{stderr}"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.path().join("run-manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["plan"][0]["action"], "redo");
    assert_eq!(manifest["plan"][0]["reason"], "the read pairing changed");
    // The pair summary stays with the reports it was made from (kept: the run failed).
    assert_eq!(rows(&pair_file), pairs);
}

#[test]
fn mismatched_mates_stop_prepare_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let [r1, r2] = illumina_pair(dir.path(), "S2_S2_L001", 3);
    let records = |ids: &[&str]| -> Vec<(String, String)> {
        ids.iter()
            .map(|id| (id.to_string(), "ACGTACGTAC".repeat(5)))
            .collect()
    };
    let out = tempfile::tempdir().unwrap();
    let inputs = [path(&r1), path(&r2)];
    for (mates1, mates2, says) in [
        (
            &["a", "b", "c"][..],
            &["a", "b"][..],
            format!(
                "{} has more records: its record 3 ('c') has no mate",
                path(&r1)
            ),
        ),
        (
            &["a"][..],
            &["a", "b"][..],
            format!(
                "{} has more records: its record 2 ('b') has no mate",
                path(&r2)
            ),
        ),
        (
            &["a/1", "b/1"][..],
            &["a/2", "x/2"][..],
            "record 2 is 'b/1' in the first and 'x/2' in the second".to_owned(),
        ),
    ] {
        write_fastq(&r1, &records(mates1));
        write_fastq(&r2, &records(mates2));
        let output = prepare(out.path(), &inputs).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "bad input: {stderr}");
        assert!(stderr.contains(&says), "{says:?} in {stderr}");
        assert!(
            stderr.contains(&format!(
                "{} and {} are read as a pair",
                path(&r1),
                path(&r2)
            )),
            "{stderr}"
        );
    }
    // Old-style names that agree are mates.
    write_fastq(&r1, &records(&["a/1", "b/1"]));
    write_fastq(&r2, &records(&["a/2", "b/2"]));
    let output = prepare(out.path(), &inputs).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("mates:"), "{stdout}");
}

#[test]
fn explicit_pairs_and_pairs_off() {
    let dir = tempfile::tempdir().unwrap();
    let records = |ids: &[&str]| -> Vec<(String, String)> {
        ids.iter()
            .map(|id| (id.to_string(), "ACGTACGTAC".repeat(5)))
            .collect()
    };
    let (left, right) = (dir.path().join("left.fq"), dir.path().join("right.fq"));
    write_fastq(&left, &records(&["r1", "r2"]));
    write_fastq(&right, &records(&["r1", "r2"]));
    let out = tempfile::tempdir().unwrap();
    // Names that pair by no pattern, given as a pair (and not as INPUT).
    let pair = [
        "--pair".to_owned(),
        format!("{},{}", path(&left), path(&right)),
    ];
    let output = prepare(out.path(), &pair).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let chunked = fs::read_to_string(out.path().join("reads_chunked500.fa")).unwrap();
    let ids: Vec<&str> = chunked
        .lines()
        .filter_map(|l| l.strip_prefix('>'))
        .collect();
    assert_eq!(
        ids,
        [
            "r1/1_chunk_1",
            "r1/2_chunk_1",
            "r2/1_chunk_1",
            "r2/2_chunk_1"
        ]
    );
    // Read alone, the same names are the duplicate-ID error they always were.
    let output = prepare(out.path(), &[path(dir.path())]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("the ID is used by an earlier record"),
        "{stderr}"
    );
    // --pairs off: files named as mates are read alone too.
    let (x1, x2) = (dir.path().join("x_1.fq"), dir.path().join("x_2.fq"));
    write_fastq(&x1, &records(&["m"]));
    write_fastq(&x2, &records(&["m"]));
    let named = [path(&x1), path(&x2)];
    prepare(out.path(), &named).assert().success();
    let off = [path(&x1), path(&x2), "--pairs".into(), "off".into()];
    prepare(out.path(), &off).assert().code(3);
    // Not with samples, and a pair is two files.
    let sample = ["--sample".to_owned(), format!("s={}", path(&x1))];
    let with_sample = [&sample[..], &pair[..]].concat();
    predict(out.path(), &with_sample).assert().code(1);
    prepare(out.path(), &["--pair".into(), path(&x1)])
        .assert()
        .code(1);
    // predict checks the pairs with the other settings, before any work.
    let missing = [
        "--pair".to_owned(),
        format!("{},{}", path(&x1), path(&dir.path().join("nope.fq"))),
    ];
    let output = predict(out.path(), &missing).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("INPUT: --pair: ") && stderr.contains("nope.fq"),
        "{stderr}"
    );
    let same = ["--pair".to_owned(), format!("{},{}", path(&x1), path(&x1))];
    let output = predict(out.path(), &same).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the same file twice"), "{stderr}");
}

/// The staged commands (as the workflow runs them) end in the same pair summary as
/// `predict`: `classify --prepared` of paired reads writes it beside the read summary.
#[test]
fn classify_prepared_writes_the_pair_summary_predict_writes() {
    let reads = tempfile::tempdir().unwrap();
    illumina_pair(reads.path(), "S2_S2_L001", 12);
    let whole = tempfile::tempdir().unwrap();
    let output = predict(whole.path(), &[path(reads.path())])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");

    let staged = tempfile::tempdir().unwrap();
    let dir = |name: &str| staged.path().join(name);
    let run = |cmd: &mut Command| {
        let output = cmd.output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{output:?}");
        text
    };
    run(&mut prepare(&dir("prepared"), &[path(reads.path())]));
    for (model, weights, input) in [
        ("dnabert-s", fixture("models/dnabert_s_tiny"), "nucleotide"),
        (
            "esm2",
            fixture("models/esm2_tiny_fairesm/esm2_t2_tiny_fixture.pt"),
            "protein",
        ),
    ] {
        run(Command::new(bin())
            .args(["embed", "--model", model, "--devices", "cpu", "--weights"])
            .arg(&weights)
            .arg("--in")
            .arg(dir("prepared").join(input))
            .arg("--out")
            .arg(dir(input)));
    }
    run(Command::new(bin())
        .args(["merge", "--nucleotide"])
        .arg(dir("nucleotide"))
        .arg("--protein")
        .arg(dir("protein"))
        .arg("--out")
        .arg(dir("merged")));
    let stdout = run(Command::new(bin())
        .arg("classify")
        .arg(dir("merged"))
        .arg("--classifier")
        .arg(fixture("e2e/a500/classifier.pth"))
        .arg("--prepared")
        .arg(dir("prepared"))
        .arg("--out")
        .arg(dir("reports")));
    let pair_file = dir("reports").join("pair_summary.tsv");
    assert!(stdout.contains("(12 pairs, "), "{stdout}");
    let ours = fs::read(&pair_file).unwrap();
    assert_eq!(
        ours,
        fs::read(whole.path().join("pair_summary.tsv")).unwrap()
    );
    assert_eq!(rows(&pair_file).len(), 12);
}
