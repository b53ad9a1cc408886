//! Where a run keeps everything inside its output folder (docs/formats.md, "Run folder").
use std::path::{Path, PathBuf};

use crate::features::FeatureKind;

/// `prepare` output: `nucleotide/`, `protein/`, `reads_chunked{L}.fa`, `prepare.json`.
pub const PREPARED_DIR: &str = "prepared";
/// Written after a complete prepare: the inputs (by checksum) and settings it was made from.
pub const PREPARED_STAMP: &str = "run-inputs.json";
/// `{shard}.nucleotide.safetensors` and `{shard}.protein.safetensors`.
pub const FEATURES_DIR: &str = "features";
/// `{shard}.merged.safetensors`.
pub const MERGED_DIR: &str = "merged";
/// `{shard}.scores.safetensors`: each shard's classifier scores (`run_folder::scores`).
pub const SCORES_DIR: &str = "scores";
/// One row per input read: chunks, frames, best virus score, call.
pub use crate::report::READ_SUMMARY_FILE;
/// Every failed item: stage, item, kind, message.
pub const FAILURES_FILE: &str = "failures.tsv";
/// What was run, with what, and how it went.
pub const MANIFEST_FILE: &str = "run-manifest.json";
/// What the reports were made from (merged shards, classifier, settings), so that an
/// unchanged resume keeps them.
pub const REPORTS_STAMP: &str = "reports-inputs.json";

/// Where the classify stage writes the reports until the run decides where they go
/// (`prediction_results.txt` etc., or their `.partial` names beside earlier reports).
pub const REPORTS_STAGING: &str = ".reports-new";

/// The paths of one run folder.
#[derive(Debug, Clone)]
pub struct RunLayout {
    pub root: PathBuf,
}

impl RunLayout {
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    pub fn prepared(&self) -> PathBuf {
        self.root.join(PREPARED_DIR)
    }

    pub fn prepared_stamp(&self) -> PathBuf {
        self.prepared().join(PREPARED_STAMP)
    }

    pub fn features(&self) -> PathBuf {
        self.root.join(FEATURES_DIR)
    }

    pub fn merged(&self) -> PathBuf {
        self.root.join(MERGED_DIR)
    }

    pub fn scores(&self) -> PathBuf {
        self.root.join(SCORES_DIR)
    }

    pub fn feature_file(&self, shard: &str, kind: FeatureKind) -> PathBuf {
        let dir = match kind {
            FeatureKind::Merged => self.merged(),
            FeatureKind::Scores => self.scores(),
            _ => self.features(),
        };
        dir.join(kind.file_name(shard))
    }

    pub fn manifest(&self) -> PathBuf {
        self.root.join(MANIFEST_FILE)
    }

    pub fn failures(&self) -> PathBuf {
        self.root.join(FAILURES_FILE)
    }

    pub fn read_summary(&self) -> PathBuf {
        self.root.join(READ_SUMMARY_FILE)
    }

    pub fn reports_stamp(&self) -> PathBuf {
        self.root.join(REPORTS_STAMP)
    }

    pub fn reports_staging(&self) -> PathBuf {
        self.root.join(REPORTS_STAGING)
    }

    /// The files a user reads at the top of the folder, in the order a summary lists them:
    /// the two original reports, `read_summary.tsv`, `failures.tsv`, `run-manifest.json`.
    pub fn result_files(&self) -> [PathBuf; 5] {
        [
            self.root.join(crate::report::RESULTS_FILE),
            self.root.join(crate::report::HIGHESTSCORE_FILE),
            self.read_summary(),
            self.failures(),
            self.manifest(),
        ]
    }
}
