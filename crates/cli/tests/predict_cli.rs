//! `virnucpro predict` end to end with the tiny fixture models (../shared/fixtures/e2e):
//! the reports against the original pipeline's, resume after kill -9, a corrupt feature
//! file, and settings validation.
use std::collections::HashSet;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};

use assert_cmd::Command;
use predicates::prelude::*;
use virnucpro_core::features::{write_features, FeatureFile};
use virnucpro_testkit::{fixture, prediction_rows as rows};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_virnucpro")
}

/// `predict` on a fixture case, on the CPU, into `out`.
fn predict_args(case: &str, out: &Path) -> Vec<String> {
    let length = if case == "a300" { "300" } else { "500" };
    let path = |p: PathBuf| p.to_string_lossy().into_owned();
    vec![
        "predict".into(),
        path(fixture(&format!("e2e/{case}/input.fa"))),
        "--length".into(),
        length.into(),
        "--dnabert".into(),
        path(fixture("models/dnabert_s_tiny")),
        "--esm".into(),
        path(fixture("models/esm2_tiny_fairesm/esm2_t2_tiny_fixture.pt")),
        "--classifier".into(),
        path(fixture(&format!("e2e/{case}/classifier.pth"))),
        "--devices".into(),
        "cpu".into(),
        "--out".into(),
        path(out.to_path_buf()),
    ]
}

fn predict(case: &str, out: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(predict_args(case, out)).args(extra);
    cmd
}

type Row = (String, String, f32, f32);

/// Within the score tolerance of a tie, the label is decided by f32 rounding of the
/// embeddings, not by the model: such rows may differ and are listed, nothing else may.
const SCORE_TOLERANCE: f32 = 1e-5;

