//! `virnucpro models import PATH`.
use std::path::PathBuf;
use std::process::ExitCode;

use virnucpro_core::CancelToken;
use virnucpro_models::{import, Catalogue, ImportMode};

use super::CacheArgs;
use crate::{exit, units};

#[derive(clap::Args)]
pub struct ImportArgs {
    /// A model file, or a folder (a Hugging Face cache, a model folder) to search through.
    #[arg(value_name = "PATH")]
    path: PathBuf,
    /// Leave the files where they are and only record that they were verified (a run is
    /// then given their path, and its manifest says "verified").
    #[arg(long)]
    in_place: bool,
    #[command(flatten)]
    cache: CacheArgs,
}

pub fn run(
    args: &ImportArgs,
    catalogue: &Catalogue,
    cancel: &CancelToken,
) -> anyhow::Result<ExitCode> {
    let roots = args.cache.roots()?;
    let mode = if args.in_place {
        ImportMode::InPlace
    } else {
        ImportMode::Copy
    };
    let report = match import(catalogue, &roots, &args.path, mode, cancel) {
        Ok(report) => report,
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(ExitCode::from(exit::code_for(&err.into())));
        }
    };
    let mut matched = 0;
    for file in &report.files {
        let size = units::bytes(file.size);
        match (&file.matched, &file.installed) {
            (Some(m), Some(to)) => {
                matched += 1;
                crate::outln!(
                    "{}: {} {} ({size}), installed as {}",
                    file.path.display(),
                    m.model,
                    m.file,
                    to.display()
                );
            }
            (Some(m), None) => {
                matched += 1;
                crate::outln!(
                    "{}: {} {} ({size}), verified in place",
                    file.path.display(),
                    m.model,
                    m.file
                );
            }
            (None, _) => crate::outln!(
                "{}: matches no catalogue checksum ({size}); not installed. A run can still use it \
                 by its path, and its manifest marks it \"unverified\"",
                file.path.display()
            ),
        }
    }
    crate::outln!(
        "{matched} of {} file(s) matched the catalogue.",
        report.files.len()
    );
    Ok(ExitCode::from(if matched == 0 {
        exit::FAILED
    } else {
        exit::OK
    }))
}
