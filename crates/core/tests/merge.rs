//! Merge: parallel = sequential, threads, checkpoint skip, bounded pairs in flight, and
//! every failure kind from a real bad file.
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

mod common;

use common::write_safetensors;
use safetensors::tensor::Dtype as StDtype;
use virnucpro_core::features::{write_features, FeatureFile, FeatureKind, FeatureMeta};
use virnucpro_core::merge::{
    merge_dirs, no_progress, FailureDetails, FailureKind, MergeOptions, MergeReport, PairFailure,
    PairOutcome, Side,
};
use virnucpro_core::CancelToken;

const DIM_N: usize = 6;
const DIM_P: usize = 10;

struct Sets {
    _tmp: tempfile::TempDir,
    nuc: PathBuf,
    prot: PathBuf,
    out: PathBuf,
}

fn sets() -> Sets {
    let tmp = tempfile::tempdir().unwrap();
    let [nuc, prot, out] = ["nuc", "prot", "out"].map(|d| tmp.path().join(d));
    std::fs::create_dir(&nuc).unwrap();
    std::fs::create_dir(&prot).unwrap();
    Sets {
        _tmp: tmp,
        nuc,
        prot,
        out,
    }
}

fn ids(shard: &str, rows: usize) -> Vec<String> {
    (0..rows)
        .map(|i| format!("{shard}_seq{i}_chunk_1F1"))
        .collect()
}

/// A value that depends on the ID and column only, so rows can be checked after reordering.
fn value(id: &str, col: usize, salt: u32) -> f32 {
    let h = id.bytes().fold(salt.wrapping_mul(31) ^ col as u32, |h, b| {
        h.wrapping_mul(16_777_619) ^ u32::from(b)
    });
    (h % 100_000) as f32 / 997.0 - 50.0
}

fn write_side(
    dir: &Path,
    shard: &str,
    kind: FeatureKind,
    ids: &[String],
    dim: usize,
    salt: u32,
) -> PathBuf {
    let data: Vec<f32> = ids
        .iter()
        .flat_map(|id| (0..dim).map(move |c| value(id, c, salt)))
        .collect();
    let path = dir.join(kind.file_name(shard));
    let meta = FeatureMeta {
        kind,
        model: format!("{kind}-model"),
        dim,
        ids: ids.to_vec(),
        inputs: vec![],
    };
    write_features(&path, &meta, &data).unwrap();
    path
}

/// A good pair; protein rows in reverse order (the original ESM files are length-sorted).
fn write_pair(s: &Sets, shard: &str, rows: usize) {
    let ids = ids(shard, rows);
    write_side(&s.nuc, shard, FeatureKind::Nucleotide, &ids, DIM_N, 1);
    let mut rev = ids.clone();
    rev.reverse();
    write_side(&s.prot, shard, FeatureKind::Protein, &rev, DIM_P, 2);
}

fn run(s: &Sets, threads: Option<usize>) -> MergeReport {
    let opts = MergeOptions {
        threads,
        ..MergeOptions::default()
    };
    merge_dirs(&s.nuc, &s.prot, &s.out, &opts, &no_progress).unwrap()
}

fn failure<'a>(report: &'a MergeReport, shard: &str) -> &'a PairFailure {
    let pair = report.pairs.iter().find(|p| p.shard == shard).unwrap();
    pair.failure()
        .unwrap_or_else(|| panic!("{shard} did not fail: {:?}", pair.outcome))
}

fn assert_merged_content(s: &Sets, shard: &str, rows: usize) {
    let out = FeatureFile::open(&s.out.join(FeatureKind::Merged.file_name(shard))).unwrap();
    assert_eq!(out.meta().kind, FeatureKind::Merged);
    assert_eq!(out.dim(), DIM_N + DIM_P);
    assert_eq!(out.ids(), ids(shard, rows).as_slice());
    let mut row = vec![0f32; DIM_N + DIM_P];
    for (i, id) in out.ids().iter().enumerate() {
        out.row_into(i, &mut row);
        let expected: Vec<f32> = (0..DIM_N)
            .map(|c| value(id, c, 1))
            .chain((0..DIM_P).map(|c| value(id, c, 2)))
            .collect();
        assert_eq!(row, expected, "row {i} ({id}) of {shard}");
    }
}

