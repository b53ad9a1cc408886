//! `virnucpro summarize`: one line per sample from the samples' `read_summary.tsv`.
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use virnucpro_core::atomic::write_atomic;
use virnucpro_core::report::{
    read_summary_totals, render_samples, ReportError, SampleTotals, READ_SUMMARY_FILE,
};

use crate::exit;

#[derive(clap::Args)]
pub struct SummarizeArgs {
    /// Run folders holding read_summary.tsv (a `predict` run folder, a workflow sample
    /// folder, or a `classify --prepared` output folder), or read_summary.tsv files. The
    /// sample name is the folder's name; names must be unique.
    #[arg(required = true, value_name = "RUN")]
    runs: Vec<PathBuf>,
    /// Write the summary to this file (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Print the samples as JSON instead of the table (with --out, the file still gets
    /// the table).
    #[arg(long)]
    json: bool,
}

pub fn run(args: &SummarizeArgs) -> anyhow::Result<ExitCode> {
    let mut names = HashSet::new();
    let mut samples = Vec::with_capacity(args.runs.len());
    for run in &args.runs {
        let (name, path) = sample_of(run)?;
        if !names.insert(name.clone()) {
            anyhow::bail!(
                "{}: a second sample named {name:?}; sample names (the folder names) must be unique",
                run.display()
            );
        }
        let totals = read_summary_totals(&path)?;
        samples.push(SampleTotals::new(name, path, &totals));
    }
    let table = render_samples(&samples)?;
    if let Some(out) = &args.out {
        write_atomic(out, table.as_bytes()).map_err(|source| ReportError::Io {
            path: out.clone(),
            source,
        })?;
        tracing::info!("wrote {}", out.display());
    }
    if args.json {
        crate::outln!("{}", serde_json::to_string_pretty(&samples)?);
    } else if args.out.is_none() {
        crate::out!("{table}");
    } else {
        let reads: u64 = samples.iter().map(|s| s.reads).sum();
        let virus: u64 = samples.iter().map(|s| s.virus_reads).sum();
        crate::outln!(
            "{} samples, {reads} reads, {virus} with a virus call",
            samples.len()
        );
    }
    Ok(ExitCode::from(exit::OK))
}

/// The sample name and read summary of one argument: a folder with `read_summary.tsv`, or
/// the file itself (named after its folder).
fn sample_of(given: &Path) -> anyhow::Result<(String, PathBuf)> {
    let (folder, path) = if given.is_dir() {
        (given.to_path_buf(), given.join(READ_SUMMARY_FILE))
    } else {
        let parent = given.parent().unwrap_or(Path::new(""));
        (parent.to_path_buf(), given.to_path_buf())
    };
    // `.` and `..` have no name of their own: the folder's real path gives it.
    let folder = std::fs::canonicalize(&folder).unwrap_or(folder);
    let name = folder.file_name().map(|n| n.to_string_lossy().into_owned());
    match name {
        Some(name) => Ok((name, path)),
        None => anyhow::bail!(
            "{}: cannot name the sample after its folder",
            given.display()
        ),
    }
}
