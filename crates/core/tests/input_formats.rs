//! Every accepted encoding of the same reads gives the same outputs as the plain file.
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use virnucpro_core::prepare::{prepare, PrepareOptions};
use virnucpro_testkit::fixture;

fn outputs(inputs: &[PathBuf]) -> Vec<(String, Vec<u8>)> {
    let out = tempfile::tempdir().unwrap();
    let options = PrepareOptions {
        threads: 2,
        ..PrepareOptions::default()
    };
    let summary = prepare(inputs, out.path(), &options, &mut |_| {}).unwrap();
    let mut files = vec![(
        "chunked".to_string(),
        fs::read(out.path().join(&summary.chunked)).unwrap(),
    )];
    for shard in &summary.shards {
        for path in [&shard.nucleotide, &shard.protein] {
            files.push((
                path.display().to_string(),
                fs::read(out.path().join(path)).unwrap(),
            ));
        }
    }
    files
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn compressed_inputs_match_plain() {
    let plain_path = fixture("e2e/a500/input.fa");
    let plain = fs::read(&plain_path).unwrap();
    let expected = outputs(&[plain_path]);
    let dir = tempfile::tempdir().unwrap();

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    bz.write_all(&plain).unwrap();
    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 6);
    xz.write_all(&plain).unwrap();
    let zst = zstd::encode_all(&plain[..], 3).unwrap();

    for (name, bytes) in [
        ("r.fa.gz", gz.finish().unwrap()),
        ("r.fa.bz2", bz.finish().unwrap()),
        ("r.fa.xz", xz.finish().unwrap()),
        ("r.fa.zst", zst),
    ] {
        let path = write(dir.path(), name, &bytes);
        assert_eq!(outputs(&[path]), expected, "{name}");
    }
}

#[test]
fn crlf_line_endings_match_plain() {
    let plain_path = fixture("reference/test_with_orfs.fa");
    let crlf = fs::read_to_string(&plain_path)
        .unwrap()
        .replace('\n', "\r\n");
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "crlf.fa", crlf.as_bytes());
    assert_eq!(outputs(&[path]), outputs(&[plain_path]));
}

#[test]
fn several_files_and_folders_keep_input_order() {
    let whole = fs::read_to_string(fixture("e2e/a300/input.fa")).unwrap();
    let records: Vec<&str> = whole.split_inclusive('\n').collect();
    // Split the file at a record boundary into a folder of two files and a third file.
    let boundaries: Vec<usize> = records
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with('>'))
        .map(|(i, _)| i)
        .collect();
    let (a, b) = (boundaries[40], boundaries[80]);
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("reads");
    fs::create_dir(&folder).unwrap();
    write(&folder, "part1.fa", records[..a].concat().as_bytes());
    write(&folder, "part2.fasta", records[a..b].concat().as_bytes());
    let third = write(dir.path(), "part3.fna", records[b..].concat().as_bytes());
    let split = outputs(&[folder, third]);
    let single = outputs(&[fixture("e2e/a300/input.fa")]);
    // Chunk length 500 (the default) on a300's input: same bytes either way.
    assert_eq!(split, single);
}
