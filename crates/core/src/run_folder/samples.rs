//! A run of several samples: each sample is its own run folder, `out/NAME/`, with its own
//! reports, and `out/summary.tsv` has one line per sample (the table `virnucpro
//! summarize` and the Snakemake workflow write).
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::atomic::write_atomic;
use crate::report::{
    read_summary_totals, render_samples, ReadSummaryError, ReportError, SampleTotals,
    READ_SUMMARY_FILE,
};

use super::layout::{
    FAILURES_FILE, FEATURES_DIR, MANIFEST_FILE, MERGED_DIR, PREPARED_DIR, SCORES_DIR,
};

/// The table across samples, at the top of a multi-sample run's folder.
pub const SUMMARY_FILE: &str = "summary.tsv";

/// The longest sample name: it becomes a folder name and a column of the summary.
pub const MAX_NAME_LEN: usize = 100;

/// One sample: a name (its folder under the output folder) and its read files or folders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub name: String,
    pub inputs: Vec<PathBuf>,
}

/// Why samples cannot be run as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SampleError {
    #[error("{arg:?}: a sample is NAME=PATH[,PATH...]")]
    Syntax { arg: String },
    #[error("sample name {name:?}: {reason}")]
    BadName { name: String, reason: String },
    #[error("sample {name:?} is given twice")]
    Duplicate { name: String },
    #[error("sample {name:?} has no input files")]
    NoInputs { name: String },
}

impl FromStr for Sample {
    type Err = SampleError;

    /// `NAME=PATH[,PATH...]`, as `--sample` takes it.
    fn from_str(arg: &str) -> Result<Self, Self::Err> {
        let syntax = || SampleError::Syntax { arg: arg.into() };
        let (name, paths) = arg.split_once('=').ok_or_else(syntax)?;
        let inputs: Vec<PathBuf> = paths
            .split(',')
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect();
        let sample = Sample {
            name: name.to_owned(),
            inputs,
        };
        check_name(&sample.name)?;
        if sample.inputs.is_empty() {
            return Err(SampleError::NoInputs { name: sample.name });
        }
        Ok(sample)
    }
}

/// Names a run folder uses for itself: a sample folder beside them would be confusing,
/// and one folder could not be both.
const RESERVED: [&str; 7] = [
    PREPARED_DIR,
    FEATURES_DIR,
    MERGED_DIR,
    SCORES_DIR,
    SUMMARY_FILE,
    FAILURES_FILE,
    MANIFEST_FILE,
];

/// A sample name is a plain folder name: letters, digits, `.`, `_` and `-`, not starting
/// with `.` (hidden, or `..`), at most [`MAX_NAME_LEN`] characters, not a name the run
/// folder uses itself.
pub fn check_name(name: &str) -> Result<(), SampleError> {
    let bad = |reason: &str| {
        Err(SampleError::BadName {
            name: name.into(),
            reason: reason.into(),
        })
    };
    if name.is_empty() {
        return bad("empty");
    }
    if name.len() > MAX_NAME_LEN {
        return bad(&format!("longer than {MAX_NAME_LEN} characters"));
    }
    if name.starts_with('.') {
        return bad("starts with '.'");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return bad(&format!(
            "{c:?} is not allowed (letters, digits, '.', '_' and '-' are)"
        ));
    }
    if RESERVED.contains(&name) {
        return bad("the run folder uses this name itself");
    }
    Ok(())
}

/// Every problem of a list of samples: bad names, names given twice, samples without
/// inputs, and no sample at all.
pub fn check_samples(samples: &[Sample]) -> Vec<SampleError> {
    let mut problems = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut repeated: Vec<&str> = Vec::new();
    for sample in samples {
        if let Err(e) = check_name(&sample.name) {
            problems.push(e);
        }
        if sample.inputs.is_empty() {
            problems.push(SampleError::NoInputs {
                name: sample.name.clone(),
            });
        }
        let name = sample.name.as_str();
        if seen.contains(&name) && !repeated.contains(&name) {
            repeated.push(name);
            problems.push(SampleError::Duplicate { name: name.into() });
        }
        seen.push(name);
    }
    problems
}

/// Where sample `name`'s run folder is.
pub fn sample_dir(out: &Path, name: &str) -> PathBuf {
    out.join(name)
}

/// Why the table across samples could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    #[error(transparent)]
    ReadSummary(#[from] ReadSummaryError),
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// Write `out/summary.tsv` from the samples' `read_summary.tsv` (those that have one, in
/// the order given); the totals written come back.
pub fn write_summary(out: &Path, samples: &[Sample]) -> Result<Vec<SampleTotals>, SummaryError> {
    let mut rows = Vec::with_capacity(samples.len());
    for sample in samples {
        let path = sample_dir(out, &sample.name).join(READ_SUMMARY_FILE);
        if !path.is_file() {
            continue;
        }
        let totals = read_summary_totals(&path)?;
        rows.push(SampleTotals::new(sample.name.clone(), path, &totals));
    }
    let text = render_samples(&rows)?;
    let path = out.join(SUMMARY_FILE);
    write_atomic(&path, text.as_bytes()).map_err(|source| ReportError::Io { path, source })?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_argument_is_a_name_and_its_paths() {
        let s: Sample = "gut_1=a/R1.fq.gz,a/R2.fq.gz".parse().unwrap();
        assert_eq!(s.name, "gut_1");
        assert_eq!(
            s.inputs,
            [PathBuf::from("a/R1.fq.gz"), PathBuf::from("a/R2.fq.gz")]
        );
        let s: Sample = "S-2.x=reads/".parse().unwrap();
        assert_eq!(s.inputs, [PathBuf::from("reads/")]);
        assert!(matches!(
            "noequals".parse::<Sample>(),
            Err(SampleError::Syntax { .. })
        ));
        assert!(matches!(
            "x=".parse::<Sample>(),
            Err(SampleError::NoInputs { .. })
        ));
        assert!(matches!(
            "=a.fq".parse::<Sample>(),
            Err(SampleError::BadName { .. })
        ));
    }

    #[test]
    fn names_are_plain_folder_names() {
        for good in ["a", "S1", "gut.day-3_b", &"x".repeat(MAX_NAME_LEN)] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "a/b",
            "a\\b",
            "a b",
            "tab\tname",
            "é",
            "prepared",
            "scores",
            "summary.tsv",
            &"x".repeat(MAX_NAME_LEN + 1),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn duplicates_are_named_once() {
        let s = |name: &str| Sample {
            name: name.into(),
            inputs: vec!["r.fa".into()],
        };
        let problems = check_samples(&[s("a"), s("b"), s("a"), s("a")]);
        assert_eq!(problems, [SampleError::Duplicate { name: "a".into() }]);
        assert!(check_samples(&[s("a"), s("b")]).is_empty());
    }
}
