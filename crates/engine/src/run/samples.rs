//! A run of several samples (`--sample NAME=PATH[,PATH]`, the desktop's samples): each
//! sample is an ordinary run in its own folder, `out/NAME/` (resumable on its own, with its
//! own reports, manifest and failures), one after the other with the same validated
//! settings; the models are loaded once for all of them ([`KeepLoaded`]); at the end
//! `out/summary.tsv` has one line per sample.
//!
//! A sample that fails does not stop the others: its error is in its outcome and the run
//! goes on with the next sample. A cancel stops the run at the current sample's next
//! boundary; the samples not started are left as they are.
use std::path::{Path, PathBuf};

use virnucpro_core::events::{RunEvent, RunStatus};
use virnucpro_core::fasta::discover_inputs;
use virnucpro_core::run_folder::lock::{describe_this_process, lock_run_folder};
use virnucpro_core::run_folder::samples::{check_samples, sample_dir, write_summary, Sample};
use virnucpro_core::CancelToken;

use super::error::io_error;
use super::spec::{validate, ProblemKind, RunSpec, Setting, SpecProblem, ValidatedRun};
use super::{run_validated, RunError, RunOptions, RunOutcome};
use crate::embed::{EmbedError, Encode, KeepLoaded};

/// How one sample ended.
#[derive(Debug)]
pub struct SampleOutcome {
    pub name: String,
    pub out_dir: PathBuf,
    /// The sample's run, or the error that stopped it (the other samples went on).
    pub result: Result<RunOutcome, RunError>,
}

impl SampleOutcome {
    /// The sample's status; a run error counts as failed.
    pub fn status(&self) -> RunStatus {
        match &self.result {
            Ok(outcome) => outcome.summary.status,
            Err(_) => RunStatus::Failed,
        }
    }
}

/// A finished (or cancelled) run of samples.
#[derive(Debug)]
pub struct SamplesOutcome {
    /// The samples started, in order.
    pub samples: Vec<SampleOutcome>,
    /// `out/summary.tsv`, when it could be written.
    pub summary: Option<PathBuf>,
    pub cancelled: bool,
}

impl SamplesOutcome {
    /// The run's status: `ok` when every sample is, `cancelled` when cancelled, `failed`
    /// when no sample has reports, else `partial`.
    pub fn status(&self) -> RunStatus {
        let statuses: Vec<RunStatus> = self.samples.iter().map(SampleOutcome::status).collect();
        if self.cancelled {
            RunStatus::Cancelled
        } else if statuses.iter().all(|s| *s == RunStatus::Ok) {
            RunStatus::Ok
        } else if statuses.iter().all(|s| *s == RunStatus::Failed) {
            RunStatus::Failed
        } else {
            RunStatus::Partial
        }
    }
}

/// Validate the settings once for all samples (every problem listed at once, the samples'
/// names and inputs included), then run each sample in `spec.out_dir/NAME/`. `spec.inputs`
/// is not used.
pub fn run_samples(
    spec: &RunSpec,
    samples: &[Sample],
    options: RunOptions,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(&RunEvent),
) -> Result<SamplesOutcome, RunError> {
    let mut validated = validate_samples(spec, samples)?;
    run_validated_samples(&mut validated, samples, options, cancel, on_event)
}

