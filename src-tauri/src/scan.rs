//! What the chosen inputs hold, before a run: the FASTA/FASTQ files found (one level of
//! folders, as the engine reads them), their sizes, and record counts of the smaller ones.
use std::path::PathBuf;

use virnucpro_core::fasta::{discover_inputs, InputFile, ReadChecks, ReadStream};

use crate::api::{FastaFile, InputScan};

/// Files up to this size are read to count their records (a few hundred ms at most);
/// larger ones show their size only.
pub const COUNT_RECORDS_UP_TO: u64 = 64 << 20;

/// Records in `file` (bad records count too: they are records the run will report), or
/// `Err` with the reason the file cannot be read as FASTA/FASTQ.
fn count_records(file: &InputFile) -> Result<u64, String> {
    let mut stream = ReadStream::new(vec![file.clone()], ReadChecks::default());
    let mut records = 0;
    while let Some(item) = stream.next() {
        item.map_err(|e| e.to_string())?;
        records += 1;
    }
    Ok(records)
}

pub fn scan(inputs: &[PathBuf]) -> InputScan {
    let mut scan = InputScan::default();
    if inputs.is_empty() {
        scan.problems.push("no input files chosen".into());
    }
    // One path at a time, so that every bad one is named (as the engine's validation does).
    for path in inputs {
        let files = match discover_inputs(std::slice::from_ref(path), None) {
            Ok(files) => files,
            Err(e) => {
                scan.problems.push(e.to_string());
                continue;
            }
        };
        for file in files {
            let records = if file.bytes <= COUNT_RECORDS_UP_TO {
                count_records(&file)
                    .map_err(|problem| scan.problems.push(problem))
                    .ok()
            } else {
                None
            };
            scan.total_bytes += file.bytes;
            scan.files.push(FastaFile {
                path: file.path,
                bytes: file.bytes,
                records,
            });
        }
    }
    scan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_in_folders_are_listed_with_sizes_records_and_problems() {
        let dir = tempfile::tempdir().unwrap();
        let reads = dir.path().join("reads");
        std::fs::create_dir(&reads).unwrap();
        std::fs::write(reads.join("a.fa"), ">r1\nACGT\n>r2\nGGCC\n").unwrap();
        std::fs::write(reads.join("b.fastq"), "@q1\nACGT\n+\nIIII\n").unwrap();
        std::fs::write(reads.join("notes.txt"), "not a read file").unwrap();
        std::fs::write(dir.path().join("bad.fa"), "this is not FASTA\n").unwrap();
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        let scan = scan(&[reads.clone(), dir.path().join("bad.fa"), empty.clone()]);
        let listed: Vec<(PathBuf, Option<u64>)> = scan
            .files
            .iter()
            .map(|f| (f.path.clone(), f.records))
            .collect();
        assert_eq!(
            listed,
            [
                (reads.join("a.fa"), Some(2)),
                (reads.join("b.fastq"), Some(1)),
                (dir.path().join("bad.fa"), None)
            ]
        );
        assert_eq!(
            scan.total_bytes,
            scan.files.iter().map(|f| f.bytes).sum::<u64>()
        );
        assert_eq!(scan.problems.len(), 2, "{:?}", scan.problems);
        assert!(scan.problems[0].contains("bad.fa"));
        assert!(
            scan.problems[1].contains("no FASTA files"),
            "{:?}",
            scan.problems
        );
    }
}
