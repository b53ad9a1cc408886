//! Helpers for tests only: where the shared fixtures are, FASTA files as records, and a
//! real HTTP server for download tests ([`http`]).
use std::path::{Path, PathBuf};

pub mod archive;
pub mod http;
pub mod small_fs;
pub mod tiny_models;

/// `../shared` next to the repository root, where the reference fixtures live.
///
/// Panics with a message that says what is missing: a test without its fixtures must fail
/// loudly, never pass vacuously.
pub fn shared_dir() -> PathBuf {
    let repo_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let shared = repo_root.join("../shared");
    assert!(
        shared.join("fixtures").is_dir(),
        "the shared fixtures are missing: expected {} (a checkout of the project with ../shared beside it)",
        shared.display()
    );
    shared
}

/// A path under `../shared/fixtures`, which must exist.
pub fn fixture(relative: &str) -> PathBuf {
    let path = shared_dir().join("fixtures").join(relative);
    assert!(path.exists(), "fixture missing: {}", path.display());
    path
}

/// The repository root (for files shipped in the repo, such as the demo sample).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file under `crates/testkit/data/formats`: weight, classifier and feature files written
/// by PyTorch and Python `safetensors` themselves (`scripts/make_format_fixtures.py`).
pub fn format_fixture(name: &str) -> PathBuf {
    let path = repo_root().join("crates/testkit/data/formats").join(name);
    assert!(path.is_file(), "format fixture missing: {}", path.display());
    path
}

/// A FASTA file read naively as `(header, sequence)` pairs, line wrapping removed.
///
/// Deliberately independent of the production reader, so that comparisons do not test the
/// reader against itself.
pub fn fasta_records(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut records: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(header) = line.strip_prefix('>') {
            records.push((header.to_string(), String::new()));
        } else if let Some((_, seq)) = records.last_mut() {
            seq.push_str(line.trim());
        }
    }
    records
}

/// `(Sequence_ID, Prediction, score1, score2)` of each data line of a
/// `prediction_results.txt`.
pub fn prediction_rows(path: &Path) -> Vec<(String, String, f32, f32)> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 4, "{}: bad line {line:?}", path.display());
            let score = |s: &str| -> f32 {
                s.parse()
                    .unwrap_or_else(|e| panic!("{}: bad score {s:?}: {e}", path.display()))
            };
            (f[0].to_string(), f[1].to_string(), score(f[2]), score(f[3]))
        })
        .collect()
}

/// How many lines of `ours` equal the line at the same position in `theirs`, and how many
/// lines `theirs` has: the byte-identity count the report parity tests print.
pub fn identical_lines(ours: &Path, theirs: &Path) -> (usize, usize) {
    let read = |p: &Path| {
        std::fs::read_to_string(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
    };
    let (ours, theirs) = (read(ours), read(theirs));
    let identical = ours
        .lines()
        .zip(theirs.lines())
        .filter(|(a, b)| a == b)
        .count();
    (identical, theirs.lines().count())
}
