//! Exit codes, the same for every command (documented in docs/cli.md and `--help`).
use virnucpro_core::compare::CompareError;
use virnucpro_core::fasta::InputError;
use virnucpro_core::input_paths::PathError;
use virnucpro_core::merge::MergeError;
use virnucpro_core::merged_input::MergedInputError;
use virnucpro_core::pairs::PairSummaryError;
use virnucpro_core::prepare::{PrepareError, PreparedRecordError};
use virnucpro_core::report::{ReadSummaryError, ReportError};
use virnucpro_core::CancelToken;
use virnucpro_models::discovery::DiscoveryError;
use virnucpro_models::import::ImportError;
use virnucpro_models::runtime::RuntimeError;
use virnucpro_models::FetchError;

pub const OK: u8 = 0;
/// Failed, or bad arguments.
pub const FAILED: u8 = 1;
/// Finished, but some items were skipped or failed (they are listed).
pub const PARTIAL: u8 = 2;
/// The input data is not acceptable (not FASTA, truncated, a bad record).
pub const BAD_INPUT: u8 = 3;
/// An input path is missing or cannot be read.
pub const INPUT_UNREADABLE: u8 = 4;
/// An output cannot be written.
pub const OUTPUT_FAILED: u8 = 5;
/// Stopped by Ctrl-C or a cancel request.
pub const CANCELLED: u8 = 130;

/// The exit code for an error that ended a command (or, for `models fetch`, one model):
/// the one mapping of errors to codes, used by every command. The commands that run a model
/// (`virnucpro-torch`) add the engine's errors in front of it (src/torch/exit.rs).
pub fn code_for(err: &anyhow::Error) -> u8 {
    if let Some(code) = models_code(err) {
        return code;
    }
    if let Some(err) = err.downcast_ref::<MergedInputError>() {
        return match err {
            MergedInputError::Path(_) | MergedInputError::EmptyFolder { .. } => INPUT_UNREADABLE,
            _ => BAD_INPUT,
        };
    }
    if err.downcast_ref::<PathError>().is_some() {
        return INPUT_UNREADABLE;
    }
    if let Some(err) = err.downcast_ref::<InputError>() {
        return input_code(err);
    }
    if let Some(err) = err.downcast_ref::<MergeError>() {
        return merge_code(err);
    }
    if let Some(err) = err.downcast_ref::<ReadSummaryError>() {
        return read_summary_code(err);
    }
    if let Some(err) = err.downcast_ref::<PairSummaryError>() {
        return match err {
            PairSummaryError::ReadSummary(err) => read_summary_code(err),
            PairSummaryError::Mismatch { .. } => BAD_INPUT,
            PairSummaryError::Write { .. } => OUTPUT_FAILED,
        };
    }
    if let Some(err) = err.downcast_ref::<PreparedRecordError>() {
        return match err {
            PreparedRecordError::Unreadable { .. } => INPUT_UNREADABLE,
            PreparedRecordError::Invalid { .. } => BAD_INPUT,
        };
    }
    if err.downcast_ref::<ReportError>().is_some() {
        return OUTPUT_FAILED;
    }
    if let Some(err) = err.downcast_ref::<CompareError>() {
        return compare_code(err);
    }
    match err.downcast_ref::<PrepareError>() {
        Some(err) => prepare_code(err),
        None => FAILED,
    }
}

/// The model and runtime downloads' errors, `models import` and `models --dir`.
fn models_code(err: &anyhow::Error) -> Option<u8> {
    if let Some(err) = err.downcast_ref::<FetchError>() {
        return Some(match err {
            FetchError::Cancelled => CANCELLED,
            // No space is an output that cannot be written.
            FetchError::NoSpace { .. } | FetchError::Io { .. } => OUTPUT_FAILED,
            _ => FAILED,
        });
    }
    if let Some(err) = err.downcast_ref::<RuntimeError>() {
        return Some(match err {
            RuntimeError::Cancelled => CANCELLED,
            RuntimeError::NoSpace { .. } | RuntimeError::Io { .. } => OUTPUT_FAILED,
            _ => FAILED,
        });
    }
    if let Some(err) = err.downcast_ref::<ImportError>() {
        return Some(match err {
            ImportError::Missing { .. } => INPUT_UNREADABLE,
            ImportError::Cancelled => CANCELLED,
            ImportError::Install(_) => OUTPUT_FAILED,
        });
    }
    // Only a folder named with `--dir` can fail; like any missing input it is 4.
    err.downcast_ref::<DiscoveryError>()
        .map(|_| INPUT_UNREADABLE)
}

/// `virnucpro compare`: a folder that is not there or cannot be read is 4; one that is
/// not a run, or holds files that do not parse or do not go together, is 3.
fn compare_code(err: &CompareError) -> u8 {
    match err {
        CompareError::NotFound { .. }
        | CompareError::Io { .. }
        | CompareError::NotAFolder { .. } => INPUT_UNREADABLE,
        CompareError::ReadSummary(err) => read_summary_code(err),
        _ => BAD_INPUT,
    }
}

fn read_summary_code(err: &ReadSummaryError) -> u8 {
    match err {
        ReadSummaryError::Io { .. } => INPUT_UNREADABLE,
        ReadSummaryError::Format { .. } => BAD_INPUT,
    }
}

/// `virnucpro merge`'s own errors, by the table of docs/cli.md: an input folder that
/// cannot be listed is 4, an output folder that cannot be made is 5.
fn merge_code(err: &MergeError) -> u8 {
    match err {
        MergeError::ReadDir { .. } => INPUT_UNREADABLE,
        MergeError::OutDir { .. } => OUTPUT_FAILED,
        MergeError::ThreadPool { .. } => FAILED,
    }
}

/// Finding the input files (`core::fasta::discover_inputs`), for every command that reads
/// FASTA: a folder without any is an unreadable input (4), as the table says.
fn input_code(err: &InputError) -> u8 {
    match err {
        InputError::Path(_) | InputError::EmptyFolder { .. } => INPUT_UNREADABLE,
        InputError::NoInputs => FAILED,
        InputError::EmptyFile { .. }
        | InputError::NotFasta { .. }
        | InputError::Truncated { .. }
        | InputError::ChangedWhileRead { .. }
        | InputError::Pair(_) => BAD_INPUT,
    }
}

pub fn prepare_code(err: &PrepareError) -> u8 {
    match err {
        PrepareError::Input(input) => input_code(input),
        PrepareError::BadRecord { .. } => BAD_INPUT,
        PrepareError::Output { .. } => OUTPUT_FAILED,
        PrepareError::Cancelled => CANCELLED,
        PrepareError::InvalidOptions(_) | PrepareError::WorkerPanicked => FAILED,
    }
}

/// The first Ctrl-C asks the running command to stop cleanly; a second one exits at once.
pub fn cancel_on_ctrl_c(cancel: &CancelToken) {
    let cancel = cancel.clone();
    let installed = ctrlc::set_handler(move || {
        if cancel.is_cancelled() {
            std::process::exit(i32::from(CANCELLED));
        }
        eprintln!("stopping… (Ctrl-C again to quit at once)");
        cancel.cancel();
    });
    if let Err(err) = installed {
        tracing::warn!(%err, "cannot install the Ctrl-C handler");
    }
}