#[test]
fn parallel_output_equals_sequential_bit_for_bit() {
    let s = sets();
    for k in 1..=6 {
        write_pair(&s, &format!("output_{k}"), 50 + 37 * k);
    }
    let seq = run(&s, Some(1));
    assert_eq!(seq.threads, 1);
    let seq_out = s.out.with_file_name("seq");
    std::fs::rename(&s.out, &seq_out).unwrap();
    let par = run(&s, Some(3));
    assert_eq!(par.threads, 3);
    assert_eq!(par.merged().count(), 6);
    for k in 1..=6 {
        let name = FeatureKind::Merged.file_name(&format!("output_{k}"));
        assert_eq!(
            std::fs::read(seq_out.join(&name)).unwrap(),
            std::fs::read(s.out.join(&name)).unwrap(),
            "{name}"
        );
        assert_merged_content(&s, &format!("output_{k}"), 50 + 37 * k);
    }
    // Shard order is natural, whatever the finishing order.
    let shards: Vec<_> = par.pairs.iter().map(|p| p.shard.as_str()).collect();
    assert_eq!(
        shards,
        ["output_1", "output_2", "output_3", "output_4", "output_5", "output_6"]
    );
}

fn thread_info(s: &Sets, threads: Option<usize>) -> (MergeReport, Vec<(Option<usize>, usize)>) {
    let seen = Mutex::new(Vec::new());
    let opts = MergeOptions {
        threads,
        ..MergeOptions::default()
    };
    let report = merge_dirs(&s.nuc, &s.prot, &s.out, &opts, &|_| {
        seen.lock()
            .unwrap()
            .push((rayon::current_thread_index(), rayon::current_num_threads()));
    })
    .unwrap();
    (report, seen.into_inner().unwrap())
}

#[test]
fn explicit_thread_count_is_honoured() {
    let s = sets();
    for k in 1..=5 {
        write_pair(&s, &format!("output_{k}"), 20);
    }
    let (report, seen) = thread_info(&s, Some(2));
    assert_eq!(report.threads, 2);
    assert_eq!(seen.len(), 5);
    for (index, pool_size) in seen {
        assert!(index.is_some_and(|i| i < 2));
        assert_eq!(pool_size, 2);
    }
}

#[test]
fn automatic_thread_count_is_the_core_count_capped_by_pairs() {
    let s = sets();
    let cores = std::thread::available_parallelism().unwrap().get();
    let pairs = cores + 2;
    for k in 1..=pairs {
        write_pair(&s, &format!("output_{k}"), 5);
    }
    let (report, _) = thread_info(&s, None);
    assert_eq!(report.threads, cores);
    // Never more threads than pairs.
    let (report, _) = thread_info(&s, Some(pairs + 10));
    assert_eq!(report.threads, pairs);
}

#[test]
fn a_single_pair_runs_without_a_pool() {
    let s = sets();
    write_pair(&s, "output_1", 10);
    let (report, seen) = thread_info(&s, Some(8));
    assert_eq!(report.threads, 1);
    assert_eq!(seen, [(None, rayon::current_num_threads())]);
    assert_merged_content(&s, "output_1", 10);
}

#[test]
fn many_pairs_never_hold_more_than_threads_pairs_at_once() {
    let s = sets();
    for k in 1..=24 {
        write_pair(&s, &format!("output_{k}"), 300);
    }
    for threads in [1, 2, 3] {
        let report = run(&s, Some(threads));
        assert_eq!(report.threads, threads);
        assert!(
            (1..=threads).contains(&report.peak_pairs_in_flight),
            "{threads} threads held {} pairs",
            report.peak_pairs_in_flight
        );
        std::fs::remove_dir_all(&s.out).unwrap();
    }
}

fn stamp(path: &Path) -> (u64, i64, i64) {
    let m = std::fs::metadata(path).unwrap();
    (m.ino(), m.mtime(), m.mtime_nsec())
}

