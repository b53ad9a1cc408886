//! Opt-in: the real DNABERT-S and ESM-2 3B against the embeddings the original tool wrote
//! for `reference/test_with_orfs` (`output_1_DNABERT_S.pt`, `output_1_ESM.pt`).
//!
//! ```text
//! VIRNUCPRO_DNABERT_S=/path/to/DNABERT-S            (HF folder)
//! VIRNUCPRO_ESM2_3B=/path/to/esm2_t36_3B_UR50D.pt   (fair-esm checkpoint or HF folder)
//! cargo test -p virnucpro-engine --test real_weights -- --ignored --nocapture
//! ```
//! The tests are `#[ignore]`d, so a plain `cargo test` lists them as ignored with the
//! reason: the weights (about 12 GB) cannot be part of the repository. Run with
//! `--ignored` and without its variable, a test fails and says what to set; it never passes
//! without comparing. The original ran on a GPU, so agreement is checked to atol 1e-3.
use std::path::{Path, PathBuf};

use virnucpro_core::cancel::CancelToken;
use virnucpro_core::features::FeatureFile;
use virnucpro_core::legacy::read_legacy_features;
use virnucpro_engine::embed::{
    embed_files, setup_model, EmbedOptions, FileStatus, ModelKind, Precision,
};
use virnucpro_testkit::fixture;

const ATOL: f32 = 1e-3;

fn weights_from_env(var: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(path) => PathBuf::from(path),
        None => panic!("set {var} to the real weights to run this test"),
    }
}

fn compare(model: ModelKind, weights: &Path, input: &str, reference: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let setup = setup_model(model, weights, Precision::Fp32).unwrap();
    let job = setup.job(
        vec![fixture(&format!("reference/{input}"))],
        tmp.path().to_path_buf(),
    );
    let options = EmbedOptions {
        devices: vec![virnucpro_engine::devices::DeviceId::Cpu],
        batch_tokens: 8192,
        force: true,
    };
    let report = embed_files(&job, &options, &CancelToken::new(), &mut |_| {}).unwrap();
    assert_eq!(report.files[0].status, FileStatus::Written, "{report:?}");
    let ours = FeatureFile::open(&report.files[0].output).unwrap();
    let theirs = read_legacy_features(&fixture(&format!(
        "reference/test_with_orfs_vanilla/{reference}"
    )))
    .unwrap();
    assert_eq!(ours.ids(), theirs.ids.as_slice(), "row IDs and order");
    let mut row = vec![0f32; ours.dim()];
    let mut worst = 0f32;
    for i in 0..ours.rows() {
        ours.row_into(i, &mut row);
        let expected = theirs.row(i).unwrap();
        assert_eq!(row.len(), expected.len());
        for (a, b) in row.iter().zip(expected) {
            worst = worst.max((a - b).abs());
        }
    }
    eprintln!("{model}: {} rows, max abs diff {worst:e}", ours.rows());
    assert!(worst <= ATOL, "{model}: max abs diff {worst} > {ATOL}");
}

#[test]
#[ignore = "needs the real DNABERT-S weights: set VIRNUCPRO_DNABERT_S, run with --ignored"]
fn real_dnabert_s_matches_the_original_embeddings() {
    compare(
        ModelKind::DnabertS,
        &weights_from_env("VIRNUCPRO_DNABERT_S"),
        "test_with_orfs_identified_nucleotide.fa",
        "output_1_DNABERT_S.pt",
    );
}

#[test]
#[ignore = "needs the real ESM-2 3B weights: set VIRNUCPRO_ESM2_3B, run with --ignored"]
fn real_esm2_3b_matches_the_original_embeddings() {
    compare(
        ModelKind::Esm2,
        &weights_from_env("VIRNUCPRO_ESM2_3B"),
        "test_with_orfs_identified_protein.faa",
        "output_1_ESM.pt",
    );
}
