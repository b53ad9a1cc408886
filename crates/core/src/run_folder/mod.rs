//! The run folder of `virnucpro predict` and the desktop app (docs/formats.md, "Run
//! folder"): one owner for its layout and for every file the run writes about itself,
//! read and written here only.
//!
//! - [`layout`]: where everything is (`prepared/`, `features/`, `merged/`, the reports);
//! - [`manifest`]: `run-manifest.json`, with its precision and state typed;
//! - [`failures`]: the run's `failures.tsv`;
//! - [`files`]: input and model files identified by content, for the manifest and resume;
//! - [`scores`]: each shard's classifier scores, what resume needs of a shard whose
//!   features were not kept;
//! - [`reports_stamp`]: `reports-inputs.json`, what the reports were made from;
//! - [`plan`]: what each stage will do on a resume, told before any work starts;
//! - [`samples`]: a run of several samples, one run folder each, and the table across them;
//! - [`lock`]: one run per folder at a time (an OS lock a killed run does not leave stale).
//!
//! The reports themselves (`prediction_results.txt`, `_highestscore.csv`,
//! `read_summary.tsv`) are `core::report`'s. No libtorch here: the engine writes through
//! these types and the shells read through them.
mod error;
pub mod failures;
pub mod files;
pub mod layout;
pub mod lock;
pub mod manifest;
pub mod plan;
pub mod reports_stamp;
pub mod samples;
pub mod scores;

pub use crate::precision::Precision;
pub use error::RunFolderError;
pub use failures::{failures_tsv, read_failures, FAILURES_HEADER};
pub use files::FileEntry;
pub use layout::RunLayout;
pub use manifest::{
    DeviceRecord, ModelLoad, ModelRecord, Models, Provenance, ReportsRecord, ReportsState,
    RunManifest, RunState, Settings, Software, StageRecord, MANIFEST_VERSION,
};
