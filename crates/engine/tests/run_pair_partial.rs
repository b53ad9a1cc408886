//! A run of paired reads that cannot complete its reports beside an earlier run's writes
//! its pair summary beside them too, as `pair_summary.partial.tsv` made from its own
//! `read_summary.partial.tsv`, and a resume that completes removes it with the other
//! partial reports (tiny fixture models; the a500 fixture's 120 reads as 60 pairs of mates
//! in `frag_R1.fa` and `frag_R2.fa`).
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tch::{Device, Tensor};
use virnucpro_core::events::{RunEvent, RunStatus, Stage};
use virnucpro_core::features::FeatureFile;
use virnucpro_engine::embed::{EmbedError, Encode, EncoderFactory};
use virnucpro_engine::run::RunSpec;
use virnucpro_testkit::{fasta_records, fixture};

mod common;

const PAIRS: usize = 60;
const PAIR_SUMMARY: &str = "pair_summary.tsv";
const PARTIAL_PAIR_SUMMARY: &str = "pair_summary.partial.tsv";
const PARTIAL_OUTPUTS: [&str; 4] = [
    "prediction_results.partial.txt",
    "prediction_results_highestscore.partial.csv",
    "read_summary.partial.tsv",
    PARTIAL_PAIR_SUMMARY,
];

/// Reads 2k and 2k + 1 of the fixture as the mates of pair `frag{k}`, in `dir`.
fn write_pairs(dir: &Path) -> Vec<PathBuf> {
    let reads = fasta_records(&fixture("e2e/a500/input.fa"));
    assert_eq!(reads.len(), 2 * PAIRS);
    [1, 2]
        .map(|mate| {
            let text: String = (0..PAIRS)
                .map(|k| format!(">frag{k}\n{}\n", reads[2 * k + mate - 1].1))
                .collect();
            let file = dir.join(format!("frag_R{mate}.fa"));
            std::fs::write(&file, text).unwrap();
            file
        })
        .to_vec()
}

/// The ESM-2 encoder, except that every batch fails.
struct Fails(Box<dyn Encode>);

impl Encode for Fails {
    fn dim(&self) -> usize {
        self.0.dim()
    }

    fn embed(&self, _: &Tensor, _: &[i64]) -> Result<Tensor, tch::TchError> {
        Err(tch::TchError::Torch("injected failure".into()))
    }
}

struct FailsFactory(Box<dyn EncoderFactory>);

impl EncoderFactory for FailsFactory {
    fn load(&self, device: Device) -> Result<Box<dyn Encode>, EmbedError> {
        Ok(Box::new(Fails(self.0.load(device)?)))
    }
}

/// The run's status and events; with `failing_esm`, every ESM-2 batch fails (only the
/// shards that must be embedded again have any).
fn run(spec: &RunSpec, failing_esm: bool) -> (RunStatus, Vec<RunEvent>) {
    common::run_with_esm(spec, |inner| {
        if failing_esm {
            Box::new(FailsFactory(inner))
        } else {
            inner
        }
    })
}

fn failed(events: &[RunEvent], stage: Stage) -> u64 {
    events
        .iter()
        .find_map(|e| match e {
            RunEvent::StageFinished {
                stage: s, counts, ..
            } if *s == stage => Some(counts.failed),
            _ => None,
        })
        .unwrap()
}

/// A NaN over the first value of a feature file's data; its header stays valid.
fn damage(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let mut len = [0u8; 8];
    len.copy_from_slice(&bytes[..8]);
    let start = 8 + u64::from_le_bytes(len) as usize;
    bytes[start..start + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(path, bytes).unwrap();
    assert!(FeatureFile::validate_header(path).is_ok());
}

fn manifest_reports(out: &Path) -> serde_json::Value {
    let bytes = std::fs::read(out.join("run-manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    manifest["reports"].clone()
}

/// `file`'s lines after the header, split at tabs.
fn rows(file: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        .lines()
        .skip(1)
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

/// The pair summary's lines as the rule makes them from `read_summary`'s mates.
fn expected_pairs(read_summary: &Path) -> Vec<Vec<String>> {
    let reads = rows(read_summary);
    let by_id: HashMap<&str, &Vec<String>> = reads.iter().map(|r| (r[0].as_str(), r)).collect();
    (0..PAIRS)
        .map(|k| {
            let [m1, m2] = ["/1", "/2"].map(|s| by_id[format!("frag{k}{s}").as_str()]);
            let call = if m1[5] == "virus" || m2[5] == "virus" {
                "virus"
            } else if m1[5] == "others" || m2[5] == "others" {
                "others"
            } else {
                "none"
            };
            let best = match (m1[4].parse::<f64>().ok(), m2[4].parse::<f64>().ok()) {
                (Some(a), Some(b)) if a >= b => m1[4].clone(),
                (Some(_), Some(_)) => m2[4].clone(),
                (Some(_), None) => m1[4].clone(),
                (None, Some(_)) => m2[4].clone(),
                (None, None) => String::new(),
            };
            vec![
                format!("frag{k}"),
                m1[5].clone(),
                m2[5].clone(),
                best,
                call.to_owned(),
            ]
        })
        .collect()
}

#[test]
fn a_partial_run_of_pairs_writes_its_pair_summary_beside_its_partial_reports() {
    let reads = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let spec = RunSpec {
        inputs: write_pairs(reads.path()),
        ..common::a500_spec(out.path())
    };
    let (status, _) = run(&spec, false);
    assert_eq!(status, RunStatus::Ok);
    let pair_summary = out.path().join(PAIR_SUMMARY);
    let complete = std::fs::read(&pair_summary).unwrap();
    assert_eq!(
        rows(&pair_summary),
        expected_pairs(&out.path().join("read_summary.tsv"))
    );
    assert!(!out.path().join(PARTIAL_PAIR_SUMMARY).exists());

    // The first shard's scores are damaged and embedding it again fails: this run's
    // reports, without that shard, go beside the earlier ones.
    damage(&out.path().join("scores/output_1.scores.safetensors"));
    let (status, events) = run(&spec, true);
    assert_eq!(status, RunStatus::Partial);
    assert_eq!(failed(&events, Stage::EmbedProtein), 1);
    let record = manifest_reports(out.path());
    assert_eq!(record["state"], "earlier");
    assert_eq!(record["partial_files"], serde_json::json!(PARTIAL_OUTPUTS));
    assert_eq!(
        std::fs::read(&pair_summary).unwrap(),
        complete,
        "the earlier run's pair summary stays with its reports"
    );
    let partial = out.path().join(PARTIAL_PAIR_SUMMARY);
    let partial_rows = rows(&partial);
    assert_eq!(
        partial_rows,
        expected_pairs(&out.path().join("read_summary.partial.tsv"))
    );
    // Made from this run's read summary: pairs whose frames were all in the failed shard
    // have no frame scored there.
    let lost = partial_rows
        .iter()
        .zip(rows(&pair_summary))
        .filter(|(p, c)| p[4] == "none" && c[4] != "none")
        .count();
    assert!(lost > 0, "{partial_rows:?}");

    // Fixed: the next resume completes; the partial reports, pair summary included, go.
    let (status, _) = run(&spec, false);
    assert_eq!(status, RunStatus::Ok);
    assert_eq!(manifest_reports(out.path())["state"], "complete");
    for name in PARTIAL_OUTPUTS {
        assert!(!out.path().join(name).exists(), "{name}");
    }
    assert_eq!(std::fs::read(&pair_summary).unwrap(), complete);
}
