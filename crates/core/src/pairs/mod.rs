//! Paired-end reads: R1/R2 files found by their names (or given), read in lockstep as
//! separate reads with mate suffixes (`/1`, `/2`), and the per-pair view of the read
//! summary (`pair_summary.tsv`). See docs/paired-reads.md.
//!
//! A pair is read record by record: record i of R1, then record i of R2. Each is a read of
//! its own, its ID the record's (first header word) without a trailing `/1` (R1) or `/2`
//! (R2), then with it: `M001:1:FC:1:1101:1:1/1`. Mates must have the same name once
//! those suffixes are gone, and the two files the same number of records; either
//! mismatch stops the work with an error naming both files.
mod names;
mod stream;
mod summary;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use names::{mate_file, plan_units, InputUnit, MateFile, PairPlan};
pub(crate) use stream::MateStream;
pub use summary::{write_pair_summary, PairSummaryError, PairTotals, PAIR_SUMMARY_HEADER};

use crate::fasta::{discover_inputs, InputError, InputFile};
use crate::input_paths::PathError;

/// The per-pair view of `read_summary.tsv`, beside it in a run folder.
pub const PAIR_SUMMARY_FILE: &str = "pair_summary.tsv";

/// Whether input files are paired by their names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum PairMode {
    /// Files named as R1 and R2 of one pair (`_R1`/`_R2`, `_1`/`_2`, `.R1`/`.R2`,
    /// `_R1_001`/`_R2_001`) in the same folder are read as a pair.
    #[default]
    Auto,
    /// Every file is read on its own (explicit pairs are still pairs).
    Off,
}

/// How the input files are paired: by their names (`mode`) and the pairs given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pairing {
    pub mode: PairMode,
    /// Pairs given as (R1, R2), whatever their names and `mode`. Their files are inputs
    /// of the run: those not among the other inputs are read too.
    #[serde(default)]
    pub explicit: Vec<(PathBuf, PathBuf)>,
}

impl Pairing {
    /// No pairs at all: what runs of versions before paired reads did.
    pub fn off() -> Self {
        Self {
            mode: PairMode::Off,
            explicit: Vec::new(),
        }
    }
}

/// Which mate of a pair a file or a read is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mate {
    R1,
    R2,
}

impl Mate {
    /// The suffix of this mate's read IDs: `/1` or `/2`.
    pub fn suffix(self) -> &'static str {
        match self {
            Mate::R1 => "/1",
            Mate::R2 => "/2",
        }
    }

    pub fn other(self) -> Self {
        match self {
            Mate::R1 => Mate::R2,
            Mate::R2 => Mate::R1,
        }
    }

    /// The mate a read ID names by its suffix, and the ID without it.
    pub fn of_read_id(id: &str) -> Option<(&str, Mate)> {
        [Mate::R1, Mate::R2]
            .into_iter()
            .find_map(|mate| id.strip_suffix(mate.suffix()).map(|base| (base, mate)))
    }
}

/// A pair as prepare read it (`prepare.json`'s `pairs[]`): its files, and where its reads
/// are in the prepared reads (in reading order, so in `read_summary.tsv` too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairRecord {
    pub r1: PathBuf,
    pub r2: PathBuf,
    /// Reads prepared before this pair's first.
    pub first_read: u64,
    /// Reads prepared from the pair: both mates, without records skipped.
    pub reads: u64,
}

/// What is wrong with a pair; each stops the work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PairError {
    #[error("--pair {}: the same file twice", path.display())]
    SameFile { path: PathBuf },
    #[error("{}: in two pairs (--pair gives each file one mate)", path.display())]
    InTwoPairs { path: PathBuf },
    #[error("--pair {}: not among the input files", path.display())]
    NotAnInput { path: PathBuf },
    #[error(
        "{} and {} are read as a pair, but record {record} is '{r1_id}' in the first and \
         '{r2_id}' in the second: mates must have the same name (apart from /1 and /2){}",
        r1.display(), r2.display(), hint(*by_name)
    )]
    NamesDiffer {
        r1: PathBuf,
        r2: PathBuf,
        /// 1-based, in both files.
        record: u64,
        r1_id: String,
        r2_id: String,
        /// Paired by their file names (not given as a pair).
        by_name: bool,
    },
    #[error(
        "{} and {} are read as a pair, but {} has more records: its record {record} \
         ('{id}') has no mate; {} ends after {} records{}",
        r1.display(), r2.display(), self.longer_file().display(),
        self.shorter_file().display(), record - 1, hint(*by_name)
    )]
    CountsDiffer {
        r1: PathBuf,
        r2: PathBuf,
        /// The file with more records.
        longer: Mate,
        /// The first record of the longer file without a mate (1-based).
        record: u64,
        id: String,
        by_name: bool,
    },
}

