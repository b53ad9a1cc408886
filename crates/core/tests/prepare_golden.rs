//! `prepare` against the original tool's own outputs (../shared/fixtures), byte for byte.
use std::fs;
use std::path::Path;

use virnucpro_core::prepare::{prepare, prepare_streaming, PrepareOptions, PrepareSummary};
use virnucpro_testkit::{fasta_records, fixture};

fn run(
    input: &Path,
    chunk_len: usize,
    threads: usize,
    shard_size: usize,
) -> (tempfile::TempDir, PrepareSummary) {
    let out = tempfile::tempdir().unwrap();
    let options = PrepareOptions {
        chunk_len,
        threads,
        shard_size,
        ..PrepareOptions::default()
    };
    let summary = prepare(&[input.to_path_buf()], out.path(), &options, &mut |_| {}).unwrap();
    (out, summary)
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// All shards of one side, concatenated in shard order.
fn concatenated(out: &Path, summary: &PrepareSummary, protein: bool) -> Vec<u8> {
    summary
        .shards
        .iter()
        .flat_map(|s| read(&out.join(if protein { &s.protein } else { &s.nucleotide })))
        .collect()
}

/// The reference fixtures of virnucpro-broad: `<stem>.fa` → `<stem>_chunked500.fa`,
/// `<stem>_identified_nucleotide.fa`, `<stem>_identified_protein.faa`.
fn check_reference(stem: &str, expect_frames: bool) {
    for threads in [1, 2] {
        let (out, summary) = run(
            &fixture(&format!("reference/{stem}.fa")),
            500,
            threads,
            10_000,
        );
        let chunked = read(&out.path().join(&summary.chunked));
        assert_eq!(
            chunked,
            read(&fixture(&format!("reference/{stem}_chunked500.fa"))),
            "{stem} chunked"
        );
        if expect_frames {
            let nuc = fixture(&format!("reference/{stem}_identified_nucleotide.fa"));
            let prot = fixture(&format!("reference/{stem}_identified_protein.faa"));
            assert_eq!(
                concatenated(out.path(), &summary, false),
                read(&nuc),
                "{stem} nucleotide"
            );
            assert_eq!(
                concatenated(out.path(), &summary, true),
                read(&prot),
                "{stem} protein"
            );
            assert!(summary.frames_kept > 0);
        } else {
            assert_eq!(summary.frames_kept, 0, "{stem} keeps no frame");
            assert!(summary.shards.is_empty());
        }
    }
}

#[test]
fn reference_with_orfs() {
    check_reference("test_with_orfs", true);
}

#[test]
fn reference_fixed_500bp() {
    check_reference("test_fixed_500bp", true);
}

#[test]
fn reference_small_sequences_keep_no_frame() {
    check_reference("test_sequences_small", false);
}

/// The full original pipeline's files for `e2e/a500` and `e2e/a300`.
fn check_e2e(name: &str, chunk_len: usize) {
    let expected = fixture(&format!("e2e/{name}/expected"));
    for threads in [1, 2] {
        let (out, summary) = run(
            &fixture(&format!("e2e/{name}/input.fa")),
            chunk_len,
            threads,
            10_000,
        );
        let chunked = read(&out.path().join(&summary.chunked));
        assert_eq!(
            chunked,
            read(&expected.join(format!("input_chunked{chunk_len}.fa")))
        );
        assert_eq!(summary.shards.len(), 1);
        let shard = &summary.shards[0];
        assert_eq!(
            read(&out.path().join(&shard.nucleotide)),
            read(&expected.join("input_nucleotide/output_1.fa"))
        );
        assert_eq!(
            read(&out.path().join(&shard.protein)),
            read(&expected.join("input_protein/output_1.fa"))
        );
        assert_eq!(
            concatenated(out.path(), &summary, false),
            read(&expected.join("input_identified_nucleotide.fa"))
        );
        let reads = fasta_records(&fixture(&format!("e2e/{name}/input.fa"))).len() as u64;
        assert_eq!(summary.reads, reads);
        assert_eq!(
            summary.chunks as usize,
            fasta_records(&out.path().join(&summary.chunked)).len()
        );
        assert_eq!(summary.frames_kept as usize, shard.records);
    }
}

#[test]
fn e2e_a500() {
    check_e2e("a500", 500);
}

#[test]
fn e2e_a300() {
    check_e2e("a300", 300);
}

#[test]
fn small_shards_split_in_order_and_threads_agree() {
    let input = fixture("e2e/a300/input.fa");
    let (one, s1) = run(&input, 300, 1, 7);
    let (two, s2) = run(&input, 300, 2, 7);
    assert!(s1.shards.len() > 10);
    assert_eq!(s1.shards, s2.shards);
    for (a, b) in s1.shards.iter().zip(&s2.shards) {
        assert_eq!(
            read(&one.path().join(&a.nucleotide)),
            read(&two.path().join(&b.nucleotide))
        );
        assert_eq!(
            read(&one.path().join(&a.protein)),
            read(&two.path().join(&b.protein))
        );
    }
    for shard in &s1.shards[..s1.shards.len() - 1] {
        assert_eq!(shard.records, 7);
        let ids: Vec<_> = fasta_records(&one.path().join(&shard.nucleotide))
            .into_iter()
            .map(|r| r.0)
            .collect();
        let prot_ids: Vec<_> = fasta_records(&one.path().join(&shard.protein))
            .into_iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(
            ids, prot_ids,
            "shard {} pairs the same IDs in the same order",
            shard.index
        );
    }
    let expected = read(&fixture("e2e/a300/expected/input_identified_protein.faa"));
    assert_eq!(concatenated(one.path(), &s1, true), expected);
    assert_eq!(s1.shards[0].nucleotide, Path::new("nucleotide/output_1.fa"));
    assert_eq!(s1.shards[0].protein, Path::new("protein/output_1.faa"));
}

/// Each shard is announced once, in order, while prepare goes on (all but the last before
/// prepare ends), with its bytes complete at its staged path: what a run embeds early is
/// what prepare installs.
#[test]
fn streaming_announces_complete_shards_in_order() {
    let input = fixture("e2e/a300/input.fa");
    for threads in [1, 2] {
        let out = tempfile::tempdir().unwrap();
        let options = PrepareOptions {
            chunk_len: 300,
            threads,
            shard_size: 7,
            ..PrepareOptions::default()
        };
        let mut announced = Vec::new();
        let summary = prepare_streaming(
            std::slice::from_ref(&input),
            out.path(),
            &options,
            &mut |_| {},
            &mut |staged| {
                let bytes = (
                    read(&staged.staged_root.join(&staged.info.nucleotide)),
                    read(&staged.staged_root.join(&staged.info.protein)),
                );
                announced.push((staged.info.clone(), bytes));
            },
        )
        .unwrap();
        assert_eq!(announced.len(), summary.shards.len());
        for ((info, (nuc, prot)), shard) in announced.iter().zip(&summary.shards) {
            assert_eq!(info, shard);
            assert_eq!(nuc, &read(&out.path().join(&shard.nucleotide)));
            assert_eq!(prot, &read(&out.path().join(&shard.protein)));
        }
    }
}

/// Reads longer than one batch (1024 chunks) are split across batches and workers; the
/// outputs must equal a naive, single-pass rendering built from the (separately tested)
/// chunk plan and frame selection.
#[test]
fn reads_split_across_batches_equal_a_naive_rendering() {
    use virnucpro_core::chunk::ChunkPlan;
    use virnucpro_core::frames::kept_frames;

    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut base = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        b"ACGTACGTACGTACGTacgtN"[(state % 21) as usize]
    };
    let lengths = [350_000usize, 17, 1_000, 700_001, 299, 301, 5];
    let reads: Vec<(String, Vec<u8>)> = lengths
        .iter()
        .enumerate()
        .map(|(i, &n)| (format!("r{i}"), (0..n).map(|_| base()).collect()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("long.fa");
    let mut text = Vec::new();
    for (id, seq) in &reads {
        text.extend_from_slice(format!(">{id} description\n").as_bytes());
        for line in seq.chunks(70) {
            text.extend_from_slice(line);
            text.push(b'\n');
        }
    }
    fs::write(&input, text).unwrap();

    let (mut chunked, mut nucleotide, mut protein) = (Vec::new(), Vec::new(), Vec::new());
    for (id, seq) in &reads {
        for (j, range) in ChunkPlan::new(seq.len(), 300).ranges().enumerate() {
            let chunk = &seq[range];
            chunked.extend_from_slice(format!(">{id}_chunk_{}\n", j + 1).as_bytes());
            for line in chunk.chunks(60) {
                chunked.extend_from_slice(line);
                chunked.push(b'\n');
            }
            for frame in kept_frames(chunk) {
                let header = format!(">{id}_chunk_{}{}\n", j + 1, frame.frame.suffix());
                nucleotide.extend_from_slice(header.as_bytes());
                nucleotide.extend_from_slice(&frame.nucleotide);
                nucleotide.push(b'\n');
                protein.extend_from_slice(header.as_bytes());
                protein.extend_from_slice(&frame.protein);
                protein.push(b'\n');
            }
        }
    }
    let kept = nucleotide.iter().filter(|&&b| b == b'>').count();
    assert!(
        kept > 100,
        "the input must keep frames to test anything ({kept})"
    );
    for threads in [1, 2] {
        let (out, summary) = run(&input, 300, threads, 50);
        assert_eq!(summary.reads, reads.len() as u64);
        assert_eq!(summary.frames_kept as usize, kept);
        assert!(summary.shards.len() > 2);
        assert_eq!(
            read(&out.path().join(&summary.chunked)),
            chunked,
            "threads {threads}"
        );
        assert_eq!(
            concatenated(out.path(), &summary, false),
            nucleotide,
            "threads {threads}"
        );
        assert_eq!(
            concatenated(out.path(), &summary, true),
            protein,
            "threads {threads}"
        );
        assert!(summary.shards.iter().rev().skip(1).all(|s| s.records == 50));
    }
}

/// Cancelling mid-run stops at the next record and leaves nothing behind: no outputs, no
/// staging folder, and earlier outputs untouched.
#[test]
fn cancellation_leaves_no_partial_output() {
    use virnucpro_core::prepare::PrepareError;
    use virnucpro_core::CancelToken;

    for threads in [1, 2] {
        let out = tempfile::tempdir().unwrap();
        let cancel = CancelToken::new();
        let options = PrepareOptions {
            // 3 bp chunks: the 120 reads make ~53,000 chunks, many batches.
            chunk_len: 3,
            threads,
            cancel: cancel.clone(),
            ..PrepareOptions::default()
        };
        let mut batches_seen = 0;
        let result = prepare(
            &[fixture("e2e/a500/input.fa")],
            out.path(),
            &options,
            &mut |_| {
                batches_seen += 1;
                cancel.cancel();
            },
        );
        assert!(
            matches!(result, Err(PrepareError::Cancelled)),
            "threads {threads}: {result:?}"
        );
        assert!(batches_seen >= 1);
        let left: Vec<_> = fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "threads {threads}: left behind {left:?}");
    }
}
