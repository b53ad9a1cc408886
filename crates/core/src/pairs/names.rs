//! Which input files are pairs: the explicit ones, then (in [`PairMode::Auto`]) files
//! named as the two mates of one pair, in the same folder.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{same_file, Mate, PairError, PairMode, Pairing};
use crate::fasta::fasta_stem;

/// A file name that names one mate of a pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MateFile {
    pub mate: Mate,
    /// The name of the other mate's file: this one with the mate digit swapped.
    pub partner: String,
}

/// The mate a file name names, by the end of its name without the compression suffix and
/// the FASTA/FASTQ extension: Illumina's `_R1_001` (any three digits), `_R1`, `.R1` (R
/// either case) or `_1`, and the same with 2. Anything else (`sample_R1_trimmed`,
/// `file_12`) names no mate.
pub fn mate_file(name: &str) -> Option<MateFile> {
    let stem = fasta_stem(name).as_bytes();
    let n = stem.len();
    let mate_at = |i: usize| match stem.get(i) {
        Some(b'1') => Some(Mate::R1),
        Some(b'2') => Some(Mate::R2),
        _ => None,
    };
    let is_r = |i: usize| matches!(stem.get(i), Some(b'R' | b'r'));
    let illumina = n > 7
        && stem[n - 7] == b'_'
        && is_r(n - 6)
        && stem[n - 4] == b'_'
        && stem[n - 3..].iter().all(u8::is_ascii_digit);
    let digit_at = if illumina && mate_at(n - 5).is_some() {
        n - 5
    } else if (n > 3 && matches!(stem[n - 3], b'_' | b'.') && is_r(n - 2))
        || (n > 2 && stem[n - 2] == b'_')
    {
        n - 1
    } else {
        return None;
    };
    let mate = mate_at(digit_at)?;
    let digit = match mate.other() {
        Mate::R1 => "1",
        Mate::R2 => "2",
    };
    let mut partner = name.to_owned();
    partner.replace_range(digit_at..digit_at + 1, digit);
    Some(MateFile { mate, partner })
}

/// How the input files are read: one alone, or two (indices into the files) in lockstep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputUnit {
    Single(usize),
    Pair {
        r1: usize,
        r2: usize,
        /// Paired by their names, not given as a pair.
        by_name: bool,
    },
}

/// The input files as they are read, and what was noticed on the way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PairPlan {
    /// In input order; a pair where its R1 is.
    pub units: Vec<InputUnit>,
    /// R1 or R2 files read alone because their mate is not among the inputs.
    pub warnings: Vec<String>,
}

impl PairPlan {
    /// Every file on its own.
    pub fn singles(files: usize) -> Self {
        Self {
            units: (0..files).map(InputUnit::Single).collect(),
            warnings: Vec::new(),
        }
    }

    /// The pairs, as (R1, R2) indices into the files, in reading order.
    pub fn pairs(&self) -> Vec<(usize, usize)> {
        self.units
            .iter()
            .filter_map(|unit| match *unit {
                InputUnit::Pair { r1, r2, .. } => Some((r1, r2)),
                InputUnit::Single(_) => None,
            })
            .collect()
    }
}

/// Pair the input `files` (as [`super::input_files`] lists them): the explicit pairs,
/// then, in `Auto` mode, the files named as mates (see [`mate_file`]).
pub fn plan_units(files: &[PathBuf], pairing: &Pairing) -> Result<PairPlan, PairError> {
    let mut partner: Vec<Option<(usize, Mate, bool)>> = vec![None; files.len()];
    for (r1, r2) in &pairing.explicit {
        let (i, j) = (index_of(files, r1)?, index_of(files, r2)?);
        if i == j {
            return Err(PairError::SameFile { path: r1.clone() });
        }
        for (k, path) in [(i, r1), (j, r2)] {
            if partner[k].is_some() {
                return Err(PairError::InTwoPairs { path: path.clone() });
            }
        }
        partner[i] = Some((j, Mate::R1, false));
        partner[j] = Some((i, Mate::R2, false));
    }
    let mut warnings = Vec::new();
    if pairing.mode == PairMode::Auto {
        pair_by_names(files, &mut partner, &mut warnings);
    }
    let units = partner
        .iter()
        .enumerate()
        .filter_map(|(i, p)| match *p {
            None => Some(InputUnit::Single(i)),
            Some((j, Mate::R1, by_name)) => Some(InputUnit::Pair {
                r1: i,
                r2: j,
                by_name,
            }),
            Some((_, Mate::R2, _)) => None,
        })
        .collect();
    Ok(PairPlan { units, warnings })
}

