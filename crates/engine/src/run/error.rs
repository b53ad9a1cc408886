//! Errors that stop a run (a failure of one shard does not: it is an `ItemFailure`).
//!
//! A write that fails because the disk is full becomes [`RunError::DiskFull`] wherever it
//! happens: every conversion into a `RunError` here looks for `ENOSPC`/`EDQUOT` in the
//! error's sources (`core::disk::is_disk_full`), and [`RunError::disk_full`] does the same
//! for an error already made.
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use virnucpro_core::disk::{disk_full_source, is_disk_full};
use virnucpro_core::merge::MergeError;
use virnucpro_core::prepare::PrepareError;
use virnucpro_core::report::ReportError;
use virnucpro_core::run_folder::layout::{
    FEATURES_DIR, MANIFEST_FILE, MERGED_DIR, PREPARED_DIR, REPORTS_STAGING, SCORES_DIR,
};
use virnucpro_core::run_folder::lock::RunLockError;
use virnucpro_models::fetch::human_bytes;

use super::spec::SpecProblem;
use crate::classifier::ClassifierError;
use crate::embed::EmbedError;

/// Errors that stop a run. Failures of single shards do not: they are listed in
/// `failures.tsv` and the run goes on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the run settings have {} problem(s):\n{}", .0.len(), problem_lines(.0))]
    Invalid(Vec<SpecProblem>),
    /// The run's estimated peak does not fit in the free space of its folder's disk
    /// (checked before any work unless `space_check` is off: `--no-space-check`).
    #[error(
        "not enough free space for the run in {}: it needs about {} more and {} are free; \
         free space or choose another output folder (or start anyway with --no-space-check)",
        folder.display(), human_bytes(*needed), human_bytes(*available)
    )]
    NoSpace {
        folder: PathBuf,
        /// Bytes the run is estimated to add at its peak (what it wrote before is counted).
        needed: u64,
        /// Free bytes on the folder's disk.
        available: u64,
    },
    /// The disk filled while the run wrote `path`. Nothing is left under a final name
    /// half-written, and the run resumes once there is space.
    #[error(
        "the disk holding {} is full while writing {writing} ({}); free space and run \
         again: the run resumes",
        folder.display(), path.display()
    )]
    DiskFull {
        /// The run folder (the folder of `path` when it is not under one).
        folder: PathBuf,
        writing: Writing,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Prepare(PrepareError),
    #[error(transparent)]
    Embed(EmbedError),
    #[error(transparent)]
    Merge(MergeError),
    /// The classifier could not be loaded on the classify device.
    #[error(transparent)]
    Classifier(#[from] ClassifierError),
    #[error(transparent)]
    Report(ReportError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Another run holds the output folder.
    #[error(transparent)]
    FolderBusy(#[from] RunLockError),
    #[error("internal error: {0}")]
    Worker(String),
}

/// What a run was writing when the disk filled, from where the file is in the run folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Writing {
    /// `prepared/`: the chunked reads and the shards.
    Prepared,
    /// `features/`: DNABERT-S and ESM-2 feature files.
    Features,
    /// `merged/`: merged feature files.
    Merged,
    /// `scores/`: the shards' scores.
    Scores,
    /// The reports.
    Reports,
    /// The run's own records (manifest, stamps, failure list).
    RunRecords,
}

impl fmt::Display for Writing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Prepared => "the prepared reads",
            Self::Features => "the feature files",
            Self::Merged => "the merged feature files",
            Self::Scores => "the shards' scores",
            Self::Reports => "the reports",
            Self::RunRecords => "the run's records",
        })
    }
}

impl RunError {
    /// A disk-full error for writing `path`; the run folder and what was written are told
    /// from where `path` is.
    pub fn disk_full_at(path: &Path, source: io::Error) -> Self {
        let (folder, writing) = locate(path);
        Self::DiskFull {
            folder,
            writing,
            path: path.to_path_buf(),
            source,
        }
    }

    /// This error as [`RunError::DiskFull`] when one of its sources says the disk is full
    /// (for errors made before this check: an `Io` built in place, a shard's write).
    pub fn disk_full(self) -> Self {
        if matches!(self, Self::DiskFull { .. }) {
            return self;
        }
        let full = disk_full_source(&self).map(|e| match e.raw_os_error() {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::from(e.kind()),
        });
        match (full, self.path()) {
            (Some(source), Some(path)) => Self::disk_full_at(&path, source),
            _ => self,
        }
    }

    /// The file an error is about, where it names one.
    fn path(&self) -> Option<PathBuf> {
        match self {
            Self::Io { path, .. }
            | Self::Prepare(PrepareError::Output { path, .. })
            | Self::Report(ReportError::Io { path, .. })
            | Self::Embed(EmbedError::Output { path, .. })
            | Self::Merge(MergeError::OutDir { path, .. } | MergeError::ReadDir { path, .. }) => {
                Some(path.clone())
            }
            _ => None,
        }
    }
}

