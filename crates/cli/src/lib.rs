//! The `virnucpro` command line, split in two binaries so that commands that run no model
//! never load libtorch (0.3 s and ~110 MiB per process):
//!
//! - `virnucpro` (src/main.rs), the front: `prepare`, `merge`, `summarize`, `compare`,
//!   `models`, and
//!   the help. It calls no tch code, so the linker drops libtorch from it.
//! - `virnucpro-torch` (src/torch/), beside it: `predict`, `classify`, `embed`, `devices`
//!   and `runtime`. The front replaces itself with it (`exec`) for those, with the same
//!   arguments, so exit codes, signals and output are the command's own.
//!
//! This library holds what both share; it must not use `virnucpro-engine` (a test reads
//! the front's dynamic section to keep it so: tests/front_binary.rs).
use std::process::ExitCode;

use clap::Parser;

pub mod compare_cmd;
pub mod exit;
pub mod forward;
pub mod logging;
pub mod merge_cmd;
pub mod models_cmd;
pub mod pairs_args;
pub mod prepare_cmd;
pub mod stdout;
pub mod summarize_cmd;
pub mod units;

/// The options every command takes.
#[derive(clap::Args)]
pub struct GlobalArgs {
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// The one-line help of the commands `virnucpro-torch` runs, shown by both binaries.
pub mod about {
    pub const PREDICT: &str =
        "Reads to reports in one resumable run: prepare, embed, merge, classify";
    pub const CLASSIFY: &str =
        "Score merged features with the MLP classifier; write the original's two reports";
    pub const EMBED: &str = "Embed FASTA files with DNABERT-S or ESM-2: one feature file per input";
    pub const DEVICES: &str =
        "List the CPU and GPUs the models can run on, and the libtorch backend found";
    pub const RUNTIME: &str =
        "The GPU runtime (libtorch's CUDA libraries), fetched without Python: status, fetch, remove";
    pub const EXIT_CODES: &str = "Exit codes: 0 ok, 1 failed or bad arguments, 2 partial, \
        3 bad input data, 4 input missing or unreadable, 5 cannot write output, 130 cancelled.";
}

/// `0.1.0 (libtorch 2.13.0)`: the libtorch the package's model commands were built with.
pub fn version() -> &'static str {
    concat!(
        env!("CARGO_PKG_VERSION"),
        " (libtorch ",
        env!("VIRNUCPRO_LIBTORCH_VERSION"),
        ")"
    )
}

/// The parsed command line, or the exit code after clap printed help, the version or a
/// usage error.
pub fn parse<T: Parser>() -> Result<T, ExitCode> {
    T::try_parse().map_err(|err| {
        let code = if err.use_stderr() {
            exit::FAILED
        } else {
            exit::OK
        };
        let _ = err.print();
        ExitCode::from(code)
    })
}

/// A command's result as the process's exit code, the error printed on stderr.
pub fn finish(
    result: anyhow::Result<ExitCode>,
    code_for: impl Fn(&anyhow::Error) -> u8,
) -> ExitCode {
    match result {
        // The work was done, but its output did not all reach a file that should hold it.
        Ok(code) if code == ExitCode::SUCCESS && stdout::failure().is_some() => {
            ExitCode::from(exit::OUTPUT_FAILED)
        }
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(code_for(&err))
        }
    }
}
