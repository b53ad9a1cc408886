//! Exit codes of the commands that run a model: the engine's errors, then every other
//! error as the front maps it (`virnucpro_cli::exit`), so one table holds for both binaries.
use virnucpro_core::merge::MergeError;
use virnucpro_engine::embed::EmbedError;
use virnucpro_engine::run::{ProblemKind, RunError};
use virnucpro_engine::ClassifierError;

pub use virnucpro_cli::exit::*;

/// The exit code for an error that ended a command (docs/cli.md's table).
pub fn code_for(err: &anyhow::Error) -> u8 {
    if let Some(err) = err.downcast_ref::<EmbedError>() {
        return embed_code(err);
    }
    if let Some(err) = err.downcast_ref::<RunError>() {
        return run_code(err);
    }
    if err.downcast_ref::<ClassifierError>().is_some() {
        return BAD_INPUT;
    }
    virnucpro_cli::exit::code_for(err)
}

fn embed_code(err: &EmbedError) -> u8 {
    match err {
        EmbedError::Load { .. } | EmbedError::Unusable(_) => BAD_INPUT,
        EmbedError::Output { .. } => OUTPUT_FAILED,
        EmbedError::Settings(_) | EmbedError::Worker(_) => FAILED,
    }
}

/// A run's settings problems all of one kind give that kind's code; a mix gives 1.
fn run_code(err: &RunError) -> u8 {
    match err {
        RunError::Invalid(problems) => {
            let code = |p: &virnucpro_engine::run::SpecProblem| match p.kind {
                ProblemKind::Invalid => FAILED,
                ProblemKind::Missing => INPUT_UNREADABLE,
                ProblemKind::BadFile => BAD_INPUT,
                ProblemKind::Unwritable => OUTPUT_FAILED,
            };
            let first = problems.first().map_or(FAILED, code);
            if problems.iter().all(|p| code(p) == first) {
                first
            } else {
                FAILED
            }
        }
        RunError::Prepare(e) => prepare_code(e),
        RunError::Embed(e) => embed_code(e),
        RunError::Classifier(_) => BAD_INPUT,
        // Another run holds the folder: it cannot be written now.
        RunError::Report(_) | RunError::Io { .. } | RunError::FolderBusy(_) => OUTPUT_FAILED,
        // Too little space for the run, or the disk filled during it: the output cannot
        // be written.
        RunError::NoSpace { .. } | RunError::DiskFull { .. } => OUTPUT_FAILED,
        RunError::Merge(MergeError::OutDir { .. }) => OUTPUT_FAILED,
        RunError::Merge(_) | RunError::Worker(_) => FAILED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Too little space before a run, and a disk that fills during one, are outputs that
    /// cannot be written.
    #[test]
    fn disk_space_errors_are_output_failures() {
        let no_space = RunError::NoSpace {
            folder: "/out".into(),
            needed: 2,
            available: 1,
        };
        assert_eq!(code_for(&no_space.into()), OUTPUT_FAILED);
        let full = RunError::disk_full_at(
            std::path::Path::new("/out/prepared/output_1.fa"),
            std::io::Error::from(std::io::ErrorKind::StorageFull),
        );
        assert_eq!(code_for(&full.into()), OUTPUT_FAILED);
    }
}
