//! `virnucpro prepare`: reads → chunks → six-frame (DNA, protein) shards.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use virnucpro_core::fasta::ReadChecks;
use virnucpro_core::frames::Frame;
use virnucpro_core::prepare::{prepare, PrepareOptions, PrepareSummary, MANIFEST_FILE};
use virnucpro_core::CancelToken;

use crate::exit;

#[derive(clap::Args)]
pub struct PrepareArgs {
    /// FASTA files (plain, .gz, .bz2, .xz, .zst) or folders of them.
    #[arg(required_unless_present = "pair", value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    pairs: crate::pairs_args::PairArgs,
    /// Expected read length: the chunk size of the model (300 or 500).
    #[arg(long, value_parser = ["300", "500"])]
    length: String,
    /// Output folder (created if missing; earlier prepare outputs in it are replaced).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Frame pairs per shard file.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    shard_size: u64,
    /// Threads that cut reads and translate their frames, 1 to the cores of this machine
    /// (default: all cores).
    #[arg(long, value_name = "N", value_parser = virnucpro_core::threads::parse_threads)]
    prepare_threads: Option<usize>,
    /// The older name of --prepare-threads.
    #[arg(
        long,
        value_name = "N",
        value_parser = virnucpro_core::threads::parse_threads,
        conflicts_with = "prepare_threads"
    )]
    threads: Option<usize>,
    /// Skip records with invalid characters, duplicate or missing IDs, or excess length
    /// (listed in the summary; exit code 2) instead of stopping at the first one.
    #[arg(long)]
    skip_bad_records: bool,
    /// Longest record accepted, in bases.
    #[arg(long, value_name = "BP", default_value_t = ReadChecks::default().max_record_len)]
    max_record_length: u64,
    /// Print the summary as JSON (the same as prepare.json) instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &PrepareArgs, cancel: &CancelToken) -> anyhow::Result<ExitCode> {
    let defaults = PrepareOptions::default();
    let options = PrepareOptions {
        chunk_len: args.length.parse().context("--length")?,
        shard_size: usize::try_from(args.shard_size).context("--shard-size")?,
        threads: args
            .prepare_threads
            .or(args.threads)
            .unwrap_or(defaults.threads),
        skip_bad_records: args.skip_bad_records,
        checks: ReadChecks {
            max_record_len: args.max_record_length,
        },
        pairing: args.pairs.pairing(),
        cancel: cancel.clone(),
    };
    let started = Instant::now();
    let summary = prepare(&args.inputs, &args.out, &options, &mut |_| {})?;
    if args.json {
        crate::outln!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&summary, &args.out, started.elapsed().as_secs_f64());
    }
    let bad_skipped = summary
        .skipped
        .iter()
        .any(|s| s.problem != virnucpro_core::fasta::RecordProblem::EmptySequence);
    Ok(ExitCode::from(if bad_skipped {
        exit::PARTIAL
    } else {
        exit::OK
    }))
}

fn print_summary(s: &PrepareSummary, out: &Path, seconds: f64) {
    let files = s.inputs.len();
    crate::outln!("prepare finished in {seconds:.2} s");
    crate::outln!(
        "  input:    {files} file{}, {} reads, {} bp",
        if files == 1 { "" } else { "s" },
        s.reads,
        s.bases
    );
    crate::outln!("  chunks:   {} of up to {} bp", s.chunks, s.chunk_len);
    let per_frame: Vec<String> = Frame::ALL
        .iter()
        .map(|f| format!("{} {}", f.suffix(), s.frames.get(*f)))
        .collect();
    crate::outln!(
        "  frames:   {} kept ({})",
        s.frames_kept,
        per_frame.join(", ")
    );
    for pair in &s.pairs {
        crate::outln!(
            "  mates:    {} + {}: {} reads (/1 and /2)",
            pair.r1.display(),
            pair.r2.display(),
            pair.reads
        );
    }
    crate::outln!(
        "  shards:   {} (up to {} pairs each)",
        s.shards.len(),
        s.shard_size
    );
    if s.skipped.is_empty() {
        crate::outln!("  skipped:  none");
    } else {
        crate::outln!("  skipped:  {} records", s.skipped.len());
        let mut by_reason: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for issue in &s.skipped {
            let reason = match &issue.problem {
                virnucpro_core::fasta::RecordProblem::InvalidCharacter { .. } => {
                    "invalid characters".to_string()
                }
                other => other.to_string(),
            };
            by_reason.entry(reason).or_default().push(issue.to_string());
        }
        for (reason, issues) in by_reason {
            crate::outln!("    {reason}: {}", issues.len());
            for issue in issues.iter().take(5) {
                crate::outln!("      {issue}");
            }
            if issues.len() > 5 {
                crate::outln!(
                    "      … and {} more (all listed in {MANIFEST_FILE})",
                    issues.len() - 5
                );
            }
        }
    }
    for warning in &s.warnings {
        crate::outln!("  warning:  {warning}");
    }
    crate::outln!("output in {}:", out.display());
    crate::outln!("  {:<26} chunked reads", s.chunked.display());
    crate::outln!("  {:<26} DNA of each kept frame", "nucleotide/output_N.fa");
    crate::outln!(
        "  {:<26} protein of each kept frame",
        "protein/output_N.faa"
    );
    crate::outln!("  {:<26} this summary, as JSON", MANIFEST_FILE);
}