fn check_parity(case: &str) {
    let expected = fixture(&format!("e2e/{case}/expected/input_merged"));
    let out = tempfile::tempdir().unwrap();
    predict(case, out.path(), &[])
        .assert()
        .success()
        .stdout(predicate::str::contains("predict finished"));
    let results = out.path().join("prediction_results.txt");
    let (ours, theirs) = (
        rows(&results),
        rows(&expected.join("prediction_results.txt")),
    );
    assert_eq!(ours.len(), theirs.len(), "{case}: same number of rows");
    let mut max_diff = 0f32;
    let mut near_ties = Vec::new();
    for (a, b) in ours.iter().zip(&theirs) {
        assert_eq!(a.0, b.0, "{case}: same IDs in the same order");
        let diff = (a.2 - b.2).abs().max((a.3 - b.3).abs());
        max_diff = max_diff.max(diff);
        if a.1 != b.1 {
            assert!(
                (b.2 - b.3).abs() <= 2.0 * SCORE_TOLERANCE,
                "{case}: {} labelled {} here, {} by the original, and not a tie: {a:?} {b:?}",
                a.0,
                a.1,
                b.1
            );
            near_ties.push(format!("{} ({} vs {}; {:?})", a.0, a.1, b.1, (b.2, b.3)));
        }
    }
    assert!(
        max_diff <= SCORE_TOLERANCE,
        "{case}: max |Δscore| {max_diff}"
    );
    // Not every line: the fixture was made on a machine whose BLAS rounds some f32 sums
    // differently; on one machine, the original and we write the same bytes
    // (docs/models.md, "Parity").
    let (identical, total) =
        virnucpro_testkit::identical_lines(&results, &expected.join("prediction_results.txt"));

    // Consensus: the same chunks in the same order; verdicts equal except on near-ties.
    let verdicts = |text: String| -> Vec<(String, String)> {
        text.lines()
            .map(|l| {
                let (id, v) = l.split_once('\t').unwrap();
                (id.to_string(), v.to_string())
            })
            .collect()
    };
    let ours_hs = verdicts(
        fs::read_to_string(out.path().join("prediction_results_highestscore.csv")).unwrap(),
    );
    let theirs_hs =
        verdicts(fs::read_to_string(expected.join("prediction_results_highestscore.csv")).unwrap());
    assert_eq!(ours_hs.len(), theirs_hs.len());
    let mut hs_identical = 0;
    for (a, b) in ours_hs.iter().zip(&theirs_hs) {
        assert_eq!(a.0, b.0, "{case}: same chunks in the same order");
        if a.1 == b.1 {
            hs_identical += 1;
            continue;
        }
        // The group's maxima in the original: the verdict may flip only on a near-tie.
        let group: Vec<&Row> = theirs
            .iter()
            .filter(|r| r.0.len() >= 2 && r.0[..r.0.len() - 2] == a.0)
            .collect();
        let max1 = group.iter().map(|r| r.2).fold(f32::MIN, f32::max);
        let max2 = group.iter().map(|r| r.3).fold(f32::MIN, f32::max);
        assert!(
            (max1 - max2).abs() <= 2.0 * SCORE_TOLERANCE,
            "{case}: chunk {} is {} here, {} in the original, and not a tie",
            a.0,
            a.1,
            b.1
        );
        near_ties.push(format!("chunk {} ({} vs {})", a.0, a.1, b.1));
    }
    eprintln!(
        "{case}: prediction_results.txt {identical}/{total} lines byte-identical, max |Δscore| \
         {max_diff:e}; highestscore {hs_identical}/{} lines identical; near-tie differences: {near_ties:?}",
        theirs_hs.len()
    );
    assert!(
        near_ties.len() <= 2,
        "{case}: more near-tie flips than expected: {near_ties:?}"
    );

    // The other outputs.
    let summary = fs::read_to_string(out.path().join("read_summary.tsv")).unwrap();
    assert!(summary.starts_with("read_id\tchunks\tframes\tvirus_chunks\tbest_virus_score\tcall\n"));
    assert_eq!(
        summary.lines().count(),
        1 + 120,
        "{case}: one line per read"
    );
    assert_eq!(
        fs::read_to_string(out.path().join("failures.tsv")).unwrap(),
        "stage\titem\tkind\tmessage\n"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.path().join("run-manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["state"], "ok");
    assert_eq!(
        manifest["inputs"][0]["bytes"],
        fs::metadata(fixture(&format!("e2e/{case}/input.fa")))
            .unwrap()
            .len()
    );
    assert_eq!(manifest["inputs"][0]["xxh3"].as_str().unwrap().len(), 16);
    assert!(manifest["models"]["esm"]["model_id"]
        .as_str()
        .unwrap()
        .starts_with("esm2 esm2_t2_tiny_fixture fp32 #"));
    assert_eq!(manifest["settings"]["devices"][0], "cpu");
    assert_eq!(manifest["stages"].as_array().unwrap().len(), 5);
    assert_eq!(
        manifest["summary"]["frames_scored"].as_u64().unwrap() as usize,
        theirs.len()
    );
    assert!(manifest["software"]["libtorch"]
        .as_str()
        .unwrap()
        .starts_with("2."));
}

#[test]
fn e2e_a500_matches_the_original() {
    check_parity("a500");
}

#[test]
fn e2e_a300_matches_the_original() {
    check_parity("a300");
}

/// The JSON events of one run, one per stdout line.
fn events(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `(done, reused, failed)` of each finished stage, by stage name.
fn stage_counts(events: &[serde_json::Value]) -> Vec<(String, [u64; 3])> {
    events
        .iter()
        .filter(|e| e["event"] == "stage_finished")
        .map(|e| {
            let c = &e["counts"];
            (
                e["stage"].as_str().unwrap().to_string(),
                [
                    c["done"].as_u64().unwrap(),
                    c["reused"].as_u64().unwrap(),
                    c["failed"].as_u64().unwrap(),
                ],
            )
        })
        .collect()
}

const REPORTS: [&str; 3] = [
    "prediction_results.txt",
    "prediction_results_highestscore.csv",
    "read_summary.tsv",
];

fn assert_same_reports(a: &Path, b: &Path) {
    for name in REPORTS {
        assert_eq!(
            fs::read(a.join(name)).unwrap(),
            fs::read(b.join(name)).unwrap(),
            "{name}"
        );
    }
}

/// Small shards, so that a kill lands between shards of a stage.
const SHARDS: &[&str] = &["--shard-size", "40", "--json-events"];

/// Run `predict` with `args`, kill -9 it once the `nth` progress event of `stage` has
/// gone out after prepare ended (the stages overlap: embedding may start while prepare
/// still writes shards, and a kill then would redo prepare, which is not what the kill
/// tests are about).
fn kill_during(out: &Path, args: &[&str], stage: &str, nth: usize) {
    let mut child = StdCommand::new(bin())
        .args(predict_args("a500", out))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut seen = 0;
    let mut killed = false;
    let mut prepared = false;
    for line in BufReader::new(stdout).lines() {
        let event: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        if event["event"] == "stage_finished" && event["stage"] == "prepare" {
            prepared = true;
        }
        if prepared && event["event"] == "stage_progress" && event["stage"] == stage {
            seen += 1;
            if seen == nth {
                child.kill().unwrap();
                killed = true;
                break;
            }
        }
    }
    let _ = child.wait();
    assert!(killed, "{stage}: the run ended before the kill");
    assert!(!out.join("prediction_results.txt").exists());
}

/// The `.safetensors` files in `dir` (none when it does not exist).
fn safetensors_in(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "safetensors"))
                .count() as u64
        })
        .unwrap_or(0)
}

