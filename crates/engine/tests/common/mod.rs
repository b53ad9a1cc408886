//! What the run tests share: a run of the a500 end-to-end fixture with the tiny models.
// Each test binary includes this module and uses only part of it.
#![allow(dead_code)]
use std::path::Path;

use virnucpro_core::events::{RunEvent, RunStatus};
use virnucpro_core::CancelToken;
use virnucpro_engine::embed::{EmbedError, Encode, EncoderFactory};
use virnucpro_engine::run::{run_prediction, run_validated, validate, RunOptions, RunSpec};
use virnucpro_engine::{DeviceChoice, DeviceId};
use virnucpro_testkit::fixture;

/// 329 frames in 9 shards of 40, on the CPU, into `out`.
pub fn a500_spec(out: &Path) -> RunSpec {
    RunSpec {
        devices: DeviceChoice::List(vec![DeviceId::Cpu]),
        threads: Some(2),
        shard_size: 40,
        ..RunSpec::new(
            vec![fixture("e2e/a500/input.fa")],
            fixture("models/dnabert_s_tiny"),
            fixture("models/esm2_tiny_fairesm/esm2_t2_tiny_fixture.pt"),
            fixture("e2e/a500/classifier.pth"),
            500,
            out.to_path_buf(),
        )
    }
}

/// Run `spec(out)`, cancelling when `stop` says so; the status and the events seen.
pub fn run_until(spec: &RunSpec, stop: &dyn Fn(&RunEvent) -> bool) -> (RunStatus, Vec<RunEvent>) {
    let cancel = CancelToken::new();
    let mut seen = Vec::new();
    let outcome = run_prediction(spec, RunOptions::default(), &cancel, &mut |e| {
        if stop(e) {
            cancel.cancel();
        }
        seen.push(e.clone());
    })
    .unwrap();
    (outcome.summary.status, seen)
}

/// Run `spec` to its end with ESM-2's factory wrapped by `wrap_esm` (e.g. in one whose
/// encoder fails some batches); the status and the events seen.
pub fn run_with_esm(
    spec: &RunSpec,
    wrap_esm: impl FnOnce(Box<dyn EncoderFactory>) -> Box<dyn EncoderFactory>,
) -> (RunStatus, Vec<RunEvent>) {
    let mut validated = validate(spec).unwrap();
    let placeholder: Box<dyn EncoderFactory> =
        Box::new(|_: tch::Device| -> Result<Box<dyn Encode>, EmbedError> {
            Err(EmbedError::Settings("placeholder".into()))
        });
    let inner = std::mem::replace(&mut validated.esm.factory, placeholder);
    validated.esm.factory = wrap_esm(inner);
    let mut seen = Vec::new();
    let outcome = run_validated(
        &mut validated,
        RunOptions::default(),
        &CancelToken::new(),
        &mut |e| seen.push(e.clone()),
    )
    .unwrap();
    (outcome.summary.status, seen)
}
