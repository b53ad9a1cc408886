//! `virnucpro models fetch` and `virnucpro models verify`.
use std::process::ExitCode;

use virnucpro_core::CancelToken;
use virnucpro_models::download::RetryPolicy;
use virnucpro_models::{fetch, verify, Catalogue, Endpoints, FetchError, FetchOptions, ModelState};

use super::report::EventPrinter;
use super::CacheArgs;
use crate::exit;

#[derive(clap::Args)]
pub struct FetchArgs {
    /// Catalogue models to fetch (dnabert-s, esm2-3b, classifier-300, classifier-500);
    /// all of them when none is named.
    #[arg(value_name = "NAME")]
    names: Vec<String>,
    #[command(flatten)]
    cache: CacheArgs,
    /// Fetch every file from this mirror instead, at its original URL's path (an
    /// institute's copy); default: $VIRNUCPRO_MODEL_BASE_URL. Without it, hub files
    /// follow HF_ENDPOINT.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Tries per file before giving up (timeouts, dropped connections, 5xx).
    #[arg(long, default_value_t = RetryPolicy::default().attempts, value_name = "N")]
    tries: u32,
    /// Write every event as one JSON object per line on stdout.
    #[arg(long)]
    json_events: bool,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// Catalogue models to check; all installed ones when none is named.
    #[arg(value_name = "NAME")]
    names: Vec<String>,
    #[command(flatten)]
    cache: CacheArgs,
}

/// The named models, or every one; unknown names are refused before anything starts.
fn chosen(catalogue: &Catalogue, names: &[String]) -> anyhow::Result<Vec<String>> {
    if names.is_empty() {
        return Ok(catalogue.ids().iter().map(|s| s.to_string()).collect());
    }
    for name in names {
        if catalogue.entry(name).is_none() {
            anyhow::bail!(
                "no model {name:?} in the catalogue; it has {}",
                catalogue.ids().join(", ")
            );
        }
    }
    Ok(names.to_vec())
}

pub fn run_fetch(
    args: &FetchArgs,
    catalogue: &Catalogue,
    cancel: &CancelToken,
) -> anyhow::Result<ExitCode> {
    let mut endpoints = Endpoints::from_env();
    if let Some(base) = args.base_url.as_ref().filter(|u| !u.trim().is_empty()) {
        endpoints.base_url = Some(base.clone());
    }
    let options = FetchOptions {
        roots: args.cache.roots()?,
        endpoints,
        retry: RetryPolicy {
            attempts: args.tries.max(1),
            ..RetryPolicy::default()
        },
    };
    let mut printer = EventPrinter::new(args.json_events);
    let mut worst = exit::OK;
    for id in chosen(catalogue, &args.names)? {
        match fetch(catalogue, &id, &options, cancel, &mut |event| {
            printer.show(event)
        }) {
            Ok(status) => printer.done(&status),
            Err(err) => {
                printer.clear();
                eprintln!("error: {id}: {err}");
                let cancelled = matches!(err, FetchError::Cancelled);
                worst = worst.max(exit::code_for(&err.into()));
                if cancelled {
                    break;
                }
            }
        }
    }
    Ok(ExitCode::from(worst))
}

pub fn run_verify(
    args: &VerifyArgs,
    catalogue: &Catalogue,
    cancel: &CancelToken,
) -> anyhow::Result<ExitCode> {
    let roots = args.cache.roots()?;
    let named = !args.names.is_empty();
    let mut printer = EventPrinter::new(false);
    let mut worst = exit::OK;
    for id in chosen(catalogue, &args.names)? {
        let status = match verify::verify(catalogue, &id, &roots, cancel, &mut |e| printer.show(e))
        {
            Ok(status) => status,
            Err(err) => {
                eprintln!("error: {id}: {err}");
                worst = worst.max(exit::code_for(&err.into()));
                continue;
            }
        };
        match status.state {
            // Not asked for by name: a model that is not there is not a failed check.
            ModelState::Missing if !named => crate::outln!("{id}: missing"),
            ModelState::Verified => crate::outln!("{id}: verified ({})", status.path.display()),
            ModelState::Installed => crate::outln!(
                "{id}: installed; the catalogue pins no checksum for some files ({})",
                status.path.display()
            ),
            state => {
                crate::outln!("{id}: {state}");
                for file in status
                    .files
                    .iter()
                    .filter(|f| matches!(f.state, virnucpro_models::FileState::Damaged))
                {
                    crate::outln!(
                        "  {}: does not match the catalogue's checksum",
                        file.path.display()
                    );
                }
                worst = worst.max(exit::FAILED);
            }
        }
    }
    Ok(ExitCode::from(worst))
}
