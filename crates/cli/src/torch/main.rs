//! `virnucpro-torch`: the commands of `virnucpro` that run a model or ask libtorch
//! (`predict`, `classify`, `embed`, `devices`, `runtime`). Users call `virnucpro`, which
//! hands these over with the same arguments (see the library's doc).
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use virnucpro_cli::{about, models_cmd, pairs_args, units, GlobalArgs};

mod classify_cmd;
mod devices_cmd;
mod embed_cmd;
mod exit;
mod predict_cmd;
mod progress;
mod runtime_cmd;

#[derive(Parser)]
#[command(
    name = "virnucpro",
    version = virnucpro_cli::version(),
    about = "The commands of virnucpro that run a model (run them as `virnucpro COMMAND`)",
    after_help = about::EXIT_CODES
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    #[command(about = about::PREDICT)]
    Predict(predict_cmd::PredictArgs),
    #[command(about = about::CLASSIFY)]
    Classify(classify_cmd::ClassifyArgs),
    #[command(about = about::EMBED)]
    Embed(embed_cmd::EmbedArgs),
    #[command(about = about::DEVICES)]
    Devices(devices_cmd::DevicesArgs),
    #[command(about = about::RUNTIME)]
    Runtime(runtime_cmd::RuntimeArgs),
}

fn main() -> ExitCode {
    let cli = match virnucpro_cli::parse::<Cli>() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    virnucpro_cli::logging::init(cli.global.verbose, cli.global.quiet);
    let cancel = virnucpro_core::CancelToken::new();
    exit::cancel_on_ctrl_c(&cancel);
    let result = match &cli.command {
        Command::Predict(args) => predict_cmd::run(args, &cancel),
        Command::Classify(args) => classify_cmd::run(args, &cancel),
        Command::Embed(args) => embed_cmd::run(args, &cancel),
        Command::Devices(args) => devices_cmd::run(args),
        Command::Runtime(args) => runtime_cmd::run(args, &cancel),
    };
    virnucpro_cli::finish(result, exit::code_for)
}
