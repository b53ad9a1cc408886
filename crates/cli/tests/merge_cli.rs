//! `virnucpro merge` as a user runs it: exit codes, failures grouped by kind,
//! merge_failures.tsv and --json.
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use virnucpro_core::events::FailureKind;
use virnucpro_core::features::{write_features, FeatureKind, FeatureMeta};
use virnucpro_core::merge::{read_merge_failures, Side, MERGE_FAILURES_FILE};

fn virnucpro() -> Command {
    Command::new(env!("CARGO_BIN_EXE_virnucpro"))
}

struct Dirs {
    tmp: tempfile::TempDir,
    nuc: PathBuf,
    prot: PathBuf,
    out: PathBuf,
}

fn dirs() -> Dirs {
    let tmp = tempfile::tempdir().unwrap();
    let nuc = tmp.path().join("nucleotide");
    let prot = tmp.path().join("protein");
    fs::create_dir(&nuc).unwrap();
    fs::create_dir(&prot).unwrap();
    Dirs {
        out: tmp.path().join("merged"),
        tmp,
        nuc,
        prot,
    }
}

fn features(dir: &Path, shard: &str, kind: FeatureKind, dim: usize) {
    let ids: Vec<String> = (0..4).map(|i| format!("{shard}_r{i}")).collect();
    let data: Vec<f32> = (0..4 * dim).map(|i| i as f32 / 8.0).collect();
    let meta = FeatureMeta {
        kind,
        model: "test".into(),
        dim,
        ids,
        inputs: vec![],
    };
    write_features(&dir.join(kind.file_name(shard)), &meta, &data).unwrap();
}

fn pair(d: &Dirs, shard: &str) {
    features(&d.nuc, shard, FeatureKind::Nucleotide, 3);
    features(&d.prot, shard, FeatureKind::Protein, 5);
}

fn merge_into(nuc: &Path, prot: &Path, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    virnucpro()
        .arg("merge")
        .arg("--nucleotide")
        .arg(nuc)
        .arg("--protein")
        .arg(prot)
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
}

fn merge(d: &Dirs, extra: &[&str]) -> assert_cmd::assert::Assert {
    merge_into(&d.nuc, &d.prot, &d.out, extra)
}

