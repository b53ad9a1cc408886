//! `reports-inputs.json`: what the reports in a run folder were made from, so that a
//! resumed run whose shard scores, classifier and settings are all unchanged keeps them
//! instead of classifying again.
//!
//! Written after the three reports are in place and removed before they are replaced, so
//! a kill at any moment leaves either a stamp that matches the reports or no stamp. The
//! reports themselves are verified by checksum before they are trusted.
use std::io;
use std::path::{Path, PathBuf};

use crate::atomic::write_atomic;
use crate::features::{checksum_file, InputChecksum};
use crate::report::{HIGHESTSCORE_FILE, RESULTS_FILE};
use serde::{Deserialize, Serialize};

use super::layout::{RunLayout, READ_SUMMARY_FILE};

/// The reports of a run and everything they depend on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportsStamp {
    /// The classifier's model id (with its content id).
    pub classifier: String,
    /// Where it ran: results can differ in the last bit between devices.
    pub device: String,
    pub length: usize,
    /// Prepare's chunked reads (the read summary lists their reads).
    pub chunked: InputChecksum,
    /// Each shard's scores file (`scores/{shard}.scores.safetensors`), in shard order.
    /// Stamps written before scores files existed list merged files here under the name
    /// `merged`: they never match a scores file, so such reports are made again once.
    #[serde(alias = "merged")]
    pub scored: Vec<InputChecksum>,
    /// The two original reports and the read summary.
    pub outputs: Vec<InputChecksum>,
    pub frames_scored: u64,
    pub virus_chunks: u64,
    pub virus_reads: u64,
}

/// What the current run would make its reports with.
pub struct Wanted<'a> {
    pub classifier: &'a str,
    pub device: &'a str,
    pub length: usize,
    pub chunked: &'a Path,
}

pub fn outputs(layout: &RunLayout) -> [PathBuf; 3] {
    [
        layout.root.join(RESULTS_FILE),
        layout.root.join(HIGHESTSCORE_FILE),
        layout.root.join(READ_SUMMARY_FILE),
    ]
}

/// The stamp of the reports in the folder, when they exist, are intact and were made with
/// the same classifier, device, read length and chunked reads. Whether the merged shards
/// are the same is for the caller to check, as they come.
pub fn reusable(layout: &RunLayout, wanted: &Wanted) -> Option<ReportsStamp> {
    let bytes = std::fs::read(layout.reports_stamp()).ok()?;
    let stamp: ReportsStamp = serde_json::from_slice(&bytes).ok()?;
    let same = stamp.classifier == wanted.classifier
        && stamp.device == wanted.device
        && stamp.length == wanted.length;
    if !same || checksum_file(wanted.chunked).ok()? != stamp.chunked {
        return None;
    }
    let intact = outputs(layout)
        .iter()
        .map(|p| checksum_file(p).ok())
        .collect::<Option<Vec<_>>>()?;
    (intact == stamp.outputs).then_some(stamp)
}

pub fn write(layout: &RunLayout, stamp: &ReportsStamp) -> io::Result<()> {
    let json = serde_json::to_vec_pretty(stamp)?;
    write_atomic(&layout.reports_stamp(), &json)
}

/// Checksums of the three reports just written.
pub fn output_checksums(layout: &RunLayout) -> io::Result<Vec<InputChecksum>> {
    outputs(layout).iter().map(|p| checksum_file(p)).collect()
}
