//! `virnucpro merge`: nucleotide + protein feature files → merged feature files, per shard.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use virnucpro_core::atomic::write_atomic;
use virnucpro_core::merge::{
    merge_dirs, merge_failures_tsv, MergeOptions, MergeProgress, MergeReport, PairFailure,
    PairOutcome, MERGE_FAILURES_FILE,
};
use virnucpro_core::CancelToken;

use crate::exit;

#[derive(clap::Args)]
pub struct MergeArgs {
    /// Folder of nucleotide feature files: `{shard}.nucleotide.safetensors` or the Python
    /// tools' `{shard}_DNABERT_S.pt`.
    #[arg(long, value_name = "DIR")]
    nucleotide: PathBuf,
    /// Folder of protein feature files: `{shard}.protein.safetensors` or `{shard}_ESM.pt`
    /// (may be the nucleotide folder).
    #[arg(long, value_name = "DIR")]
    protein: PathBuf,
    /// Output folder for `{shard}.merged.safetensors` and merge_failures.tsv (created if
    /// missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Pairs merged at once (default: all cores; never more than there are pairs).
    #[arg(long, value_name = "N", value_parser = virnucpro_core::threads::parse_threads)]
    merge_threads: Option<usize>,
    /// The older name of --merge-threads.
    #[arg(
        long,
        value_name = "N",
        value_parser = virnucpro_core::threads::parse_threads,
        conflicts_with = "merge_threads"
    )]
    threads: Option<usize>,
    /// Print the result as JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &MergeArgs, cancel: &CancelToken) -> anyhow::Result<ExitCode> {
    let options = MergeOptions {
        threads: args.merge_threads.or(args.threads),
        cancel: cancel.clone(),
        ..MergeOptions::default()
    };
    let report = merge_dirs(
        &args.nucleotide,
        &args.protein,
        &args.out,
        &options,
        &log_progress,
    )?;
    // The failure list is written on every run (a header only when none failed).
    let failures_path = args.out.join(MERGE_FAILURES_FILE);
    if let Err(err) = write_atomic(&failures_path, merge_failures_tsv(&report).as_bytes()) {
        // An output that cannot be written is 5, as for every command.
        eprintln!("error: cannot write {}: {err}", failures_path.display());
        return Ok(ExitCode::from(exit::OUTPUT_FAILED));
    }

    let code = exit_code(&report, cancel);
    if args.json {
        let json = serde_json::json!({
            "exit_code": code,
            "merged": report.merged().count(),
            "skipped": report.skipped().count(),
            "failed": report.failed().count(),
            "failures_tsv": failures_path,
            "report": report,
        });
        crate::outln!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        crate::out!("{}", summary(&report, &failures_path));
    }
    Ok(ExitCode::from(code))
}

fn log_progress(p: &MergeProgress) {
    let status = match &p.pair.outcome {
        PairOutcome::Merged { rows } => format!("merged {rows} rows"),
        PairOutcome::Skipped { .. } => "up to date".to_string(),
        PairOutcome::Failed(f) => format!("failed: {}", f.kind),
    };
    tracing::info!(
        "[{}/{}] {}: {status} ({:.0} MB/s in)",
        p.done,
        p.total,
        p.pair.shard,
        p.rate_in() / 1e6
    );
}

/// 0: every pair merged or up to date; 2: some failed; 1: none merged (or no pairs);
/// 130: cancelled.
fn exit_code(report: &MergeReport, cancel: &CancelToken) -> u8 {
    let failed = report.failed().count();
    if cancel.is_cancelled() {
        exit::CANCELLED
    } else if report.pairs.is_empty() || failed == report.pairs.len() {
        exit::FAILED
    } else if failed > 0 {
        exit::PARTIAL
    } else {
        exit::OK
    }
}

fn summary(report: &MergeReport, failures_path: &Path) -> String {
    let mut out = String::new();
    let secs = report.elapsed.as_secs_f64();
    if report.pairs.is_empty() {
        let _ = writeln!(
            out,
            "no feature files found (see `virnucpro merge --help` for the names)"
        );
        return out;
    }
    let _ = writeln!(
        out,
        "{} pairs: {} merged, {} up to date, {} failed ({} threads, {:.2} GB in, {:.2} GB out, {secs:.1} s)",
        report.pairs.len(),
        report.merged().count(),
        report.skipped().count(),
        report.failed().count(),
        report.threads,
        report.bytes_in() as f64 / 1e9,
        report.bytes_out() as f64 / 1e9,
    );
    let mut by_kind: BTreeMap<String, Vec<(&str, &PairFailure)>> = BTreeMap::new();
    for (pair, failure) in report.failed() {
        by_kind
            .entry(failure.kind.to_string())
            .or_default()
            .push((&pair.shard, failure));
    }
    for (kind, failures) in &by_kind {
        let _ = writeln!(out, "\n{kind} ({}):", failures.len());
        for (shard, failure) in failures {
            let _ = writeln!(out, "  {shard}: {failure}");
            for path in &failure.paths {
                let _ = writeln!(out, "    {}", path.display());
            }
        }
    }
    if !by_kind.is_empty() {
        let _ = writeln!(out, "\nfailures listed in {}", failures_path.display());
    }
    out
}
