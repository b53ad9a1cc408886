//! `virnucpro`: the headless face of VirNucPro.
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod classify_cmd;
mod devices_cmd;
mod embed_cmd;
mod exit;
mod logging;
mod merge_cmd;
mod models_cmd;
mod pairs_args;
mod predict_cmd;
mod prepare_cmd;
mod progress;
mod runtime_cmd;
mod summarize_cmd;
mod units;

#[derive(Parser)]
#[command(
    name = "virnucpro",
    version = version(),
    about = "Identify viral sequences among short sequencing reads",
    after_help = "Exit codes: 0 ok, 1 failed or bad arguments, 2 partial, 3 bad input data, \
                  4 input missing or unreadable, 5 cannot write output, 130 cancelled."
)]
struct Cli {
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Reads to reports in one resumable run: prepare, embed, merge, classify.
    Predict(predict_cmd::PredictArgs),
    /// Cut reads into chunks, translate six frames, write (DNA, protein) shards.
    Prepare(prepare_cmd::PrepareArgs),
    /// Join nucleotide and protein feature files, shard by shard, into merged features.
    Merge(merge_cmd::MergeArgs),
    /// Score merged features with the MLP classifier; write the original's two reports.
    Classify(classify_cmd::ClassifyArgs),
    /// Embed FASTA files with DNABERT-S or ESM-2: one feature file per input.
    Embed(embed_cmd::EmbedArgs),
    /// One line per sample (reads, virus calls, chunks, frames) from their read summaries.
    Summarize(summarize_cmd::SummarizeArgs),
    /// List the CPU and GPUs the models can run on, and the libtorch backend found.
    Devices(devices_cmd::DevicesArgs),
    /// The models a run needs: which are installed, and `fetch`, `verify` or `import` them.
    Models(models_cmd::ModelsArgs),
    /// The GPU runtime (libtorch's CUDA libraries), fetched without Python: status, fetch, remove.
    Runtime(runtime_cmd::RuntimeArgs),
}

fn version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| {
        format!(
            "{} (libtorch {})",
            env!("CARGO_PKG_VERSION"),
            virnucpro_engine::backend::LIBTORCH_VERSION
        )
    })
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() {
                exit::FAILED
            } else {
                exit::OK
            };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    logging::init(cli.verbose, cli.quiet);
    let cancel = virnucpro_core::CancelToken::new();
    exit::cancel_on_ctrl_c(&cancel);
    let result = match &cli.command {
        Command::Predict(args) => predict_cmd::run(args, &cancel),
        Command::Prepare(args) => prepare_cmd::run(args, &cancel),
        Command::Merge(args) => merge_cmd::run(args, &cancel),
        Command::Classify(args) => classify_cmd::run(args, &cancel),
        Command::Embed(args) => embed_cmd::run(args, &cancel),
        Command::Summarize(args) => summarize_cmd::run(args),
        Command::Devices(args) => devices_cmd::run(args),
        Command::Models(args) => models_cmd::run(args, &cancel),
        Command::Runtime(args) => runtime_cmd::run(args, &cancel),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(exit::code_for(&err))
        }
    }
}