impl PairError {
    /// Of [`PairError::CountsDiffer`]: the file with more records (else R1).
    pub fn longer_file(&self) -> &Path {
        match self {
            PairError::CountsDiffer {
                r2,
                longer: Mate::R2,
                ..
            } => r2,
            PairError::CountsDiffer { r1, .. } | PairError::NamesDiffer { r1, .. } => r1,
            PairError::SameFile { path }
            | PairError::InTwoPairs { path }
            | PairError::NotAnInput { path } => path,
        }
    }

    /// Of [`PairError::CountsDiffer`]: the file that ended first.
    pub fn shorter_file(&self) -> &Path {
        match self {
            PairError::CountsDiffer {
                r1,
                longer: Mate::R2,
                ..
            } => r1,
            PairError::CountsDiffer { r2, .. } | PairError::NamesDiffer { r2, .. } => r2,
            PairError::SameFile { path }
            | PairError::InTwoPairs { path }
            | PairError::NotAnInput { path } => path,
        }
    }
}

fn hint(by_name: bool) -> &'static str {
    if by_name {
        " (the two files were paired by their names; --pairs off reads each on its own)"
    } else {
        ""
    }
}

/// The input files of a run or prepare: `inputs` as [`discover_inputs`] finds them, then
/// the explicit pairs' files that are not among them, in the order given.
pub fn input_files(
    inputs: &[PathBuf],
    pairing: &Pairing,
    exclude: Option<&Path>,
) -> Result<Vec<InputFile>, InputError> {
    let mut files = if inputs.is_empty() && !pairing.explicit.is_empty() {
        Vec::new()
    } else {
        discover_inputs(inputs, exclude)?
    };
    for path in pairing.explicit.iter().flat_map(|(a, b)| [a, b]) {
        if files.iter().any(|f| same_file(&f.path, path)) {
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|e| PathError::from_io(path, e))?;
        files.push(InputFile {
            path: path.clone(),
            bytes: meta.len(),
        });
    }
    Ok(files)
}

/// Whether two paths name the same file (as given, or once resolved).
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_ids_name_their_mate() {
        assert_eq!(Mate::of_read_id("x/1"), Some(("x", Mate::R1)));
        assert_eq!(Mate::of_read_id("a/b/2"), Some(("a/b", Mate::R2)));
        assert_eq!(Mate::of_read_id("x/3"), None);
        assert_eq!(Mate::of_read_id("x_1"), None);
    }

    #[test]
    fn explicit_pairs_add_their_files_once() {
        let dir = tempfile::tempdir().unwrap();
        let [a, b, c] = ["a.fq", "b.fq", "c.fa"].map(|n| {
            let p = dir.path().join(n);
            std::fs::write(&p, "@r\nA\n+\nI\n").unwrap();
            p
        });
        let pairing = Pairing {
            mode: PairMode::Off,
            explicit: vec![(a.clone(), b.clone())],
        };
        let files = input_files(&[c.clone(), a.clone()], &pairing, None).unwrap();
        let paths: Vec<_> = files.iter().map(|f| f.path.clone()).collect();
        assert_eq!(paths, vec![c, a.clone(), b.clone()]);
        let only_pair = input_files(&[], &pairing, None).unwrap();
        assert_eq!(only_pair.len(), 2);
        assert!(matches!(
            input_files(&[], &Pairing::off(), None),
            Err(InputError::NoInputs)
        ));
        let missing = Pairing {
            mode: PairMode::Auto,
            explicit: vec![(a, dir.path().join("nope.fq"))],
        };
        assert!(matches!(
            input_files(&[], &missing, None),
            Err(InputError::Path(_))
        ));
    }
}
