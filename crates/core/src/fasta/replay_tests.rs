//! The duplicate-ID check with fingerprints: a repeated fingerprint is decided by reading
//! the inputs again, so the items are those of exact IDs, whatever the fingerprints share.
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use super::*;

/// A FASTA file of `ids`, one 8 bp read each.
fn fasta(dir: &Path, name: &str, ids: &[String]) -> PathBuf {
    let mut text = String::new();
    for id in ids {
        writeln!(text, ">{id} some description\nACGTACGT").unwrap();
    }
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

fn files(paths: &[&PathBuf]) -> Vec<InputFile> {
    paths
        .iter()
        .map(|p| InputFile {
            path: p.to_path_buf(),
            bytes: 0,
        })
        .collect()
}

/// Each item as `ID` or `ID duplicate_id` (other problems by their text).
fn summary(stream: &mut ReadStream) -> Vec<String> {
    std::iter::from_fn(|| stream.next())
        .map(|item| match item.unwrap() {
            ReadItem::Read(read) => read.id,
            ReadItem::Issue(issue) => format!("{} {}", issue.location.id, issue.problem),
        })
        .collect()
}

fn exact_after_replay(stream: &ReadStream) -> bool {
    stream.checker.replay.is_none() && matches!(stream.checker.seen_ids, SeenIds::Exact(_))
}

fn numbered(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|k| format!("{prefix}{k}")).collect()
}

#[test]
fn shared_fingerprints_give_the_items_of_exact_ids() {
    let dir = tempfile::tempdir().unwrap();
    let mut ids = numbered("read_", 3000);
    ids.insert(1500, "read_10".into());
    ids.push("read_2000".into());
    let path = fasta(dir.path(), "in.fa", &ids);
    let units = vec![InputUnit::Single(0)];
    // 2 remainder bits: 18-bit fingerprints, shared by many of 3,000 IDs.
    let mut narrow =
        ReadStream::with_fingerprints(files(&[&path]), units, ReadChecks::default(), 2);
    let got = summary(&mut narrow);
    let reader = fs::File::open(&path).unwrap();
    let mut exact = ReadStream::from_reader(&path, reader, ReadChecks::default()).unwrap();
    assert_eq!(got, summary(&mut exact));
    let duplicates: Vec<&String> = got.iter().filter(|s| s.contains(' ')).collect();
    assert_eq!(
        duplicates,
        [
            "read_10 the ID is used by an earlier record",
            "read_2000 the ID is used by an earlier record"
        ]
    );
    assert_eq!(got.len(), 3002);
    assert!(
        exact_after_replay(&narrow),
        "a shared fingerprint was read again"
    );
}

#[test]
fn without_a_repeat_the_fingerprints_are_never_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = fasta(dir.path(), "in.fa", &numbered("read_", 3000));
    let mut stream = ReadStream::new(files(&[&path]), ReadChecks::default());
    assert_eq!(summary(&mut stream).len(), 3000);
    assert!(!exact_after_replay(&stream));
}

/// A single file, then a pair whose R2 repeats an ID of the single file: the repeat is the
/// second record checked of a pair, so the replay must stop between the pair's mates.
#[test]
fn a_repeat_in_r2_is_decided_by_a_replay_that_stops_between_mates() {
    let dir = tempfile::tempdir().unwrap();
    let single = fasta(dir.path(), "single.fa", &["p7/2".to_string(), "x".into()]);
    let names = numbered("p", 20);
    let r1 = fasta(dir.path(), "s_R1.fa", &names);
    let r2 = fasta(dir.path(), "s_R2.fa", &names);
    let units = vec![
        InputUnit::Single(0),
        InputUnit::Pair {
            r1: 1,
            r2: 2,
            by_name: true,
        },
    ];
    let all = files(&[&single, &r1, &r2]);
    let mut stream = ReadStream::with_units(all, units, ReadChecks::default());
    let got = summary(&mut stream);
    assert_eq!(got.len(), 42);
    assert_eq!(got[2..4], ["p0/1", "p0/2"]);
    assert_eq!(got[16], "p7/1");
    assert_eq!(got[17], "p7 the ID is used by an earlier record");
    assert_eq!(got.iter().filter(|s| s.contains(' ')).count(), 1);
    assert!(exact_after_replay(&stream));
}

