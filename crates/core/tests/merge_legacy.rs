//! Legacy `.pt` input: the Python tools' DNABERT-S and ESM files merge to exactly the rows
//! and IDs of the original's `*_merged.pt`.
use std::path::{Path, PathBuf};

use virnucpro_core::features::{write_features, FeatureFile, FeatureKind, FeatureMeta};
use virnucpro_core::legacy::{read_legacy_features, LegacyFeatures, LegacyKind};
use virnucpro_core::merge::{
    merge_dirs, no_progress, FailureDetails, FailureKind, MergeOptions, PairOutcome, Side,
};
use virnucpro_testkit::fixture;

fn merge(nuc: &Path, prot: &Path, out: &Path) -> virnucpro_core::merge::MergeReport {
    merge_dirs(nuc, prot, out, &MergeOptions::default(), &no_progress).unwrap()
}

/// A temporary folder with empty `nuc/` and `prot/` input folders.
fn input_dirs() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let (nuc, prot) = (tmp.path().join("nuc"), tmp.path().join("prot"));
    std::fs::create_dir(&nuc).unwrap();
    std::fs::create_dir(&prot).unwrap();
    (tmp, nuc, prot)
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Merge the fixture's legacy pair and compare with the original's merged file.
fn assert_matches_original(nuc: PathBuf, prot: PathBuf, merged_pt: PathBuf) {
    let out = tempfile::tempdir().unwrap();
    let report = merge(&nuc, &prot, out.path());
    assert_eq!(report.pairs.len(), 1, "{:?}", report.pairs);
    let expected = read_legacy_features(&merged_pt).unwrap();
    assert_eq!(expected.kind, LegacyKind::Merged);
    assert!(!expected.ids.is_empty(), "{}: no rows", merged_pt.display());
    assert_eq!(
        report.pairs[0].outcome,
        PairOutcome::Merged {
            rows: expected.ids.len()
        }
    );
    let merged = FeatureFile::open(&out.path().join("output_1.merged.safetensors")).unwrap();
    assert_eq!(merged.ids(), expected.ids.as_slice());
    assert_eq!(merged.dim(), expected.dim);
    assert_eq!(bits(&merged.to_vec()), bits(&expected.data));
    // The widths come from the files (96 + 64 for the tiny models, 768 + 2560 for the real ones).
    let n = read_legacy_features(&nuc.join("output_1_DNABERT_S.pt")).unwrap();
    let p = read_legacy_features(&prot.join("output_1_ESM.pt")).unwrap();
    assert_eq!(merged.dim(), n.dim + p.dim);
}

/// Our nucleotide file for shard `output_1` in `dir`: the IDs and width of the legacy
/// DNABERT-S file `legacy`, holding `data`.
fn write_our_nucleotide(dir: &Path, legacy: &LegacyFeatures, data: &[f32]) {
    let meta = FeatureMeta {
        kind: FeatureKind::Nucleotide,
        model: "DNABERT-S".into(),
        dim: legacy.dim,
        ids: legacy.ids.clone(),
        inputs: vec![],
    };
    write_features(&dir.join("output_1.nucleotide.safetensors"), &meta, data).unwrap();
}

#[test]
fn real_model_features_match_the_original_merged_file() {
    let dir = fixture("reference/test_with_orfs_vanilla");
    assert_matches_original(dir.clone(), dir.clone(), dir.join("output_1_merged.pt"));
}

#[test]
fn e2e_fixtures_match_the_original_merged_files() {
    for length in ["a500", "a300"] {
        let dir = fixture(&format!("e2e/{length}/expected"));
        assert_matches_original(
            dir.join("input_nucleotide"),
            dir.join("input_protein"),
            dir.join("input_merged/output_1_merged.pt"),
        );
    }
}