fn index_of(files: &[PathBuf], path: &Path) -> Result<usize, PairError> {
    files
        .iter()
        .position(|f| same_file(f, path))
        .ok_or_else(|| PairError::NotAnInput {
            path: path.to_path_buf(),
        })
}

/// Pair the files not yet paired whose names name the two mates of one pair; an R1 or
/// R2 left without its mate gets a warning.
fn pair_by_names(
    files: &[PathBuf],
    partner: &mut [Option<(usize, Mate, bool)>],
    warnings: &mut Vec<String>,
) {
    let keys: Vec<Option<(PathBuf, String)>> = files.iter().map(|f| folder_and_name(f)).collect();
    let by_key: HashMap<&(PathBuf, String), usize> = keys
        .iter()
        .enumerate()
        .filter_map(|(i, k)| k.as_ref().map(|k| (k, i)))
        .collect();
    let mates: Vec<Option<MateFile>> = keys
        .iter()
        .map(|k| k.as_ref().and_then(|(_, name)| mate_file(name)))
        .collect();
    for (i, mate) in mates.iter().enumerate() {
        let (Some(mate), Some((folder, _))) = (mate, &keys[i]) else {
            continue;
        };
        if mate.mate != Mate::R1 || partner[i].is_some() {
            continue;
        }
        let key = (folder.clone(), mate.partner.clone());
        if let Some(&j) = by_key.get(&key) {
            if partner[j].is_none() {
                partner[i] = Some((j, Mate::R1, true));
                partner[j] = Some((i, Mate::R2, true));
            }
        }
    }
    for (i, mate) in mates.iter().enumerate() {
        if let (Some(mate), None) = (mate, partner[i]) {
            let number = if mate.mate == Mate::R1 { 1 } else { 2 };
            warnings.push(format!(
                "{}: named as read {number} of a pair, but its mate {} is not among the \
                 inputs (or is in another pair); its reads are single-end reads",
                files[i].display(),
                mate.partner
            ));
        }
    }
}

