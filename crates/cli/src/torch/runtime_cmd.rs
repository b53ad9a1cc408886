//! `virnucpro runtime`: libtorch's CUDA libraries, fetched from the Python package index
//! without Python, so that the models run on the GPUs.
use std::process::ExitCode;

use virnucpro_core::CancelToken;
use virnucpro_engine::backend::{Backend, LIBTORCH_VERSION};
use virnucpro_models::download::RetryPolicy;
use virnucpro_models::runtime::{
    check_driver, fetch_runtime, remove_runtime, runtime_status, RuntimeManifest, RuntimeOptions,
    RuntimePaths, RuntimeState,
};

use crate::models_cmd::report::EventPrinter;
use crate::{exit, units};

#[derive(clap::Args)]
pub struct RuntimeArgs {
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(clap::Subcommand)]
enum Action {
    /// What is installed, its size, the NVIDIA driver found, and whether CUDA loads (the default).
    Status {
        /// Print it as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Download and unpack the GPU runtime (~2.5 GB from the package index, 3.3 GB unpacked).
    Fetch {
        /// A package index (PEP 691) to use instead of PyPI; default: $PIP_INDEX_URL.
        #[arg(long, value_name = "URL")]
        index_url: Option<String>,
        /// Tries per file before giving up.
        #[arg(long, default_value_t = RetryPolicy::default().attempts, value_name = "N")]
        tries: u32,
        /// Write every event as one JSON object per line on stdout.
        #[arg(long)]
        json_events: bool,
    },
    /// Delete the unpacked runtime (and any wheels of it still downloaded).
    Remove,
}

fn paths() -> anyhow::Result<RuntimePaths> {
    RuntimePaths::from_env().ok_or_else(|| {
        anyhow::anyhow!("cannot tell where the runtime goes: HOME is not set; set HOME or VIRNUCPRO_RUNTIME_DIR")
    })
}

pub fn run(args: &RuntimeArgs, cancel: &CancelToken) -> anyhow::Result<ExitCode> {
    let manifest = RuntimeManifest::from_env()?;
    match &args.action {
        None => status(&manifest, false),
        Some(Action::Status { json }) => status(&manifest, *json),
        Some(Action::Fetch {
            index_url,
            tries,
            json_events,
        }) => fetch(&manifest, index_url.clone(), *tries, *json_events, cancel),
        Some(Action::Remove) => {
            let freed = remove_runtime(&manifest, &paths()?)?;
            virnucpro_cli::outln!("removed the GPU runtime ({} freed)", units::bytes(freed));
            Ok(ExitCode::from(exit::OK))
        }
    }
}

fn driver_version() -> Option<String> {
    virnucpro_engine::devices::driver_versions().and_then(|(driver, _)| driver)
}

fn status(manifest: &RuntimeManifest, json: bool) -> anyhow::Result<ExitCode> {
    let status = runtime_status(manifest, &paths()?);
    let driver = driver_version();
    let check = check_driver(driver.as_deref(), manifest.min_driver);
    let backend = Backend::detect();
    if json {
        let value = serde_json::json!({
            "runtime": status,
            "driver": check,
            "backend": backend.describe(),
            "why_not_cuda": backend.cuda.why_not(),
        });
        virnucpro_cli::outln!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::from(exit::OK));
    }
    virnucpro_cli::outln!(
        "GPU runtime: libtorch {} with CUDA {}: {}",
        status.libtorch,
        status.cuda,
        status.state
    );
    virnucpro_cli::outln!("  folder:   {}", status.path.display());
    match status.state {
        RuntimeState::Installed => {
            virnucpro_cli::outln!("  size:     {}", units::bytes(status.bytes_present))
        }
        RuntimeState::Partial => virnucpro_cli::outln!(
            "  {} of {} downloaded: `virnucpro runtime fetch` resumes",
            units::bytes(status.bytes_present),
            units::bytes(status.download_bytes)
        ),
        RuntimeState::Missing => virnucpro_cli::outln!(
            "  `virnucpro runtime fetch` installs it ({} download, {} unpacked)",
            units::bytes(status.download_bytes),
            units::bytes(status.unpacked_bytes)
        ),
    }
    virnucpro_cli::outln!("  driver:   {}", check.message(&status.cuda));
    virnucpro_cli::outln!("  backend:  {}", backend.describe());
    if let Some(why) = backend.cuda.why_not() {
        virnucpro_cli::outln!("  why not CUDA: {why}");
    }
    Ok(ExitCode::from(exit::OK))
}

fn fetch(
    manifest: &RuntimeManifest,
    index: Option<String>,
    tries: u32,
    json: bool,
    cancel: &CancelToken,
) -> anyhow::Result<ExitCode> {
    let index = index
        .or_else(|| std::env::var("PIP_INDEX_URL").ok())
        .filter(|u| !u.trim().is_empty());
    let options = RuntimeOptions {
        paths: paths()?,
        index,
        retry: RetryPolicy {
            attempts: tries.max(1),
            ..RetryPolicy::default()
        },
        driver: driver_version(),
    };
    let mut printer = EventPrinter::new(json);
    match fetch_runtime(manifest, LIBTORCH_VERSION, &options, cancel, &mut |e| {
        printer.show(e)
    }) {
        Ok(status) => {
            printer.clear();
            if !json {
                virnucpro_cli::outln!(
                    "GPU runtime installed: {} ({})",
                    status.path.display(),
                    units::bytes(status.bytes_present)
                );
                virnucpro_cli::outln!("`virnucpro devices` shows whether CUDA loads with it.");
            }
            Ok(ExitCode::from(exit::OK))
        }
        Err(err) => {
            printer.clear();
            eprintln!("error: {err}");
            Ok(ExitCode::from(exit::code_for(&err.into())))
        }
    }
}
