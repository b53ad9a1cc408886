//! The free-space check before a run: the run's peak disk use is estimated from its
//! inputs (`core::disk`) at the loaded models' widths, less what an earlier run in the
//! folder already wrote and this one reuses, and compared with the free space of the
//! folder's disk. Off with `RunSpec::space_check = false` (`--no-space-check`).
use std::path::Path;

use virnucpro_core::disk::{
    available_space, estimate_run, EstimateSettings, PreparedLife, SpaceEstimate, Widths,
};
use virnucpro_core::run_folder::layout::RunLayout;

use super::{RunError, ValidatedRun};

/// How long prepared shards stay. Today a run keeps them in `prepared/`; when a run
/// deletes a scored shard's files, this becomes `DeletedWhenScored`.
const PREPARED_LIFE: PreparedLife = PreparedLife::Kept;

/// The run's estimate at its models' widths; `None` when an input cannot be sampled (the
/// run then says what is wrong with it).
pub(super) fn estimate(run: &ValidatedRun) -> Option<SpaceEstimate> {
    let spec = &run.spec;
    let widths = match (run.dnabert.dim, run.esm.dim) {
        (Some(dna), Some(protein)) => Widths { dna, protein },
        _ => Widths::RELEASED,
    };
    let settings = EstimateSettings {
        shard_size: spec.shard_size,
        keep_features: spec.keep_features,
        widths,
        prepared: PREPARED_LIFE,
    };
    match estimate_run(&run.inputs, spec.length, &settings) {
        Ok(estimate) => Some(estimate),
        Err(e) => {
            tracing::warn!("the run's size cannot be estimated: {e}");
            None
        }
    }
}

/// Refuse the run when its estimated peak, less what the folder already holds of it, is
/// more than the free space of the folder's disk.
pub(super) fn check_space(run: &ValidatedRun) -> Result<(), RunError> {
    if !run.spec.space_check {
        return Ok(());
    }
    let Some(estimate) = estimate(run) else {
        return Ok(());
    };
    let out = &run.spec.out_dir;
    let needed = estimate
        .peak
        .saturating_sub(already_written(out, &estimate));
    let (_, available) = available_space(out).map_err(super::io_error(out))?;
    tracing::info!(
        peak = estimate.peak,
        after = estimate.after,
        needed,
        available,
        "disk space"
    );
    if needed > available {
        return Err(RunError::NoSpace {
            folder: out.clone(),
            needed,
            available,
        });
    }
    Ok(())
}

/// Bytes on disk of the outputs an earlier run left in `out` that count toward this run's
/// estimate (each folder at most its term: a resume reuses or replaces them in place).
/// Earlier reports are not counted: they stay until this run's reports replace them.
fn already_written(out: &Path, estimate: &SpaceEstimate) -> u64 {
    let layout = RunLayout::new(out);
    let parts = &estimate.parts;
    [
        (
            layout.prepared(),
            parts.reads_chunked + parts.prepared_at_peak,
        ),
        (layout.features(), parts.features),
        (layout.merged(), parts.merged),
        (layout.scores(), parts.scores),
    ]
    .into_iter()
    .map(|(dir, term)| disk_use(&dir).min(term))
    .sum()
}

/// Bytes allocated to the files under `dir` (0 when it does not exist).
pub(super) fn disk_use(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => disk_use(&entry.path()),
            Ok(meta) => meta.blocks() * 512,
            Err(_) => 0,
        })
        .sum()
}