/// A file's folder (resolved, so that `a_1.fq` and `./a_2.fq` are in the same one) and
/// its name.
fn folder_and_name(path: &Path) -> Option<(PathBuf, String)> {
    let name = path.file_name()?.to_str()?.to_owned();
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let folder = std::fs::canonicalize(&folder).unwrap_or(folder);
    Some((folder, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mate(name: &str) -> Option<(Mate, String)> {
        mate_file(name).map(|m| (m.mate, m.partner))
    }

    #[test]
    fn every_pattern_names_its_mate_and_partner() {
        let cases = [
            (
                "S1_S1_L001_R1_001.fastq.gz",
                Mate::R1,
                "S1_S1_L001_R2_001.fastq.gz",
            ),
            (
                "S1_S1_L001_R2_001.fastq.gz",
                Mate::R2,
                "S1_S1_L001_R1_001.fastq.gz",
            ),
            ("s_r1_017.fq", Mate::R1, "s_r2_017.fq"),
            ("x_1.fq.gz", Mate::R1, "x_2.fq.gz"),
            ("x_2.FQ.GZ", Mate::R2, "x_1.FQ.GZ"),
            ("y_R1.fastq", Mate::R1, "y_R2.fastq"),
            ("y_r2.fastq.zst", Mate::R2, "y_r1.fastq.zst"),
            ("z.R1.fq.bz2", Mate::R1, "z.R2.fq.bz2"),
            ("z.r2.fa", Mate::R2, "z.r1.fa"),
            // The extension is kept as it is, whatever it is.
            ("reads_1.fasta", Mate::R1, "reads_2.fasta"),
        ];
        for (name, want, partner) in cases {
            assert_eq!(mate(name), Some((want, partner.to_owned())), "{name}");
        }
    }

    #[test]
    fn other_names_name_no_mate() {
        for name in [
            "sample_R1_trimmed.fq",
            "file_12.fq",
            "file_01.fq",
            "x_3.fq",
            "x_R3.fq",
            "xR1.fq",
            "x1.fq",
            "x-1.fq",
            "x.1.fq",
            "s_R1_01.fq",
            "s_R1_0a1.fq",
            "s_R3_001.fq",
            "_1.fq",
            "_R1.fq",
            "reads.fa",
        ] {
            assert_eq!(mate(name), None, "{name}");
        }
    }

    fn touch(dir: &Path, names: &[&str]) -> Vec<PathBuf> {
        names
            .iter()
            .map(|n| {
                let p = dir.join(n);
                std::fs::write(&p, ">r\nA\n").unwrap();
                p
            })
            .collect()
    }

    #[test]
    fn auto_pairs_mates_in_one_folder_where_r1_is() {
        let dir = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        let mut files = touch(
            dir.path(),
            &["a_2.fq", "single.fa", "a_1.fq", "b_R1.fq", "c_R2_001.fq.gz"],
        );
        // b's mate is in another folder: not a pair.
        files.extend(touch(other.path(), &["b_R2.fq"]));
        let plan = plan_units(&files, &Pairing::default()).unwrap();
        assert_eq!(
            plan.units,
            vec![
                InputUnit::Single(1),
                InputUnit::Pair {
                    r1: 2,
                    r2: 0,
                    by_name: true
                },
                InputUnit::Single(3),
                InputUnit::Single(4),
                InputUnit::Single(5),
            ]
        );
        assert_eq!(plan.pairs(), vec![(2, 0)]);
        assert_eq!(plan.warnings.len(), 3, "{:?}", plan.warnings);
        assert!(
            plan.warnings[0].contains("b_R1.fq: named as read 1 of a pair, but its mate b_R2.fq")
        );
        assert!(plan.warnings[1].contains("c_R2_001.fq.gz: named as read 2"));
        let off = plan_units(&files, &Pairing::off()).unwrap();
        assert_eq!(off, PairPlan::singles(files.len()));
    }

    #[test]
    fn explicit_pairs_come_first_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let files = touch(dir.path(), &["m.fq", "n.fq", "a_1.fq", "a_2.fq"]);
        let pairing = Pairing {
            mode: PairMode::Off,
            explicit: vec![(files[1].clone(), files[0].clone())],
        };
        let plan = plan_units(&files, &pairing).unwrap();
        assert_eq!(
            plan.units,
            vec![
                InputUnit::Pair {
                    r1: 1,
                    r2: 0,
                    by_name: false
                },
                InputUnit::Single(2),
                InputUnit::Single(3),
            ]
        );
        let auto = Pairing {
            mode: PairMode::Auto,
            ..pairing.clone()
        };
        assert_eq!(
            plan_units(&files, &auto).unwrap().pairs(),
            vec![(1, 0), (2, 3)]
        );
        // An explicit pair takes a named mate out of its name's pair, with a warning.
        let crossed = Pairing {
            mode: PairMode::Auto,
            explicit: vec![(files[2].clone(), files[0].clone())],
        };
        let plan = plan_units(&files, &crossed).unwrap();
        assert_eq!(plan.pairs(), vec![(2, 0)]);
        assert_eq!(plan.warnings.len(), 1, "{:?}", plan.warnings);
        let same = Pairing {
            mode: PairMode::Off,
            explicit: vec![(files[0].clone(), files[0].clone())],
        };
        assert!(matches!(
            plan_units(&files, &same),
            Err(PairError::SameFile { .. })
        ));
        let twice = Pairing {
            mode: PairMode::Off,
            explicit: vec![
                (files[0].clone(), files[1].clone()),
                (files[2].clone(), files[0].clone()),
            ],
        };
        assert!(matches!(
            plan_units(&files, &twice),
            Err(PairError::InTwoPairs { .. })
        ));
        let outside = Pairing {
            mode: PairMode::Off,
            explicit: vec![(files[0].clone(), dir.path().join("zz.fq"))],
        };
        assert!(matches!(
            plan_units(&files, &outside),
            Err(PairError::NotAnInput { .. })
        ));
    }
}