/// Several pairs of different widths and row counts in one merge: each pair decodes into
/// the row buffers an earlier pair left (larger or smaller than it needs), on one thread and
/// on two, and every output is still its original's merged file, bit for bit.
#[test]
fn pairs_merged_one_after_another_each_match_their_original() {
    let sources = [
        ("reference/test_with_orfs_vanilla", "", "", ""),
        (
            "e2e/a500/expected",
            "input_nucleotide/",
            "input_protein/",
            "input_merged/",
        ),
        ("reference/test_fixed_500bp_vanilla", "", "", ""),
        (
            "e2e/a300/expected",
            "input_nucleotide/",
            "input_protein/",
            "input_merged/",
        ),
        ("reference/test_with_orfs_vanilla", "", "", ""),
    ];
    let (_tmp, nuc, prot) = input_dirs();
    let mut originals = Vec::new();
    for (k, (dir, n, p, m)) in sources.iter().enumerate() {
        let dir = fixture(dir);
        let shard = k + 1;
        let copy = |from: String, to: PathBuf| std::fs::copy(dir.join(from), to).unwrap();
        copy(
            format!("{n}output_1_DNABERT_S.pt"),
            nuc.join(format!("output_{shard}_DNABERT_S.pt")),
        );
        copy(
            format!("{p}output_1_ESM.pt"),
            prot.join(format!("output_{shard}_ESM.pt")),
        );
        originals.push(read_legacy_features(&dir.join(format!("{m}output_1_merged.pt"))).unwrap());
    }
    for threads in [1, 2] {
        let out = tempfile::tempdir().unwrap();
        let opts = MergeOptions {
            threads: Some(threads),
            ..MergeOptions::default()
        };
        let report = merge_dirs(&nuc, &prot, out.path(), &opts, &no_progress).unwrap();
        assert_eq!(report.pairs.len(), sources.len());
        for (k, expected) in originals.iter().enumerate() {
            let merged = out
                .path()
                .join(format!("output_{}.merged.safetensors", k + 1));
            let merged = FeatureFile::open(&merged).unwrap();
            assert_eq!(merged.ids(), expected.ids.as_slice(), "pair {}", k + 1);
            assert_eq!(merged.dim(), expected.dim, "pair {}", k + 1);
            assert_eq!(
                bits(&merged.to_vec()),
                bits(&expected.data),
                "pair {} ({threads} threads)",
                k + 1
            );
        }
    }
}