#[test]
fn checkpoint_skips_up_to_date_outputs_and_redoes_stale_or_corrupt_ones() {
    let s = sets();
    for k in 1..=3 {
        write_pair(&s, &format!("output_{k}"), 40);
    }
    assert_eq!(run(&s, Some(2)).merged().count(), 3);
    let outputs: Vec<PathBuf> = (1..=3)
        .map(|k| s.out.join(format!("output_{k}.merged.safetensors")))
        .collect();
    let before: Vec<_> = outputs.iter().map(|p| stamp(p)).collect();

    let again = run(&s, Some(2));
    assert_eq!(again.skipped().count(), 3);
    assert!(again
        .pairs
        .iter()
        .all(|p| p.outcome == PairOutcome::Skipped { rows: 40 } && p.bytes_out == 0));
    let after: Vec<_> = outputs.iter().map(|p| stamp(p)).collect();
    assert_eq!(before, after, "skipped outputs were touched");

    // New protein values for output_2 (same IDs); a truncated output for output_3.
    let mut ids2 = ids("output_2", 40);
    ids2.reverse();
    write_side(&s.prot, "output_2", FeatureKind::Protein, &ids2, DIM_P, 9);
    let len = std::fs::metadata(&outputs[2]).unwrap().len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&outputs[2])
        .unwrap();
    f.set_len(len - 4).unwrap();
    drop(f);

    let third = run(&s, Some(2));
    let outcome = |k: usize| &third.pairs[k].outcome;
    assert_eq!(outcome(0), &PairOutcome::Skipped { rows: 40 });
    assert_eq!(outcome(1), &PairOutcome::Merged { rows: 40 });
    assert_eq!(outcome(2), &PairOutcome::Merged { rows: 40 });
    assert_eq!(stamp(&outputs[0]), before[0]);
    let redone = FeatureFile::open(&outputs[1]).unwrap();
    let mut row = vec![0f32; DIM_N + DIM_P];
    redone.row_into(0, &mut row);
    assert_eq!(row[DIM_N], value(&redone.ids()[0], 0, 9));
    assert_merged_content(&s, "output_3", 40);

    // Bytes of output_1's data changed after the merge, its header intact: the data
    // checksum tells, and the pair is merged again.
    let mut bytes = std::fs::read(&outputs[0]).unwrap();
    let n = bytes.len();
    bytes[n - 8..].fill(0x7F);
    std::fs::write(&outputs[0], bytes).unwrap();
    let fourth = run(&s, Some(2));
    assert_eq!(fourth.pairs[0].outcome, PairOutcome::Merged { rows: 40 });
    assert_eq!(fourth.skipped().count(), 2);
    assert_merged_content(&s, "output_1", 40);
}

#[test]
fn one_bad_pair_does_not_stop_the_others() {
    let s = sets();
    for k in 1..=4 {
        write_pair(&s, &format!("output_{k}"), 30);
    }
    let bad = s.prot.join("output_2.protein.safetensors");
    std::fs::write(&bad, b"garbage").unwrap();
    let report = run(&s, Some(2));
    assert_eq!(report.merged().count(), 3);
    let f = failure(&report, "output_2");
    assert_eq!(f.kind, FailureKind::Corrupt);
    assert_eq!(f.paths, [bad]);
    assert!(matches!(
        f.details,
        FailureDetails::Input {
            side: Side::Protein,
            ..
        }
    ));
    assert!(!s.out.join("output_2.merged.safetensors").exists());
    for k in [1, 3, 4] {
        assert_merged_content(&s, &format!("output_{k}"), 30);
    }
}

