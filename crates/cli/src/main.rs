//! `virnucpro`: the headless face of VirNucPro. The commands that run no model run here,
//! without libtorch; the others run in `virnucpro-torch` (see lib.rs).
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use virnucpro_cli::{
    about, compare_cmd, exit, forward, logging, merge_cmd, models_cmd, prepare_cmd, summarize_cmd,
    GlobalArgs,
};

#[derive(Parser)]
#[command(
    name = "virnucpro",
    version = virnucpro_cli::version(),
    about = "Identify viral sequences among short sequencing reads",
    after_help = about::EXIT_CODES
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Every command, in pipeline order. Those that run a model are listed here for the help
/// only: their arguments are parsed (and their help printed) by `virnucpro-torch`.
#[derive(Subcommand)]
enum Command {
    #[command(about = about::PREDICT, disable_help_flag = true)]
    Predict(forward::Forwarded),
    /// Cut reads into chunks, translate six frames, write (DNA, protein) shards.
    Prepare(prepare_cmd::PrepareArgs),
    /// Join nucleotide and protein feature files, shard by shard, into merged features.
    Merge(merge_cmd::MergeArgs),
    #[command(about = about::CLASSIFY, disable_help_flag = true)]
    Classify(forward::Forwarded),
    #[command(about = about::EMBED, disable_help_flag = true)]
    Embed(forward::Forwarded),
    /// One line per sample (reads, virus calls, chunks, frames) from their read summaries.
    Summarize(summarize_cmd::SummarizeArgs),
    /// How far apart two runs of the same reads are (e.g. fp32 and bf16): label agreement,
    /// score and feature differences.
    Compare(compare_cmd::CompareArgs),
    #[command(about = about::DEVICES, disable_help_flag = true)]
    Devices(forward::Forwarded),
    /// The models a run needs: which are installed, and `fetch`, `verify` or `import` them.
    Models(models_cmd::ModelsArgs),
    #[command(about = about::RUNTIME, disable_help_flag = true)]
    Runtime(forward::Forwarded),
}

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().collect();
    if forward::runs_a_model(&args) {
        return forward::to_torch(&args);
    }
    let cli = match virnucpro_cli::parse::<Cli>() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    logging::init(cli.global.verbose, cli.global.quiet);
    let cancel = virnucpro_core::CancelToken::new();
    let result = match &cli.command {
        // Reached only where the scan missed them (`virnucpro -- predict`): forward anyway.
        Command::Predict(_)
        | Command::Classify(_)
        | Command::Embed(_)
        | Command::Devices(_)
        | Command::Runtime(_) => return forward::to_torch(&args),
        Command::Prepare(args) => {
            exit::cancel_on_ctrl_c(&cancel);
            prepare_cmd::run(args, &cancel)
        }
        Command::Merge(args) => {
            exit::cancel_on_ctrl_c(&cancel);
            merge_cmd::run(args, &cancel)
        }
        Command::Models(args) => {
            exit::cancel_on_ctrl_c(&cancel);
            models_cmd::run(args, &cancel)
        }
        Command::Summarize(args) => summarize_cmd::run(args),
        Command::Compare(args) => compare_cmd::run(args),
    };
    virnucpro_cli::finish(result, exit::code_for)
}
