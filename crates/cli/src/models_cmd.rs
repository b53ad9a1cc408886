//! `virnucpro models`: the DNABERT-S and ESM-2 weights already on this machine.
use std::path::PathBuf;
use std::process::ExitCode;

use virnucpro_engine::discovery::{
    discover, DiscoverOptions, Discovery, ModelCandidate, SearchRoots,
};

use crate::{exit, units};

#[derive(clap::Args)]
pub struct ModelsArgs {
    /// Also look in this folder: a model folder, a folder of them, a Hugging Face hub
    /// cache or a folder of fair-esm `.pt` files (one level deep). Repeatable.
    #[arg(long = "dir", value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// Compute the SHA-256 of every weight file (reads them whole: minutes for ESM-2 3B).
    #[arg(long)]
    sha256: bool,
    /// Print what was found, and where it looked, as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &ModelsArgs) -> anyhow::Result<ExitCode> {
    let roots = SearchRoots::from_env().with_extra(args.dirs.iter().cloned());
    let options = DiscoverOptions {
        sha256: args.sha256,
    };
    let found = match discover(&roots, &options) {
        Ok(found) => found,
        // Only a folder named with --dir can fail; like any missing input it exits 4.
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(ExitCode::from(exit::INPUT_UNREADABLE));
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&found)?);
    } else {
        print_text(&found);
    }
    Ok(ExitCode::from(exit::OK))
}

fn print_text(found: &Discovery) {
    if found.models.is_empty() {
        println!("No DNABERT-S or ESM-2 weights found.");
    } else {
        let complete = found.models.iter().filter(|m| m.is_complete()).count();
        println!(
            "Found {} model(s), {complete} complete:",
            found.models.len()
        );
        for model in &found.models {
            println!();
            print_model(model);
        }
    }
    println!();
    println!("Looked in:");
    for place in &found.searched {
        let missing = if place.present { "" } else { "  (not present)" };
        println!("  {:<9}  {}{missing}", place.source, place.path.display());
    }
    if found.models.is_empty() {
        println!();
        println!(
            "Set HF_HUB_CACHE, HF_HOME or TORCH_HOME to where the Python tools put them, \
             or name a folder with --dir."
        );
    }
}

fn print_model(model: &ModelCandidate) {
    let layout = model.layout.map_or("-".to_string(), |l| l.to_string());
    let state = match model.problems.len() {
        0 => "ok".to_string(),
        1 => "1 problem".to_string(),
        n => format!("{n} problems"),
    };
    println!(
        "{:<9}  {}  {layout}  {}  {state}",
        model.kind,
        model.name,
        units::bytes(model.size_bytes)
    );
    let revision = model
        .revision
        .as_ref()
        .map_or(String::new(), |r| format!(", revision {r}"));
    println!(
        "  path:    {} ({}{revision})",
        model.path.display(),
        model.source
    );
    for file in &model.files {
        if let Some(digest) = &file.sha256 {
            let name = file.path.file_name().unwrap_or(file.path.as_os_str());
            println!("  sha256:  {digest}  {}", name.to_string_lossy());
        }
    }
    for problem in &model.problems {
        println!("  problem: {problem}");
    }
}
