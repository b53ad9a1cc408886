//! Merging one pair: checksums, checkpoint check, ID matching, row copy.
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::features::{
    FeatureFile, FeatureKind, FeatureMeta, FeatureTable, FeatureWriter, InputChecksum,
};

use super::discover::{expected_names, PairSpec};
use super::ids::match_ids;
use super::report::{FailureDetails, FailureKind, PairFailure, PairOutcome, PairReport, Side};
use super::source::{Input, InputFailure, RowBuffers, Source};
use super::MergeOptions;
use crate::finite::first_non_finite;

/// Rows copied between two looks at the cancel token.
const CANCEL_CHECK_ROWS: usize = 1024;

/// Counts the pairs whose inputs are open at once, and the most there ever were.
#[derive(Default)]
pub(crate) struct Gauge {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl Gauge {
    fn enter(&self) -> InFlight<'_> {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        InFlight(self)
    }

    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

/// What the pairs of one merge share.
#[derive(Default)]
pub(crate) struct Shared {
    pub gauge: Gauge,
    pub buffers: RowBuffers,
}

struct InFlight<'a>(&'a Gauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

fn fail(kind: FailureKind, details: FailureDetails, paths: Vec<PathBuf>) -> PairFailure {
    PairFailure {
        kind,
        details,
        paths,
    }
}

fn input_failure(side: Side, path: &Path, e: InputFailure) -> PairFailure {
    fail(
        e.kind,
        FailureDetails::Input {
            side,
            reason: e.reason,
        },
        vec![path.to_path_buf()],
    )
}

fn cancelled(paths: Vec<PathBuf>) -> PairFailure {
    fail(FailureKind::Cancelled, FailureDetails::Cancelled, paths)
}

/// The single input of `side`, or why there is not exactly one.
fn single_input(spec: &PairSpec, side: Side) -> Result<&Path, PairFailure> {
    match spec.inputs(side) {
        [one] => Ok(one),
        [] => Err(fail(
            FailureKind::MissingInput { side },
            FailureDetails::MissingPartner {
                expected: expected_names(&spec.shard, side),
            },
            spec.inputs(side.other()).to_vec(),
        )),
        many => Err(fail(
            FailureKind::AmbiguousInput { side },
            FailureDetails::Ambiguous,
            many.to_vec(),
        )),
    }
}

/// Merge one pair. Never panics on bad input; every way it can end is in the report.
pub(crate) fn merge_pair(spec: &PairSpec, opts: &MergeOptions, shared: &Shared) -> PairReport {
    let mut report = PairReport {
        shard: spec.shard.clone(),
        nucleotide: spec.nucleotide.clone(),
        protein: spec.protein.clone(),
        output: spec.output.clone(),
        outcome: PairOutcome::Merged { rows: 0 },
        bytes_in: 0,
        bytes_out: 0,
    };
    report.outcome = match run(spec, opts, shared, &mut report) {
        Ok(outcome) => outcome,
        Err(failure) => {
            tracing::warn!(shard = %spec.shard, kind = %failure.kind, "{failure}");
            PairOutcome::Failed(failure)
        }
    };
    report
}

fn run(
    spec: &PairSpec,
    opts: &MergeOptions,
    shared: &Shared,
    report: &mut PairReport,
) -> Result<PairOutcome, PairFailure> {
    if opts.cancel.is_cancelled() {
        return Err(cancelled(Vec::new()));
    }
    let nuc_path = single_input(spec, Side::Nucleotide)?;
    let prot_path = single_input(spec, Side::Protein)?;
    // Each input is opened once (see `Input`): feature files are mapped, hashed for the
    // checkpoint and read through the same map; `.pt` files are hashed as they are decoded.
    let _in_flight = shared.gauge.enter();
    let open = |side, path: &Path| Input::open(path).map_err(|e| unreadable(side, path, e));
    let mut nuc = open(Side::Nucleotide, nuc_path)?;
    let mut prot = open(Side::Protein, prot_path)?;
    report.bytes_in = nuc.bytes() + prot.bytes();

    let existing = existing_for(
        &spec.output,
        [(&mut nuc, Side::Nucleotide), (&mut prot, Side::Protein)],
    )?;
    if let Existing::UpToDate { rows } = existing {
        tracing::info!(shard = %spec.shard, rows, "up to date, skipped");
        return Ok(PairOutcome::Skipped { rows });
    }
    let result = write_merged(spec, opts, (nuc, prot), &shared.buffers);
    match result {
        Ok((rows, bytes)) => {
            report.bytes_out = bytes;
            tracing::info!(shard = %spec.shard, rows, "merged");
            Ok(PairOutcome::Merged { rows })
        }
        Err(failure) => {
            // Never leave an output that does not belong to the current inputs.
            if existing == Existing::Stale {
                if let Err(e) = std::fs::remove_file(&spec.output) {
                    tracing::warn!(path = %spec.output.display(), "cannot remove stale output: {e}");
                }
            }
            Err(failure)
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Existing {
    /// No file at the output path (or something that is not a file, left to the writer).
    Absent,
    /// A valid merged file made from exactly the current inputs.
    UpToDate { rows: usize },
    /// A file made from other inputs, or not a valid merged file.
    Stale,
}

fn unreadable(side: Side, path: &Path, e: std::io::Error) -> PairFailure {
    input_failure(side, path, InputFailure::unreadable(path, e))
}

/// What is at the output path for these inputs. Only an output already there can be up to
/// date, and only its inputs' checksums can tell: they are taken now, before the inputs
/// are read. Without one, a `.pt` input is hashed as it is decoded, not read twice.
fn existing_for(output: &Path, inputs: [(&mut Input, Side); 2]) -> Result<Existing, PairFailure> {
    // Something that is not a file is left to the writer.
    if !std::fs::symlink_metadata(output).is_ok_and(|meta| meta.is_file()) {
        return Ok(Existing::Absent);
    }
    let mut checksums = Vec::with_capacity(inputs.len());
    for (input, side) in inputs {
        let checksum = input.checksum_now();
        checksums.push(checksum.map_err(|e| unreadable(side, input.path(), e))?);
    }
    Ok(existing_output(output, &checksums))
}

/// What the file at the output path is to `inputs`.
fn existing_output(output: &Path, inputs: &[InputChecksum]) -> Existing {
    match FeatureFile::validate_header(output) {
        Ok(h) if h.meta.kind == FeatureKind::Merged && h.meta.inputs == inputs => {
            // Same inputs; the data itself must also be what was written (a file damaged
            // after the merge is merged again, as `predict` does).
            match FeatureFile::open(output).and_then(|file| file.verify_data()) {
                Ok(_) => Existing::UpToDate { rows: h.rows },
                Err(e) => {
                    tracing::info!("output is damaged, redoing: {e}");
                    Existing::Stale
                }
            }
        }
        Ok(_) => {
            tracing::info!(path = %output.display(), "output is stale, redoing");
            Existing::Stale
        }
        Err(e) => {
            tracing::info!("output is invalid, redoing: {e}");
            Existing::Stale
        }
    }
}

fn write_merged(
    spec: &PairSpec,
    opts: &MergeOptions,
    (nuc_file, prot_file): (Input, Input),
    buffers: &RowBuffers,
) -> Result<(usize, u64), PairFailure> {
    let (nuc_path, prot_path) = (
        nuc_file.path().to_path_buf(),
        prot_file.path().to_path_buf(),
    );
    let (nuc, nuc_checksum) = Source::open(nuc_file, Side::Nucleotide, buffers)
        .map_err(|e| input_failure(Side::Nucleotide, &nuc_path, e))?;
    let (prot, prot_checksum) = Source::open(prot_file, Side::Protein, buffers)
        .map_err(|e| input_failure(Side::Protein, &prot_path, e))?;
    let meta = merged_meta(&nuc, &prot, vec![nuc_checksum, prot_checksum]);
    let output_failure = |e: crate::features::FeatureError| {
        fail(
            FailureKind::OutputWrite,
            FailureDetails::Output {
                reason: e.to_string(),
                disk_full: crate::disk::disk_full_errno(&e),
            },
            vec![spec.output.clone()],
        )
    };
    let mut writer = FeatureWriter::create(&spec.output, &meta).map_err(output_failure)?;
    let merged = merge_rows((&nuc, &nuc_path), (&prot, &prot_path), opts, &mut |parts| {
        writer.write_row_parts(parts).map_err(output_failure)
    });
    buffers.give_back(Side::Nucleotide, nuc);
    buffers.give_back(Side::Protein, prot);
    merged?;
    let bytes = writer.finish().map_err(output_failure)?;
    Ok((meta.ids.len(), bytes))
}

/// A merged file's metadata: the nucleotide side's IDs, both widths side by side.
fn merged_meta(nuc: &Source, prot: &Source, inputs: Vec<InputChecksum>) -> FeatureMeta {
    FeatureMeta {
        kind: FeatureKind::Merged,
        model: format!("{} + {}", nuc.model(), prot.model()),
        dim: nuc.dim() + prot.dim(),
        ids: nuc.ids().to_vec(),
        inputs,
    }
}

/// Takes a merged row as its parts: nucleotide values, then protein values.
type PushRow<'a> = dyn FnMut(&[&[f32]]) -> Result<(), PairFailure> + 'a;

/// Match the IDs of both sides and hand each merged row, in the nucleotide side's order,
/// to `push` as its two parts (nucleotide values, then protein values), each where it
/// already is when its side holds its rows in memory; a non-finite value anywhere fails
/// the pair, naming its side, row and column. `paths` name the sides in messages.
fn merge_rows(
    (nuc, nuc_path): (&Source, &Path),
    (prot, prot_path): (&Source, &Path),
    opts: &MergeOptions,
    push: &mut PushRow,
) -> Result<(), PairFailure> {
    let both = || vec![nuc_path.to_path_buf(), prot_path.to_path_buf()];
    let index = match_ids(nuc.ids(), prot.ids(), opts.max_id_examples)
        .map_err(|ids| fail(FailureKind::IdMismatch, FailureDetails::Ids(ids), both()))?;
    // Rows of feature files are decoded here; rows in memory are not copied.
    let (mut scratch_n, mut scratch_p) = (vec![0f32; nuc.dim()], vec![0f32; prot.dim()]);
    // Rows the legacy reader checked are not looked at again.
    let check = |source: &Source| !source.known_finite();
    let (check_n, check_p) = (check(nuc), check(prot));
    let non_finite = |check: bool, row: &[f32]| check.then(|| first_non_finite(row)).flatten();
    for (i, id) in nuc.ids().iter().enumerate() {
        if i % CANCEL_CHECK_ROWS == 0 && opts.cancel.is_cancelled() {
            return Err(cancelled(both()));
        }
        let j = index[id.as_str()];
        let n = row_of(nuc, i, &mut scratch_n);
        let p = row_of(prot, j, &mut scratch_p);
        let bad = match (non_finite(check_n, n), non_finite(check_p, p)) {
            (Some(column), _) => Some((Side::Nucleotide, nuc_path, i, column)),
            (None, Some(column)) => Some((Side::Protein, prot_path, j, column)),
            (None, None) => None,
        };
        if let Some((side, path, row, column)) = bad {
            return Err(fail(
                FailureKind::Corrupt,
                FailureDetails::NonFinite {
                    side,
                    id: id.clone(),
                    row,
                    column,
                },
                vec![path.to_path_buf()],
            ));
        }
        push(&[n, p])?;
    }
    Ok(())
}

/// Row `row` of `source`: where it is, or decoded into `scratch`.
fn row_of<'a>(source: &'a Source, row: usize, scratch: &'a mut [f32]) -> &'a [f32] {
    match source.row(row) {
        Some(values) => values,
        None => {
            source.row_into(row, scratch);
            scratch
        }
    }
}

/// Merge two tables held in memory into a merged table, with the same checks as a merge of
/// files (IDs, non-finite values, cancellation). `origins` are the files the two tables
/// were embedded from, named in failures; the merged table's inputs are both tables'.
pub(crate) fn merge_tables(
    nucleotide: Arc<FeatureTable>,
    protein: Arc<FeatureTable>,
    origins: [&Path; 2],
    opts: &MergeOptions,
) -> Result<FeatureTable, PairFailure> {
    if opts.cancel.is_cancelled() {
        return Err(cancelled(Vec::new()));
    }
    let inputs = nucleotide
        .meta
        .inputs
        .iter()
        .chain(&protein.meta.inputs)
        .cloned()
        .collect();
    let (nuc, prot) = (Source::Table(nucleotide), Source::Table(protein));
    let meta = merged_meta(&nuc, &prot, inputs);
    let mut rows = Vec::with_capacity(meta.ids.len() * meta.dim);
    let [nuc_path, prot_path] = origins;
    merge_rows((&nuc, nuc_path), (&prot, prot_path), opts, &mut |parts| {
        parts.iter().for_each(|part| rows.extend_from_slice(part));
        Ok(())
    })?;
    Ok(FeatureTable { meta, rows })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::write_features;

    fn side(dir: &Path, kind: FeatureKind, rows: usize, dim: usize) -> PathBuf {
        let path = dir.join(kind.file_name("output_1"));
        let meta = FeatureMeta {
            kind,
            model: "m".into(),
            dim,
            ids: (0..rows).map(|i| format!("r{i}")).collect(),
            inputs: vec![],
        };
        write_features(&path, &meta, &vec![0.25; rows * dim]).unwrap();
        path
    }

    #[test]
    fn cancellation_inside_a_pair_leaves_no_output() {
        let dir = tempfile::tempdir().unwrap();
        let nuc = side(
            dir.path(),
            FeatureKind::Nucleotide,
            3 * CANCEL_CHECK_ROWS,
            2,
        );
        let prot = side(dir.path(), FeatureKind::Protein, 3 * CANCEL_CHECK_ROWS, 3);
        let spec = PairSpec {
            shard: "output_1".into(),
            nucleotide: vec![nuc.clone()],
            protein: vec![prot.clone()],
            output: dir.path().join("output_1.merged.safetensors"),
        };
        let opts = MergeOptions::default();
        opts.cancel.cancel();
        let (nuc, prot) = (Input::open(&nuc).unwrap(), Input::open(&prot).unwrap());
        // Past the check at the start of the pair: the row loop must notice on its own.
        let buffers = RowBuffers::default();
        let failure = write_merged(&spec, &opts, (nuc, prot), &buffers).unwrap_err();
        assert_eq!(failure.kind, FailureKind::Cancelled);
        assert!(!spec.output.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn tables_in_memory_merge_to_the_rows_of_a_file_merge() {
        let dir = tempfile::tempdir().unwrap();
        let table = |kind, dim: usize, ids: &[&str], base: f32| FeatureTable {
            meta: FeatureMeta {
                kind,
                model: format!("{kind}"),
                dim,
                ids: ids.iter().map(|s| s.to_string()).collect(),
                inputs: vec![],
            },
            rows: (0..ids.len() * dim)
                .map(|i| base + i as f32 / 7.0)
                .collect(),
        };
        // The protein side in another order: rows are matched by ID.
        let nuc = table(FeatureKind::Nucleotide, 2, &["a", "b", "c"], 1.0);
        let prot = table(FeatureKind::Protein, 3, &["c", "a", "b"], -4.0);
        let paths = [FeatureKind::Nucleotide, FeatureKind::Protein]
            .map(|k| dir.path().join(k.file_name("output_0")));
        write_features(&paths[0], &nuc.meta, &nuc.rows).unwrap();
        write_features(&paths[1], &prot.meta, &prot.rows).unwrap();
        let spec = PairSpec {
            shard: "output_0".into(),
            nucleotide: vec![paths[0].clone()],
            protein: vec![paths[1].clone()],
            output: dir.path().join("output_0.merged.safetensors"),
        };
        let report = merge_pair(&spec, &MergeOptions::default(), &Shared::default());
        assert!(matches!(report.outcome, PairOutcome::Merged { rows: 3 }));
        let file = FeatureFile::open(&spec.output).unwrap();

        let origins = [paths[0].as_path(), paths[1].as_path()];
        let opts = MergeOptions::default();
        let merged = merge_tables(Arc::new(nuc), Arc::new(prot.clone()), origins, &opts).unwrap();
        assert_eq!(merged.meta.ids, file.ids());
        assert_eq!(merged.meta.dim, 5);
        assert_eq!(merged.rows, file.to_vec());

        // The same checks: a non-finite value names its side, row and column.
        let mut bad = prot;
        bad.rows[4] = f32::NAN;
        let nuc = table(FeatureKind::Nucleotide, 2, &["a", "b", "c"], 1.0);
        let err = merge_tables(Arc::new(nuc), Arc::new(bad), origins, &opts).unwrap_err();
        assert_eq!(err.kind, FailureKind::Corrupt);
        assert_eq!(err.paths, vec![paths[1].clone()]);
    }
}
