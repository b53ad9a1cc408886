//! `--pairs` and `--pair` of `prepare` and `predict`: which input files are pairs of mates
//! (`virnucpro_core::pairs`).
use std::path::PathBuf;

use virnucpro_core::pairs::{PairMode, Pairing};

/// `--pairs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PairsArg {
    /// R1/R2 files are found by their names in one folder.
    Auto,
    /// Every file is read on its own (pairs given with --pair still are pairs).
    Off,
}

#[derive(Debug, clap::Args)]
pub struct PairArgs {
    /// Read R1/R2 files as pairs of mates: auto finds them by their names in one folder
    /// (_R1/_R2, _1/_2, .R1/.R2, _R1_001/_R2_001 before .fastq/.fq and a compression
    /// suffix), off reads every file on its own. Mates are reads of their own, with /1
    /// and /2 after their names.
    #[arg(long, value_enum, default_value_t = PairsArg::Auto, value_name = "auto|off")]
    pub pairs: PairsArg,
    /// Two files read as a pair of mates whatever their names (and with --pairs off);
    /// repeat for more pairs. Their files are inputs: they need not be listed again.
    #[arg(long = "pair", value_name = "R1,R2", value_parser = parse_pair)]
    pub pair: Vec<(PathBuf, PathBuf)>,
}

impl PairArgs {
    pub fn pairing(&self) -> Pairing {
        Pairing {
            mode: match self.pairs {
                PairsArg::Auto => PairMode::Auto,
                PairsArg::Off => PairMode::Off,
            },
            explicit: self.pair.clone(),
        }
    }
}

/// `R1,R2`: two paths.
fn parse_pair(value: &str) -> Result<(PathBuf, PathBuf), String> {
    match value.split_once(',') {
        Some((r1, r2)) if !r1.is_empty() && !r2.is_empty() && !r2.contains(',') => {
            Ok((r1.into(), r2.into()))
        }
        _ => Err(format!(
            "{value:?} is not R1,R2: two files with a comma between"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_is_two_paths() {
        assert_eq!(
            parse_pair("a_1.fq,b/c_2.fq"),
            Ok(("a_1.fq".into(), "b/c_2.fq".into()))
        );
        for bad in ["a.fq", "a.fq,", ",b.fq", "a,b,c"] {
            assert!(parse_pair(bad).is_err(), "{bad}");
        }
    }
}