#[test]
fn every_failure_kind_from_a_real_bad_file() {
    let s = sets();
    for k in 1..=12 {
        write_pair(&s, &format!("output_{k}"), 8);
    }
    let prot = |k: usize| s.prot.join(format!("output_{k}.protein.safetensors"));
    let nuc = |k: usize| s.nuc.join(format!("output_{k}.nucleotide.safetensors"));
    let pids = |k: usize| {
        let mut v = ids(&format!("output_{k}"), 8);
        v.reverse();
        v
    };

    // 1: protein missing; 2: nucleotide missing.
    std::fs::remove_file(prot(1)).unwrap();
    std::fs::remove_file(nuc(2)).unwrap();
    // 3: truncated.
    let bytes = std::fs::read(prot(3)).unwrap();
    std::fs::write(prot(3), &bytes[..bytes.len() - 10]).unwrap();
    // 4: NaN in the nucleotide file.
    let mut data = vec![1.0f32; 8 * DIM_N];
    data[2 * DIM_N + 3] = f32::NAN;
    let meta = FeatureMeta {
        kind: FeatureKind::Nucleotide,
        model: "m".into(),
        dim: DIM_N,
        ids: ids("output_4", 8),
        inputs: vec![],
    };
    write_features(&nuc(4), &meta, &data).unwrap();
    // 5: header dim disagrees with the tensor.
    let f32s: Vec<u8> = vec![0u8; 8 * DIM_P * 4];
    write_safetensors(
        &prot(5),
        StDtype::F32,
        [8, DIM_P],
        &f32s,
        &pids(5),
        "protein",
        DIM_P + 1,
    );
    // 6: F64.
    let f64s: Vec<u8> = vec![0u8; 8 * DIM_P * 8];
    write_safetensors(
        &prot(6),
        StDtype::F64,
        [8, DIM_P],
        &f64s,
        &pids(6),
        "protein",
        DIM_P,
    );
    // 7: an ID on the protein side only.
    let mut other = pids(7);
    other[0] = "stranger".into();
    write_side(&s.prot, "output_7", FeatureKind::Protein, &other, DIM_P, 2);
    // 8: output path taken by a folder.
    std::fs::create_dir_all(s.out.join("output_8.merged.safetensors/inside")).unwrap();
    // 9: input is a folder.
    std::fs::remove_file(prot(9)).unwrap();
    std::fs::create_dir(prot(9)).unwrap();
    // 10: garbage header; 11: a protein file in the nucleotide slot.
    std::fs::write(nuc(10), b"\x10\0\0\0\0\0\0\0{not json at all").unwrap();
    std::fs::copy(prot(11), nuc(11)).unwrap();
    // 12: two nucleotide files (ours and legacy) for one shard.
    std::fs::write(s.nuc.join("output_12_DNABERT_S.pt"), b"PK").unwrap();

    let report = run(&s, Some(2));
    let expect = [
        (
            1,
            FailureKind::MissingInput {
                side: Side::Protein,
            },
        ),
        (
            2,
            FailureKind::MissingInput {
                side: Side::Nucleotide,
            },
        ),
        (3, FailureKind::Corrupt),
        (4, FailureKind::Corrupt),
        (5, FailureKind::DimensionMismatch),
        (6, FailureKind::UnsupportedDtype),
        (7, FailureKind::IdMismatch),
        (8, FailureKind::OutputWrite),
        (9, FailureKind::Unreadable),
        (10, FailureKind::Corrupt),
        (11, FailureKind::Corrupt),
        (
            12,
            FailureKind::AmbiguousInput {
                side: Side::Nucleotide,
            },
        ),
    ];
    for (k, kind) in expect {
        let f = failure(&report, &format!("output_{k}"));
        assert_eq!(f.kind, kind, "output_{k}: {f}");
        assert!(!f.to_string().is_empty());
    }
    assert_eq!(failure(&report, "output_1").paths, [nuc(1)]);
    assert_eq!(failure(&report, "output_2").paths, [prot(2)]);
    assert_eq!(
        failure(&report, "output_4").details,
        FailureDetails::NonFinite {
            side: Side::Nucleotide,
            id: "output_4_seq2_chunk_1F1".into(),
            row: 2,
            column: 3
        }
    );
    assert_eq!(
        failure(&report, "output_8").paths,
        [s.out.join("output_8.merged.safetensors")]
    );
    assert_eq!(failure(&report, "output_12").paths.len(), 2);
    match &failure(&report, "output_7").details {
        FailureDetails::Ids(ids) => {
            assert_eq!(ids.only_protein.examples, ["stranger"]);
            assert_eq!(ids.only_nucleotide.count, 1);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(report.merged().count(), 0);
    // No output, not even a temporary file, for any failed pair.
    let left: Vec<_> = std::fs::read_dir(&s.out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["output_8.merged.safetensors"]);
}

#[test]
fn infinite_values_on_the_protein_side_name_the_protein_row() {
    let s = sets();
    let ids = ids("output_1", 4);
    write_side(&s.nuc, "output_1", FeatureKind::Nucleotide, &ids, DIM_N, 1);
    let mut data = vec![0.5f32; 4 * DIM_P];
    data[DIM_P + 7] = f32::NEG_INFINITY;
    let meta = FeatureMeta {
        kind: FeatureKind::Protein,
        model: "m".into(),
        dim: DIM_P,
        ids: ids.clone(),
        inputs: vec![],
    };
    write_features(&s.prot.join("output_1.protein.safetensors"), &meta, &data).unwrap();
    let report = run(&s, None);
    let f = failure(&report, "output_1");
    assert_eq!(f.kind, FailureKind::Corrupt);
    assert_eq!(
        f.details,
        FailureDetails::NonFinite {
            side: Side::Protein,
            id: ids[1].clone(),
            row: 1,
            column: 7
        }
    );
}

#[test]
fn ids_missing_duplicated_or_reordered_on_either_side() {
    let s = sets();
    let base = ids("x", 6);
    let variants: Vec<(&str, Vec<String>, Vec<String>)> = vec![
        (
            "reordered",
            base.clone(),
            base.iter().rev().cloned().collect(),
        ),
        ("missing_p", base.clone(), base[1..].to_vec()),
        ("missing_n", base[..5].to_vec(), base.clone()),
        (
            "dup_n",
            [base.clone(), vec![base[2].clone()]].concat(),
            base.clone(),
        ),
        (
            "dup_p",
            base.clone(),
            [vec![base[4].clone()], base.clone()].concat(),
        ),
    ];
    for (shard, n, p) in &variants {
        write_side(&s.nuc, shard, FeatureKind::Nucleotide, n, DIM_N, 1);
        write_side(&s.prot, shard, FeatureKind::Protein, p, DIM_P, 2);
    }
    let report = run(&s, Some(2));
    let pair = |shard: &str| report.pairs.iter().find(|p| p.shard == shard).unwrap();
    assert_eq!(pair("reordered").outcome, PairOutcome::Merged { rows: 6 });
    let ids_of = |shard: &str| match &failure(&report, shard).details {
        FailureDetails::Ids(ids) => ids.clone(),
        other => panic!("{other:?}"),
    };
    let r = ids_of("missing_p");
    assert_eq!(
        (r.only_nucleotide.count, r.only_nucleotide.examples.clone()),
        (1, vec![base[0].clone()])
    );
    assert_eq!(r.only_protein.count, 0);
    let r = ids_of("missing_n");
    assert_eq!(
        (r.only_protein.count, r.only_protein.examples.clone()),
        (1, vec![base[5].clone()])
    );
    let r = ids_of("dup_n");
    assert_eq!(
        (
            r.duplicated_nucleotide.count,
            r.duplicated_nucleotide.examples.clone()
        ),
        (1, vec![base[2].clone()])
    );
    assert_eq!(r.only_nucleotide.count + r.only_protein.count, 0);
    let r = ids_of("dup_p");
    assert_eq!(
        (
            r.duplicated_protein.count,
            r.duplicated_protein.examples.clone()
        ),
        (1, vec![base[4].clone()])
    );
    for shard in ["missing_p", "missing_n", "dup_n", "dup_p"] {
        assert_eq!(failure(&report, shard).kind, FailureKind::IdMismatch);
    }
}

#[test]
fn a_failed_redo_removes_the_stale_output() {
    let s = sets();
    write_pair(&s, "output_1", 5);
    run(&s, None);
    let out = s.out.join("output_1.merged.safetensors");
    assert!(out.exists());
    std::fs::write(s.prot.join("output_1.protein.safetensors"), b"broken").unwrap();
    let report = run(&s, None);
    assert_eq!(failure(&report, "output_1").kind, FailureKind::Corrupt);
    assert!(
        !out.exists(),
        "a stale output would be used as if it matched the inputs"
    );
}

#[test]
fn cancellation_between_pairs_reports_the_rest_cancelled() {
    let s = sets();
    for k in 1..=4 {
        write_pair(&s, &format!("output_{k}"), 10);
    }
    let cancel = CancelToken::new();
    let opts = MergeOptions {
        threads: Some(1),
        cancel: cancel.clone(),
        ..MergeOptions::default()
    };
    let progress_seen = Mutex::new(Vec::new());
    let report = merge_dirs(&s.nuc, &s.prot, &s.out, &opts, &|p| {
        progress_seen
            .lock()
            .unwrap()
            .push((p.done, p.total, p.pair.bytes_in > 0));
        cancel.cancel();
    })
    .unwrap();
    assert_eq!(report.merged().count(), 1);
    assert_eq!(
        report
            .failed()
            .filter(|(_, f)| f.kind == FailureKind::Cancelled)
            .count(),
        3
    );
    assert_eq!(
        progress_seen.into_inner().unwrap(),
        [(1, 4, true), (2, 4, false), (3, 4, false), (4, 4, false)]
    );
    let left = std::fs::read_dir(&s.out).unwrap().count();
    assert_eq!(left, 1);
}

#[test]
fn missing_input_folder_is_an_error_not_a_pair() {
    let s = sets();
    let err = merge_dirs(
        &s.nuc.join("nope"),
        &s.prot,
        &s.out,
        &MergeOptions::default(),
        &no_progress,
    )
    .unwrap_err();
    assert!(err.to_string().contains("nope"));
}
