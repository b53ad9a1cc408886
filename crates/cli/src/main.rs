//! `virnucpro`: the headless face of VirNucPro.
use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "virnucpro",
    version,
    about = "Identify viral sequences among short sequencing reads"
)]
struct Cli {}

fn main() -> ExitCode {
    let _cli = Cli::parse();
    println!("{}", virnucpro_engine::Backend::detect().describe());
    ExitCode::SUCCESS
}