#[test]
fn a_file_concatenated_twice_is_read_again_once() {
    let dir = tempfile::tempdir().unwrap();
    let ids = numbered("read_", 500);
    let twice: Vec<String> = ids.iter().chain(&ids).cloned().collect();
    let path = fasta(dir.path(), "twice.fa", &twice);
    let mut stream = ReadStream::new(files(&[&path]), ReadChecks::default());
    let got = summary(&mut stream);
    assert_eq!(got[..500], ids[..]);
    assert!(got[500..]
        .iter()
        .all(|s| s.ends_with("used by an earlier record")));
    assert!(exact_after_replay(&stream));
}

#[test]
fn inputs_that_shrank_before_the_replay_are_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut ids = numbered("read_", 100);
    ids.push("read_0".into());
    let path = fasta(dir.path(), "in.fa", &ids);
    let mut stream = ReadStream::new(files(&[&path]), ReadChecks::default());
    for _ in 0..50 {
        assert!(matches!(stream.next(), Some(Ok(ReadItem::Read(_)))));
    }
    // Replaced by a shorter file (a new inode: the open stream reads on in the old one).
    let shorter = fasta(dir.path(), "shorter.fa", &numbered("read_", 10));
    fs::rename(&shorter, &path).unwrap();
    let items: Vec<_> = std::iter::from_fn(|| stream.next()).collect();
    assert_eq!(items.len(), 51, "50 more reads, then the error");
    let Some(Err(error)) = items.last() else {
        panic!("{:?}", items.last())
    };
    assert!(matches!(
        error,
        InputError::ChangedWhileRead { records: 100, .. }
    ));
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("{}: ", path.display())),
        "{message}"
    );
    assert!(
        message.contains("changed while they were read"),
        "{message}"
    );
}

/// Pair names whose mates' fingerprints (of 16 + `bits` bits) are all different, but for
/// the last pair's R2, which shares one with an earlier mate: a shared fingerprint, not a
/// repeated ID, found in the second record checked of a pair.
fn names_sharing_a_fingerprint_in_the_last_r2(bits: u32) -> Vec<String> {
    let print = |id: String| {
        let hash = xxhash_rust::xxh3::xxh3_128(id.as_bytes()) as u64;
        seen_ids::fingerprint(hash, bits)
    };
    let mut prints = std::collections::HashSet::new();
    let mut names = Vec::new();
    for k in 0.. {
        let name = format!("p{k}");
        let (first, second) = (print(format!("{name}/1")), print(format!("{name}/2")));
        if prints.contains(&first) || first == second {
            continue;
        }
        names.push(name);
        if prints.contains(&second) {
            return names;
        }
        prints.extend([first, second]);
    }
    unreachable!()
}

#[test]
fn a_shared_fingerprint_in_r2_is_not_taken_for_its_own_id() {
    let dir = tempfile::tempdir().unwrap();
    let names = names_sharing_a_fingerprint_in_the_last_r2(2);
    assert!(names.len() > 20, "{} pairs", names.len());
    let r1 = fasta(dir.path(), "s_R1.fa", &names);
    let r2 = fasta(dir.path(), "s_R2.fa", &names);
    let units = vec![InputUnit::Pair {
        r1: 0,
        r2: 1,
        by_name: true,
    }];
    let pair = files(&[&r1, &r2]);
    let mut stream = ReadStream::with_fingerprints(pair, units, ReadChecks::default(), 2);
    let got = summary(&mut stream);
    assert_eq!(got.len(), 2 * names.len());
    assert!(
        got.iter().all(|s| !s.contains(' ')),
        "no duplicates: {got:?}"
    );
    assert!(
        exact_after_replay(&stream),
        "the shared fingerprint was read again"
    );
}