/// The run folder's own sub-folders.
const RUN_DIRS: [&str; 5] = [
    PREPARED_DIR,
    FEATURES_DIR,
    MERGED_DIR,
    SCORES_DIR,
    REPORTS_STAGING,
];

/// The run folder holding `path` (the nearest folder above it with a run manifest, else
/// the one above a folder named as the run's are, else its own folder) and what the file
/// is, from the run folder's layout.
fn locate(path: &Path) -> (PathBuf, Writing) {
    let above_run_dir = || {
        path.ancestors()
            .skip(1)
            .find(|dir| {
                dir.file_name()
                    .is_some_and(|n| RUN_DIRS.iter().any(|d| n == *d))
            })
            .and_then(Path::parent)
    };
    let folder = path
        .ancestors()
        .skip(1)
        .find(|dir| dir.join(MANIFEST_FILE).is_file())
        .or_else(above_run_dir)
        .or_else(|| path.parent())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let top = path
        .strip_prefix(&folder)
        .ok()
        .and_then(|rest| rest.components().next())
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    let writing = match top.as_str() {
        PREPARED_DIR => Writing::Prepared,
        FEATURES_DIR => Writing::Features,
        MERGED_DIR => Writing::Merged,
        SCORES_DIR => Writing::Scores,
        REPORTS_STAGING => Writing::Reports,
        name if name.starts_with("prediction_results")
            || name.starts_with("read_summary")
            || name.starts_with("pair_summary") =>
        {
            Writing::Reports
        }
        _ => Writing::RunRecords,
    };
    (folder, writing)
}

/// `RunError::$variant(err)`, or [`RunError::DiskFull`] when the disk is full.
macro_rules! from_checking_disk_full {
    ($($source:ty => $variant:ident),* $(,)?) => {$(
        impl From<$source> for RunError {
            fn from(err: $source) -> Self {
                RunError::$variant(err).disk_full()
            }
        }
    )*};
}

from_checking_disk_full!(
    PrepareError => Prepare,
    EmbedError => Embed,
    MergeError => Merge,
    ReportError => Report,
);

fn problem_lines(problems: &[SpecProblem]) -> String {
    let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
    lines.join("\n")
}

pub(super) fn io_error(path: &Path) -> impl FnOnce(io::Error) -> RunError + '_ {
    move |source| {
        if is_disk_full(&source) {
            RunError::disk_full_at(path, source)
        } else {
            RunError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enospc() -> io::Error {
        io::Error::from_raw_os_error(28)
    }

    #[test]
    fn a_full_disk_while_preparing_names_the_run_folder_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MANIFEST_FILE), b"{}").unwrap();
        let path = dir.path().join("prepared/.staging/nucleotide/output_3.fa");
        let err = RunError::from(PrepareError::Output {
            path: path.clone(),
            source: enospc(),
        });
        let RunError::DiskFull {
            folder, writing, ..
        } = &err
        else {
            panic!("not a disk-full error: {err}");
        };
        assert_eq!(
            (folder.as_path(), *writing),
            (dir.path(), Writing::Prepared)
        );
        let message = err.to_string();
        assert!(message.contains(&format!(
            "the disk holding {} is full",
            dir.path().display()
        )));
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("the run resumes"), "{message}");
    }

    /// Every report, under its usual name or a partial run's, is a report being written.
    #[test]
    fn a_full_disk_while_writing_any_report_says_reports() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MANIFEST_FILE), b"{}").unwrap();
        for name in [
            "prediction_results.txt",
            "prediction_results_highestscore.partial.csv",
            "read_summary.tsv",
            "read_summary.partial.tsv",
            "pair_summary.tsv",
            "pair_summary.partial.tsv",
        ] {
            let (folder, writing) = locate(&dir.path().join(name));
            assert_eq!(
                (folder.as_path(), writing),
                (dir.path(), Writing::Reports),
                "{name}"
            );
        }
        let (_, writing) = locate(&dir.path().join("run-manifest.json"));
        assert_eq!(writing, Writing::RunRecords);
    }

    #[test]
    fn other_errors_stay_what_they_are() {
        let err = RunError::from(PrepareError::Output {
            path: "x".into(),
            source: io::Error::from_raw_os_error(13),
        });
        assert!(matches!(err, RunError::Prepare(_)));
        let io = RunError::Io {
            path: "/out/features/output_1.nucleotide.safetensors".into(),
            source: enospc(),
        };
        assert!(matches!(
            io.disk_full(),
            RunError::DiskFull {
                writing: Writing::Features,
                ..
            }
        ));
    }

    #[test]
    fn no_space_says_both_numbers_and_the_way_around_it() {
        let err = RunError::NoSpace {
            folder: "/out".into(),
            needed: 12_300_000_000,
            available: 4_000_000_000,
        };
        let message = err.to_string();
        for part in ["/out", "12.3 GB", "4.0 GB", "--no-space-check"] {
            assert!(message.contains(part), "{message}");
        }
    }
}
