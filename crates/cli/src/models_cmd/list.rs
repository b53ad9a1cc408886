//! `virnucpro models` with no action: each catalogue model's state, then every DNABERT-S
//! and ESM-2 found elsewhere.
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;
use virnucpro_models::discovery::Discovery;
use virnucpro_models::{status, CacheRoots, Catalogue, ModelState, ModelStatus};

use super::found::{discover_all, print_found};
use super::CacheArgs;
use crate::{exit, units};

#[derive(clap::Args)]
pub struct ListArgs {
    /// Also look in this folder: a model folder, a folder of them, a Hugging Face hub
    /// cache or a folder of fair-esm `.pt` files (one level deep). Repeatable.
    #[arg(long = "dir", value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// Compute the SHA-256 of every weight file found (reads them whole: minutes for
    /// ESM-2 3B). `virnucpro models verify` checks the catalogue's models.
    #[arg(long)]
    sha256: bool,
    /// Print the catalogue's states, what was found and where it looked, as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    cache: CacheArgs,
}

#[derive(Serialize)]
struct Listing<'a> {
    caches: &'a CacheRoots,
    catalogue: &'a [ModelStatus],
    #[serde(flatten)]
    found: &'a Discovery,
}

pub fn run(args: &ListArgs, catalogue: &Catalogue) -> anyhow::Result<ExitCode> {
    let roots = args.cache.roots()?;
    let states = status(catalogue, &roots);
    let chosen = args.cache.cache_dir.as_ref().map(|_| &roots);
    let found = match discover_all(chosen, &args.dirs, args.sha256) {
        Ok(found) => found,
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(ExitCode::from(exit::code_for(&err.into())));
        }
    };
    if args.json {
        let listing = Listing {
            caches: &roots,
            catalogue: &states,
            found: &found,
        };
        crate::outln!("{}", serde_json::to_string_pretty(&listing)?);
    } else {
        print_catalogue(&states);
        crate::outln!();
        print_found(&found);
    }
    Ok(ExitCode::from(exit::OK))
}

fn print_catalogue(states: &[ModelStatus]) {
    crate::outln!("The models a run needs:");
    for model in states {
        let size = model.size.map_or("size unpublished".into(), units::bytes);
        crate::outln!(
            "  {:<15} {:<9}  {size:>10}  {}",
            model.id,
            model.state,
            model.title
        );
        crate::outln!("  {:<15} {}", "", model.path.display());
        if let Some(hint) = hint(model) {
            crate::outln!("  {:<15} {hint}", "");
        }
    }
}

fn hint(model: &ModelStatus) -> Option<String> {
    let id = &model.id;
    match model.state {
        ModelState::Verified => None,
        ModelState::Installed => Some(format!(
            "not hashed yet: `virnucpro models verify {id}` checks it"
        )),
        ModelState::Partial => Some(format!(
            "{} downloaded: `virnucpro models fetch {id}` resumes it",
            units::bytes(model.bytes_present)
        )),
        ModelState::Damaged => Some(format!(
            "a file does not match its checksum: `virnucpro models fetch {id}` downloads it again"
        )),
        ModelState::Missing => Some(format!("get it with `virnucpro models fetch {id}`")),
    }
}