/// Temporary files, staging folders and unfinished reports anywhere under `dir`.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in fs::read_dir(&d).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if name.ends_with(".tmp")
                || name.starts_with(".prepare-staging-")
                || name == ".reports-new"
            {
                found.push(path.clone());
            }
            if path.is_dir() {
                todo.push(path);
            }
        }
    }
    found
}

#[test]
fn killed_runs_resume_to_the_same_results_without_redoing_work() {
    let reference = tempfile::tempdir().unwrap();
    let output = predict("a500", reference.path(), SHARDS).output().unwrap();
    assert!(output.status.success());
    let counts = stage_counts(&events(&output.stdout));
    let shards = counts[0].1[0];
    assert_eq!(shards, 9, "329 frames in shards of 40");

    let kills = [
        ("embed_dna", 1),
        ("embed_dna", 5),
        ("embed_protein", 4),
        ("classify", 2),
    ];
    for keep in [true, false] {
        let mut args = SHARDS.to_vec();
        if keep {
            args.push("--keep-features");
        }
        for (stage, nth) in kills {
            let what = format!("killed during {stage} (event {nth}), keep_features {keep}");
            let out = tempfile::tempdir().unwrap();
            kill_during(out.path(), &args, stage, nth);
            // What resume can reuse: kept feature files, or else the shards' scores.
            let complete_before = if keep {
                safetensors_in(&out.path().join("features"))
            } else {
                2 * safetensors_in(&out.path().join("scores"))
            };

            let output = predict("a500", out.path(), &args).output().unwrap();
            assert!(output.status.success(), "{what}: the resumed run succeeds");
            let events = events(&output.stdout);
            let plan = &events[0]["plan"];
            assert_eq!(plan[0]["stage"], "prepare");
            assert_eq!(plan[0]["action"], "resume", "{what}: prepare is reused");
            let counts = stage_counts(&events);
            assert_eq!(counts[0], ("prepare".to_string(), [0, shards, 0]));
            let reused_features: u64 = counts[1..3].iter().map(|c| c.1[1]).sum();
            assert_eq!(
                reused_features, complete_before,
                "{what}: everything finished before the kill is reused, none redone"
            );
            assert_same_reports(out.path(), reference.path());
            assert_eq!(leftovers(out.path()), Vec::<PathBuf>::new(), "{what}");
            for dir in ["features", "merged"] {
                assert_eq!(out.path().join(dir).exists(), keep, "{what}: {dir}/");
            }
            eprintln!("{what}: {complete_before} embeddings reused; {counts:?}");
        }
    }
}