#[test]
fn legacy_and_safetensors_inputs_mix_and_merge_the_same() {
    // Our nucleotide file holding the legacy DNABERT rows + the legacy ESM file.
    let dir = fixture("e2e/a500/expected");
    let legacy_n =
        read_legacy_features(&dir.join("input_nucleotide/output_1_DNABERT_S.pt")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let nuc = tmp.path().join("nuc");
    std::fs::create_dir(&nuc).unwrap();
    write_our_nucleotide(&nuc, &legacy_n, &legacy_n.data);
    let out = tmp.path().join("out");
    let report = merge(&nuc, &dir.join("input_protein"), &out);
    assert!(matches!(
        report.pairs[0].outcome,
        PairOutcome::Merged { .. }
    ));
    let expected = read_legacy_features(&dir.join("input_merged/output_1_merged.pt")).unwrap();
    let merged = FeatureFile::open(&out.join("output_1.merged.safetensors")).unwrap();
    assert_eq!(merged.ids(), expected.ids.as_slice());
    assert_eq!(bits(&merged.to_vec()), bits(&expected.data));
    // Unchanged inputs: skipped on the next run.
    let again = merge(&nuc, &dir.join("input_protein"), &out);
    assert!(matches!(
        again.pairs[0].outcome,
        PairOutcome::Skipped { .. }
    ));
}

#[test]
fn a_non_finite_value_in_our_file_beside_a_legacy_file_is_found() {
    // The merge does not look at the legacy side's rows again (its reader refuses
    // non-finite values), but still at the rows of our file beside it.
    let dir = fixture("e2e/a500/expected");
    let legacy_n =
        read_legacy_features(&dir.join("input_nucleotide/output_1_DNABERT_S.pt")).unwrap();
    let (_tmp, nuc, _) = input_dirs();
    let mut data = legacy_n.data.clone();
    let (row, column) = (legacy_n.ids.len() - 1, legacy_n.dim - 1);
    data[row * legacy_n.dim + column] = f32::INFINITY;
    write_our_nucleotide(&nuc, &legacy_n, &data);
    let out = tempfile::tempdir().unwrap();
    let report = merge(&nuc, &dir.join("input_protein"), out.path());
    let PairOutcome::Failed(failure) = &report.pairs[0].outcome else {
        panic!("{:?}", report.pairs[0].outcome);
    };
    assert_eq!(failure.kind, FailureKind::Corrupt);
    assert_eq!(
        failure.details,
        FailureDetails::NonFinite {
            side: Side::Nucleotide,
            id: legacy_n.ids[row].clone(),
            row,
            column,
        }
    );
    assert!(!out.path().join("output_1.merged.safetensors").exists());
}

#[test]
fn bad_legacy_files_are_typed_failures() {
    let dir = fixture("e2e/a500/expected");
    let (tmp, nuc, prot) = input_dirs();
    let dnabert = dir.join("input_nucleotide/output_1_DNABERT_S.pt");
    let esm = dir.join("input_protein/output_1_ESM.pt");
    // output_1: garbage ESM file. output_2: a DNABERT file named as an ESM file.
    // output_3: truncated DNABERT file.
    std::fs::copy(&dnabert, nuc.join("output_1_DNABERT_S.pt")).unwrap();
    std::fs::write(prot.join("output_1_ESM.pt"), b"not a zip archive").unwrap();
    std::fs::copy(&dnabert, nuc.join("output_2_DNABERT_S.pt")).unwrap();
    std::fs::copy(&dnabert, prot.join("output_2_ESM.pt")).unwrap();
    let bytes = std::fs::read(&dnabert).unwrap();
    std::fs::write(nuc.join("output_3_DNABERT_S.pt"), &bytes[..bytes.len() / 2]).unwrap();
    std::fs::copy(&esm, prot.join("output_3_ESM.pt")).unwrap();

    let report = merge(&nuc, &prot, &tmp.path().join("out"));
    let expect = [
        ("output_1", Side::Protein),
        ("output_2", Side::Protein),
        ("output_3", Side::Nucleotide),
    ];
    for (shard, side) in expect {
        let pair = report.pairs.iter().find(|p| p.shard == shard).unwrap();
        let failure = pair
            .failure()
            .unwrap_or_else(|| panic!("{shard}: {:?}", pair.outcome));
        assert_eq!(failure.kind, FailureKind::Corrupt, "{shard}: {failure}");
        assert!(
            matches!(&failure.details, FailureDetails::Input { side: s, .. } if *s == side),
            "{shard}: {failure:?}"
        );
    }
}

/// The merge picks its reader by content (core's file-kind detector), not by name: a real
/// pre-1.6 torch pickle (`torch.save(..., _use_new_zipfile_serialization=False)`) is sent to
/// the torch reader and refused with the re-save advice.
#[test]
fn a_real_legacy_torch_pickle_is_refused_with_the_resave_advice() {
    let dir = fixture("e2e/a500/expected");
    let (tmp, nuc, prot) = input_dirs();
    let dnabert = dir.join("input_nucleotide/output_1_DNABERT_S.pt");
    std::fs::copy(&dnabert, nuc.join("output_1_DNABERT_S.pt")).unwrap();
    let legacy = virnucpro_testkit::format_fixture("output_1_ESM_legacy.pt");
    std::fs::copy(&legacy, prot.join("output_1_ESM.pt")).unwrap();

    let report = merge(&nuc, &prot, &tmp.path().join("out"));
    let failure = report.pairs[0]
        .failure()
        .unwrap_or_else(|| panic!("{:?}", report.pairs[0].outcome));
    assert_eq!(failure.kind, FailureKind::Corrupt, "{failure}");
    assert_eq!(failure.side(), Some(Side::Protein), "{failure}");
    let text = failure.to_string();
    assert!(
        text.contains("legacy (pre-1.6, non-zip) format; re-save it with a recent PyTorch"),
        "{text}"
    );
}

#[test]
fn legacy_inputs_are_recorded_with_their_files_checksums_fresh_up_to_date_and_stale() {
    use virnucpro_core::features::checksum_file;

    let dir = fixture("reference/test_with_orfs_vanilla");
    let out = tempfile::tempdir().unwrap();
    let output = out.path().join("output_1.merged.safetensors");
    let expected = vec![
        checksum_file(&dir.join("output_1_DNABERT_S.pt")).unwrap(),
        checksum_file(&dir.join("output_1_ESM.pt")).unwrap(),
    ];
    let recorded = || FeatureFile::validate_header(&output).unwrap().meta.inputs;
    // No output yet: the .pt files are hashed as they are decoded.
    let first = merge(&dir, &dir, out.path());
    assert!(matches!(first.pairs[0].outcome, PairOutcome::Merged { .. }));
    assert_eq!(recorded(), expected);
    let rows = bits(&FeatureFile::open(&output).unwrap().to_vec());
    // An output there: hashed first, found up to date.
    let again = merge(&dir, &dir, out.path());
    assert!(matches!(
        again.pairs[0].outcome,
        PairOutcome::Skipped { .. }
    ));
    // A damaged output: hashed first, then decoded with the checksums already taken.
    std::fs::write(&output, b"not a feature file").unwrap();
    let redone = merge(&dir, &dir, out.path());
    assert!(matches!(
        redone.pairs[0].outcome,
        PairOutcome::Merged { .. }
    ));
    assert_eq!(recorded(), expected);
    assert_eq!(bits(&FeatureFile::open(&output).unwrap().to_vec()), rows);
}