/// [`run_samples`] after [`validate_samples`]; tests use it to run with their own models.
pub fn run_validated_samples(
    validated: &mut ValidatedRun,
    samples: &[Sample],
    options: RunOptions,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(&RunEvent),
) -> Result<SamplesOutcome, RunError> {
    keep_models_loaded(validated);
    let out = validated.spec.out_dir.clone();
    std::fs::create_dir_all(&out).map_err(io_error(&out))?;
    let _lock = lock_run_folder(&out, &describe_this_process(&super::start::program_name()))?;
    let mut outcomes = Vec::with_capacity(samples.len());
    for (index, sample) in samples.iter().enumerate() {
        if cancel.is_cancelled() {
            break;
        }
        let out_dir = sample_dir(&out, &sample.name);
        on_event(&RunEvent::SampleStarted {
            sample: sample.name.clone(),
            index,
            total: samples.len(),
            out_dir: out_dir.clone(),
        });
        let result = run_sample(validated, sample, &out_dir, options, cancel, on_event);
        if let Err(e) = &result {
            tracing::error!("sample {}: {e}", sample.name);
        }
        outcomes.push(SampleOutcome {
            name: sample.name.clone(),
            out_dir,
            result,
        });
        // The settings' warnings were told with the first sample.
        validated.warnings.clear();
    }
    let summary = match write_summary(&out, samples) {
        Ok(_) => Some(out.join(virnucpro_core::run_folder::samples::SUMMARY_FILE)),
        Err(e) => {
            tracing::warn!("the table across samples could not be written: {e}");
            None
        }
    };
    Ok(SamplesOutcome {
        samples: outcomes,
        summary,
        cancelled: cancel.is_cancelled(),
    })
}

/// One sample: the validated run pointed at its inputs and folder.
fn run_sample(
    validated: &mut ValidatedRun,
    sample: &Sample,
    out_dir: &Path,
    options: RunOptions,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(&RunEvent),
) -> Result<RunOutcome, RunError> {
    let inputs = discover_inputs(&sample.inputs, Some(out_dir)).map_err(|e| {
        RunError::Invalid(vec![SpecProblem {
            setting: Setting::Inputs,
            kind: ProblemKind::Missing,
            message: format!("sample {}: {e}", sample.name),
        }])
    })?;
    validated.spec.inputs = sample.inputs.clone();
    validated.spec.out_dir = out_dir.to_path_buf();
    validated.inputs = inputs;
    run_validated(validated, options, cancel, on_event)
}

/// The spec validated with every sample's inputs, plus the samples' own problems, all
/// listed at once.
pub fn validate_samples(spec: &RunSpec, samples: &[Sample]) -> Result<ValidatedRun, RunError> {
    let mut problems: Vec<SpecProblem> = check_samples(samples)
        .into_iter()
        .map(|e| SpecProblem {
            setting: Setting::Inputs,
            kind: ProblemKind::Invalid,
            message: e.to_string(),
        })
        .collect();
    if !spec.pairing.explicit.is_empty() {
        // Each sample's files are paired by name within the sample; a pair given for the
        // whole run would belong to no sample's prepare.
        problems.push(SpecProblem {
            setting: Setting::Inputs,
            kind: ProblemKind::Invalid,
            message: "pairs given explicitly (--pair) cannot be combined with samples: name \
                      the mates _R1/_R2 or _1/_2 and each sample's pairs are found by name"
                .into(),
        });
    }
    if samples.is_empty() {
        problems.push(SpecProblem {
            setting: Setting::Inputs,
            kind: ProblemKind::Missing,
            message: "no sample given".into(),
        });
    }
    let all = RunSpec {
        inputs: samples.iter().flat_map(|s| s.inputs.clone()).collect(),
        ..spec.clone()
    };
    match validate(&all) {
        Ok(validated) if problems.is_empty() => Ok(validated),
        Ok(_) => Err(RunError::Invalid(problems)),
        Err(more) => {
            problems.extend(more);
            Err(RunError::Invalid(problems))
        }
    }
}

/// Each encoder is loaded once per device, by the first sample that needs it, and kept
/// for the samples after it.
fn keep_models_loaded(validated: &mut ValidatedRun) {
    for setup in [&mut validated.dnabert, &mut validated.esm] {
        let inner = std::mem::replace(&mut setup.factory, Box::new(no_factory));
        setup.factory = Box::new(KeepLoaded::new(inner));
    }
}

/// Holds a factory's place while the real one moves into its keeper; never called.
fn no_factory(_: tch::Device) -> Result<Box<dyn Encode>, EmbedError> {
    Err(EmbedError::Settings("internal: no model factory".into()))
}
