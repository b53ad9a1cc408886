//! The prepare stage of a run: reuse a verified earlier prepare, or redo it.
//!
//! A prepare is trusted only when `prepare.json` (written last by prepare) and our stamp
//! `run-inputs.json` (written after it, naming the inputs by content and the settings)
//! both exist and match, and every shard file is there. The stamp is removed before a
//! prepare starts, so a kill at any moment leaves either a trusted pair or no stamp.
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use virnucpro_core::atomic::write_atomic;
use virnucpro_core::pairs::{plan_units, Pairing};
use virnucpro_core::prepare::{
    prepare_streaming, PrepareError, PrepareOptions, StagedShard, MANIFEST_FILE,
};
use virnucpro_core::CancelToken;

use super::RunError;
use virnucpro_core::run_folder::files::FileEntry;
use virnucpro_core::run_folder::layout::RunLayout;

pub use virnucpro_core::prepare::{PreparedRecord, ShardInfo};

/// The inputs (by content, in order) and settings a prepare was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    length: usize,
    shard_size: usize,
    /// `(xxh3, bytes)` of each input file: moving or renaming inputs keeps the prepare.
    inputs: Vec<(String, u64)>,
    /// The inputs read as pairs, `(R1, R2)` by their place in `inputs`; none in stamps
    /// of versions before paired reads (which read every file on its own).
    #[serde(default)]
    pairs: Vec<(usize, usize)>,
}

impl Stamp {
    fn new(
        length: usize,
        shard_size: usize,
        inputs: &[FileEntry],
        pairs: Vec<(usize, usize)>,
    ) -> Self {
        Self {
            length,
            shard_size,
            inputs: inputs.iter().map(|i| (i.xxh3.clone(), i.bytes)).collect(),
            pairs,
        }
    }
}

/// The pairs `pairing` makes of the run's input files, by their place among them.
fn input_pairs(inputs: &[FileEntry], pairing: &Pairing) -> Result<Vec<(usize, usize)>, RunError> {
    let paths: Vec<PathBuf> = inputs.iter().map(|i| i.path.clone()).collect();
    let plan = plan_units(&paths, pairing).map_err(|e| PrepareError::Input(e.into()))?;
    Ok(plan.pairs())
}

/// Whether the prepared folder can be reused; `Err` says why not, for the user.
pub fn check_prepared(
    layout: &RunLayout,
    (length, shard_size, pairing): (usize, usize, &Pairing),
    inputs: &[FileEntry],
) -> Result<PreparedRecord, String> {
    let dir = layout.prepared();
    let record = PreparedRecord::read(&dir)
        .map_err(|_| "the reads have not been prepared in this folder yet".to_string())?;
    let stamp: Stamp = read_json(&layout.prepared_stamp())
        .ok_or_else(|| "the earlier run stopped before its reads were prepared".to_string())?;
    let pairs = input_pairs(inputs, pairing).map_err(|e| e.to_string())?;
    let wanted = Stamp::new(length, shard_size, inputs, pairs);
    if stamp.length != length {
        return Err(format!(
            "the read length changed ({} → {length})",
            stamp.length
        ));
    }
    if stamp.shard_size != shard_size {
        return Err("the shard size changed".into());
    }
    if stamp.pairs != wanted.pairs && stamp.inputs == wanted.inputs {
        return Err("the read pairing changed".into());
    }
    if stamp != wanted || record.chunk_len != length {
        return Err("the input reads changed".into());
    }
    let missing = std::iter::once(&record.chunked)
        .chain(
            record
                .shards
                .iter()
                .flat_map(|s| [&s.nucleotide, &s.protein]),
        )
        .find(|p| !dir.join(p).is_file());
    if let Some(path) = missing {
        return Err(format!(
            "a prepared file is missing ({})",
            dir.join(path).display()
        ));
    }
    Ok(record)
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// What a finished prepare hands the run.
pub struct Prepared {
    pub record: PreparedRecord,
    /// Records skipped and other warnings, for the user.
    pub warnings: Vec<String>,
}

/// Run prepare into the prepared folder and stamp it; each shard is announced with the
/// folder it can be read from while prepare goes on. `None` when cancelled.
pub fn run_prepare(
    layout: &RunLayout,
    (inputs, pairing): (&[PathBuf], &Pairing),
    entries: &[FileEntry],
    (length, shard_size, threads): (usize, usize, usize),
    cancel: &CancelToken,
    progress: &mut dyn FnMut(u64),
    on_shard: &mut dyn FnMut(StagedShard),
) -> Result<Option<Prepared>, RunError> {
    let dir = layout.prepared();
    let stamp_path = layout.prepared_stamp();
    match std::fs::remove_file(&stamp_path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(RunError::Io {
                path: stamp_path,
                source,
            })
        }
    }
    let options = PrepareOptions {
        chunk_len: length,
        shard_size,
        threads,
        pairing: pairing.clone(),
        cancel: cancel.clone(),
        ..PrepareOptions::default()
    };
    let summary = prepare_streaming(inputs, &dir, &options, &mut |p| progress(p.reads), on_shard);
    let summary = match summary {
        Ok(s) => s,
        Err(PrepareError::Cancelled) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    progress(summary.reads);
    let warnings = summary
        .skipped
        .iter()
        .map(|issue| format!("skipped {issue}"))
        .chain(summary.warnings.iter().cloned())
        .collect();
    let stamp = Stamp::new(length, shard_size, entries, input_pairs(entries, pairing)?);
    let json = serde_json::to_vec_pretty(&stamp).map_err(|e| RunError::Io {
        path: stamp_path.clone(),
        source: e.into(),
    })?;
    write_atomic(&stamp_path, &json).map_err(|source| RunError::Io {
        path: stamp_path.clone(),
        source,
    })?;
    let record = PreparedRecord::read(&dir).map_err(|e| RunError::Io {
        path: dir.join(MANIFEST_FILE),
        source: std::io::Error::other(format!("unreadable right after prepare: {e}")),
    })?;
    Ok(Some(Prepared { record, warnings }))
}