fn tsv_rows(d: &Dirs) -> Vec<Vec<String>> {
    // Not `failures.tsv`: that name is a run's list, with other columns.
    assert!(!d.out.join("failures.tsv").exists());
    fs::read_to_string(d.out.join("merge_failures.tsv"))
        .unwrap()
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

#[test]
fn all_pairs_merged_then_up_to_date() {
    let d = dirs();
    pair(&d, "output_1");
    pair(&d, "output_2");
    merge(&d, &["--threads", "2"])
        .code(0)
        .stdout(predicate::str::contains(
            "2 pairs: 2 merged, 0 up to date, 0 failed (2 threads",
        ));
    assert!(d.out.join("output_1.merged.safetensors").is_file());
    assert!(d.out.join("output_2.merged.safetensors").is_file());
    assert_eq!(tsv_rows(&d), [["pair", "kind", "side", "paths", "message"]]);
    merge(&d, &[])
        .code(0)
        .stdout(predicate::str::contains("0 merged, 2 up to date"));
}

#[test]
fn partial_failure_is_exit_2_with_failures_grouped_and_listed() {
    let d = dirs();
    pair(&d, "output_1");
    pair(&d, "output_2");
    fs::write(
        d.prot.join("output_2.protein.safetensors"),
        b"not a feature file",
    )
    .unwrap();
    features(&d.nuc, "output_3", FeatureKind::Nucleotide, 3);
    merge(&d, &[])
        .code(2)
        .stdout(predicate::str::contains("3 pairs: 1 merged, 0 up to date, 2 failed"))
        .stdout(predicate::str::contains("corrupt (1):\n  output_2: protein input:"))
        .stdout(predicate::str::contains(
            "missing_input (protein) (1):\n  output_3: no protein file; expected one of output_3.protein.safetensors, output_3_ESM.pt",
        ));
    let rows = tsv_rows(&d);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1][..3], ["output_2", "corrupt", "protein"]);
    assert_eq!(
        rows[1][3],
        d.prot
            .join("output_2.protein.safetensors")
            .display()
            .to_string()
    );
    assert_eq!(rows[2][..3], ["output_3", "missing_input", "protein"]);
    assert!(rows.iter().all(|r| r.len() == 5));
    // Core's reader of the file reads what the command wrote.
    let read = read_merge_failures(&d.out.join(MERGE_FAILURES_FILE)).unwrap();
    let kinds: Vec<_> = read
        .iter()
        .map(|r| (r.pair.as_str(), r.kind, r.side))
        .collect();
    assert_eq!(
        kinds,
        [
            ("output_2", FailureKind::Corrupt, Some(Side::Protein)),
            ("output_3", FailureKind::MissingInput, Some(Side::Protein))
        ]
    );

    let out = merge(&d, &["--json"]).code(2).get_output().stdout.clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["exit_code"], 2);
    assert_eq!(json["skipped"], 1);
    assert_eq!(json["failed"], 2);
    // Default threads: the cores, capped by the 2 pairs that have both inputs.
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(json["report"]["threads"], cores.min(2));
    assert!(json["report"]["elapsed_s"].as_f64().is_some());
    let pairs = json["report"]["pairs"].as_array().unwrap();
    assert_eq!(pairs[0]["outcome"]["status"], "skipped");
    assert_eq!(pairs[1]["outcome"]["status"], "failed");
    assert_eq!(pairs[1]["outcome"]["kind"], "corrupt");
    assert_eq!(pairs[1]["outcome"]["details"]["type"], "input");
    assert_eq!(pairs[1]["outcome"]["details"]["side"], "protein");
    assert_eq!(pairs[2]["outcome"]["kind"], "missing_input");
    assert_eq!(pairs[2]["outcome"]["side"], "protein");
}

#[test]
fn nothing_merged_is_exit_1() {
    let d = dirs();
    features(&d.nuc, "output_1", FeatureKind::Nucleotide, 3);
    features(&d.prot, "output_1", FeatureKind::Protein, 5);
    let other: Vec<String> = vec!["x".into(); 4];
    let meta = FeatureMeta {
        kind: FeatureKind::Protein,
        model: "test".into(),
        dim: 5,
        ids: other,
        inputs: vec![],
    };
    write_features(
        &d.prot.join("output_1.protein.safetensors"),
        &meta,
        &[0.0; 20],
    )
    .unwrap();
    merge(&d, &[])
        .code(1)
        .stdout(predicate::str::contains("id_mismatch (1):"))
        .stdout(predicate::str::contains("4 only in nucleotide"))
        .stdout(predicate::str::contains("1 duplicated in protein (e.g. x)"));
    // No pairs at all.
    let empty = dirs();
    merge(&empty, &[])
        .code(1)
        .stdout(predicate::str::contains("no feature files found"));
}

#[test]
fn bad_arguments_are_exit_1_a_missing_input_4_an_unwritable_output_5() {
    let d = dirs();
    pair(&d, "output_1");
    merge(&d, &["--threads", "0"]).code(1);
    // The codes of the "all commands" table (docs/cli.md), as for predict.
    merge_into(Path::new("/nonexistent/nuc"), &d.prot, &d.out, &[])
        .code(4)
        .stderr(predicate::str::contains("/nonexistent/nuc"));
    // The output folder is a file.
    let file = d.tmp.path().join("file");
    fs::write(&file, b"x").unwrap();
    merge_into(&d.nuc, &d.prot, &file, &[])
        .code(5)
        .stderr(predicate::str::contains("cannot create output folder"));
}
