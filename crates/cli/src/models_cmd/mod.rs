//! `virnucpro models`: the catalogue's models on this machine (and other weights found),
//! and getting them: `fetch`, `verify`, `import`.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use virnucpro_core::CancelToken;
use virnucpro_models::{CacheRoots, Catalogue, ModelRole};

mod fetch;
mod found;
mod import;
mod list;
pub mod report;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ModelsArgs {
    #[command(subcommand)]
    action: Option<Action>,
    #[command(flatten)]
    list: list::ListArgs,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Download models of the catalogue (all of them without NAME), resumably, verified
    /// against their checksums before they are installed.
    Fetch(fetch::FetchArgs),
    /// Hash the installed models again and say whether they match the catalogue.
    Verify(fetch::VerifyArgs),
    /// Install model files copied in by hand (a file, or a folder searched through) after
    /// matching them against the catalogue's checksums.
    Import(import::ImportArgs),
}

/// Where models are installed: `--cache-dir`, else the Python tools' caches.
#[derive(clap::Args, Clone)]
pub struct CacheArgs {
    /// Install into (and look in) this folder instead of the usual caches; laid out as
    /// with XDG_CACHE_HOME=DIR (DIR/huggingface/hub, DIR/torch/hub/checkpoints,
    /// DIR/virnucpro), so the Python tools see the same copy with that variable set.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

impl CacheArgs {
    pub fn roots(&self) -> anyhow::Result<CacheRoots> {
        match &self.cache_dir {
            Some(dir) => Ok(CacheRoots::in_folder(dir)),
            None => CacheRoots::from_env().context(
                "cannot tell where the model caches are: HOME is not set; \
                 set HOME, XDG_CACHE_HOME or pass --cache-dir",
            ),
        }
    }
}

pub fn run(args: &ModelsArgs, cancel: &CancelToken) -> anyhow::Result<ExitCode> {
    let catalogue = Catalogue::from_env()?;
    match &args.action {
        None => list::run(&args.list, &catalogue),
        Some(Action::Fetch(fetch)) => fetch::run_fetch(fetch, &catalogue, cancel),
        Some(Action::Verify(verify)) => fetch::run_verify(verify, &catalogue, cancel),
        Some(Action::Import(import)) => import::run(import, &catalogue, cancel),
    }
}

/// What a run is given for `role` when no path was: the installed catalogue model, or a
/// message that says which command fetches it.
pub fn installed_model(role: ModelRole, roots: &CacheRoots) -> Result<PathBuf, String> {
    let catalogue = Catalogue::from_env().map_err(|err| err.to_string())?;
    let flag = match role {
        ModelRole::Dnabert => "--dnabert",
        ModelRole::Esm => "--esm",
        ModelRole::Classifier300 | ModelRole::Classifier500 => "--classifier",
    };
    let Some(entry) = catalogue.for_role(role) else {
        return Err(format!(
            "the model catalogue has no {role}: give {flag} PATH"
        ));
    };
    let stamps = virnucpro_models::stamps::Stamps::in_folder(&roots.virnucpro);
    let status = virnucpro_models::status::entry_status(entry, roots, &stamps);
    if status.state.is_usable() {
        return Ok(status.path);
    }
    Err(format!(
        "{} is {} (looked for {}): `virnucpro models fetch {}` gets it, or give {flag} PATH",
        entry.title,
        status.state,
        status.path.display(),
        entry.id
    ))
}