#[test]
fn a_corrupt_feature_file_fails_its_shard_and_the_rest_completes() {
    let out = tempfile::tempdir().unwrap();
    let keep = [SHARDS, &["--keep-features"]].concat();
    predict("a500", out.path(), &keep).assert().success();
    let full = rows(&out.path().join("prediction_results.txt"));
    // NaNs in the data of one feature file, written with a matching data checksum (as a
    // model that produced them would write them): the file passes embed's checks, so only
    // the merge, which checks every value, can tell. (A file changed after it was written
    // fails its checksum and is embedded again: crates/engine/tests/run_damaged_resume.rs.)
    let victim = out.path().join("features/output_2.protein.safetensors");
    let file = FeatureFile::open(&victim).unwrap();
    let (meta, mut data) = (file.meta().clone(), file.to_vec());
    drop(file);
    let n = data.len();
    data[n - 16..].fill(f32::NAN);
    write_features(&victim, &meta, &data).unwrap();

    let output = predict("a500", out.path(), &keep).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "partial");
    let failures = fs::read_to_string(out.path().join("failures.tsv")).unwrap();
    let lines: Vec<&str> = failures.lines().collect();
    assert_eq!(lines.len(), 2, "{failures}");
    assert!(
        lines[1].starts_with("merge\toutput_2\tcorrupt\t"),
        "{failures}"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.path().join("run-manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["state"], "partial");
    assert_eq!(manifest["failures"][0]["item"], "output_2");
    for gone in [
        "merged/output_2.merged.safetensors",
        "scores/output_2.scores.safetensors",
    ] {
        assert!(!out.path().join(gone).exists(), "{gone}");
    }
    // Every other shard's rows, unchanged and in order.
    let shard2: HashSet<String> =
        virnucpro_testkit::fasta_records(&out.path().join("prepared/nucleotide/output_2.fa"))
            .into_iter()
            .map(|(h, _)| h)
            .collect();
    let expected: Vec<Row> = full
        .iter()
        .filter(|r| !shard2.contains(&r.0))
        .cloned()
        .collect();
    // The earlier, complete reports are kept; this run's go beside them.
    assert_eq!(manifest["reports"]["state"], "earlier");
    assert_eq!(
        rows(&out.path().join("prediction_results.partial.txt")),
        expected
    );
    assert_eq!(expected.len(), 329 - 40);
    assert_eq!(rows(&out.path().join("prediction_results.txt")), full);
}

#[test]
fn every_settings_problem_is_listed_at_once() {
    let out = tempfile::tempdir().unwrap();
    let mut args = predict_args("a500", out.path());
    let at = |args: &[String], flag: &str| args.iter().position(|a| a == flag).unwrap() + 1;
    let i = at(&args, "--length");
    args[i] = "400".into();
    let i = at(&args, "--esm");
    args[i] = "/no/such/esm.pt".into();
    args[1] = "/no/such/reads.fa".into();
    Command::new(bin())
        .args(&args)
        .args(["--threads", "0"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("4 problem(s)"))
        .stderr(predicate::str::contains("INPUT: /no/such/reads.fa"))
        .stderr(predicate::str::contains("--length: 400"))
        .stderr(predicate::str::contains("--esm: /no/such/esm.pt"))
        .stderr(predicate::str::contains("--threads: must be between 1 and"));
    assert_eq!(
        fs::read_dir(out.path()).unwrap().count(),
        0,
        "nothing written"
    );
    // Only missing paths: exit 4.
    let mut args = predict_args("a500", out.path());
    args[1] = "/no/such/reads.fa".into();
    Command::new(bin()).args(&args).assert().code(4);

    // A classifier for the real models' 3328-value rows with the tiny models (96 + 64): the
    // mismatch is found before any work, not after hours of embedding.
    let mut args = predict_args("a500", out.path());
    let i = at(&args, "--classifier");
    args[i] = fixture("classifier/mlp_3328x512_cpu.pth")
        .to_string_lossy()
        .into_owned();
    Command::new(bin())
        .args(&args)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "takes rows of 3328 values, but DNABERT-S (96) + ESM-2 (64) give 160",
        ));
    assert_eq!(fs::read_dir(out.path()).unwrap().count(), 0);
}

#[test]
fn restart_starts_over_and_an_unchanged_rerun_reuses_everything() {
    let out = tempfile::tempdir().unwrap();
    predict("a500", out.path(), &[]).assert().success();
    let output = predict("a500", out.path(), &["--json-events"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let counts = stage_counts(&events(&output.stdout));
    for (stage, c) in &counts[..4] {
        assert_eq!(c[0], 0, "{stage}: nothing recomputed");
    }
    let output = predict("a500", out.path(), &["--json-events", "--restart"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let restarted = events(&output.stdout);
    assert_eq!(restarted[0]["plan"][0]["action"], "run");
    for (stage, c) in &stage_counts(&restarted)[..4] {
        assert_eq!(c[1], 0, "{stage}: nothing reused after --restart");
    }
    // Another classifier: the plan says classify is redone.
    let mut args = predict_args("a500", out.path());
    let i = args.iter().position(|a| a == "--classifier").unwrap() + 1;
    args[i] = fixture("e2e/a300/classifier.pth")
        .to_string_lossy()
        .into_owned();
    let output = Command::new(bin())
        .args(&args)
        .arg("--json-events")
        .output()
        .unwrap();
    assert!(output.status.success());
    let changed = events(&output.stdout);
    assert_eq!(changed[0]["plan"][4]["action"], "redo");
    assert_eq!(changed[0]["plan"][4]["reason"], "the classifier changed");
}

/// Not a terminal (as here, where stderr is a pipe): plain lines, as before the bars, and
/// no escape codes in a log file.
#[test]
fn progress_is_plain_lines_when_stderr_is_not_a_terminal() {
    let out = tempfile::tempdir().unwrap();
    let output = predict("a500", out.path(), &["--shard-size", "40"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!stderr.contains('\x1b'), "{stderr}");
    assert!(stderr.starts_with("run in "), "{stderr}");
    for stage in ["prepare", "embed_dna", "embed_protein", "merge", "classify"] {
        assert!(
            stderr.contains(&format!("\n[{stage}] started\n")),
            "{stderr}"
        );
        let done = format!("[{stage}] done in ");
        assert!(stderr.lines().any(|l| l.starts_with(&done)), "{stderr}");
    }
    // Each embedding stage ends with its device's throughput.
    let device_lines = stderr.lines().filter(|l| l.starts_with("  cpu: ")).count();
    assert_eq!(device_lines, 2, "{stderr}");
}
