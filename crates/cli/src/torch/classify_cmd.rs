//! `virnucpro classify`: merged features → MLP classifier → the original's two reports.
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use virnucpro_core::merged_input::find_merged_files;
use virnucpro_core::pairs::{PairTotals, PAIR_SUMMARY_FILE};
use virnucpro_core::prepare::PreparedRecord;
use virnucpro_core::report::{ReportError, READ_SUMMARY_FILE};
use virnucpro_core::CancelToken;
use virnucpro_engine::classifier::{MlpClassifier, ScoreError, Scorer};
use virnucpro_engine::DeviceId;

use crate::exit;

#[derive(clap::Args)]
pub struct ClassifyArgs {
    /// Merged feature files or folders of them: `{shard}.merged.safetensors` (from
    /// `virnucpro merge`) or the Python tools' `{shard}_merged.pt`. Shards are read in
    /// natural order (output_2 before output_10).
    #[arg(required = true, value_name = "MERGED")]
    inputs: Vec<PathBuf>,
    /// The classifier checkpoint, e.g. the released `500_model.pth` (a pickled
    /// MLPClassifier; read without executing any pickle code, also if saved from a GPU).
    #[arg(long, value_name = "PTH")]
    classifier: PathBuf,
    /// Output folder for prediction_results.txt and prediction_results_highestscore.csv
    /// (and read_summary.tsv with --prepared, and pair_summary.tsv when its reads were
    /// pairs of mates).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The `virnucpro prepare` folder the merged features come from: also write
    /// read_summary.tsv, one line per read of its reads_chunked{L}.fa, in input order.
    #[arg(long, value_name = "DIR")]
    prepared: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &ClassifyArgs, cancel: &CancelToken) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let files = find_merged_files(&args.inputs)?;
    let prepared = match &args.prepared {
        Some(dir) => Some((PreparedRecord::read(dir)?, dir)),
        None => None,
    };
    let chunked = prepared
        .as_ref()
        .map(|(record, dir)| record.chunked_path(dir));
    // CPU for now: device selection arrives with the embedding workers (issue 4). The MLP is
    // tiny next to the embedders; a shard of 10 000 rows takes well under a second on CPU.
    let model = MlpClassifier::load(&args.classifier, DeviceId::Cpu)?;
    // A typed report error, so that an unwritable output folder exits 5 like any other.
    std::fs::create_dir_all(&args.out).map_err(|source| ReportError::Io {
        path: args.out.clone(),
        source,
    })?;
    let mut scorer = Scorer::create(&model, &args.out, chunked.as_deref())?;
    for file in &files {
        if cancel.is_cancelled() {
            return Ok(ExitCode::from(exit::CANCELLED));
        }
        // Any shard failing stops `classify` (its exit code says why); a whole run instead
        // lists the shard and goes on.
        scorer.add_shard(file).map_err(unwrap_score_error)?;
        tracing::info!(file = %file.display(), "classified");
    }
    let virus_rows = scorer.virus_rows;
    let (summary, reads) = scorer.finish()?;
    let read_summary = reads.map(|_| args.out.join(READ_SUMMARY_FILE));
    let pair_summary = match (&read_summary, &prepared) {
        (Some(read_summary), Some((record, _))) => {
            write_pair_summary(read_summary, record, &args.out)?
        }
        _ => None,
    };
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        let json = serde_json::json!({
            "inputs": files,
            "classifier": args.classifier,
            "rows": summary.rows,
            "virus_rows": virus_rows,
            "chunks": summary.groups,
            "prediction_results": summary.results,
            "highestscore": summary.highestscore,
            "read_summary": read_summary,
            "reads": reads.map(|r| r.reads),
            "virus_reads": reads.map(|r| r.virus_reads),
            "pair_summary": pair_summary.as_ref().map(|(path, _)| path),
            "pairs": pair_summary.as_ref().map(|(_, totals)| totals.pairs),
            "virus_pairs": pair_summary.as_ref().map(|(_, totals)| totals.virus_pairs),
            "elapsed_s": seconds,
        });
        virnucpro_cli::outln!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        virnucpro_cli::outln!("classify finished in {seconds:.2} s");
        virnucpro_cli::outln!("  shards:   {}", files.len());
        virnucpro_cli::outln!(
            "  frames:   {} classified, {virus_rows} virus",
            summary.rows
        );
        virnucpro_cli::outln!(
            "  chunks:   {} (one consensus call per chunk)",
            summary.groups
        );
        if let Some(reads) = reads {
            virnucpro_cli::outln!(
                "  reads:    {} ({} with a virus call, {} without a scored frame)",
                reads.reads,
                reads.virus_reads,
                reads.unscored_reads
            );
        }
        virnucpro_cli::outln!("output:");
        virnucpro_cli::outln!("  {}", summary.results.display());
        virnucpro_cli::outln!("  {}", summary.highestscore.display());
        if let Some(path) = &read_summary {
            virnucpro_cli::outln!("  {}", path.display());
        }
        if let Some((path, totals)) = &pair_summary {
            virnucpro_cli::outln!(
                "  {} ({} pairs, {} with a virus call)",
                path.display(),
                totals.pairs,
                totals.virus_pairs
            );
        }
    }
    Ok(ExitCode::from(exit::OK))
}

/// `pair_summary.tsv` beside the read summary when the prepared reads were pairs of mates
/// (docs/paired-reads.md); otherwise an earlier one in `out` is removed, as a run does.
fn write_pair_summary(
    read_summary: &Path,
    record: &PreparedRecord,
    out: &Path,
) -> anyhow::Result<Option<(PathBuf, PairTotals)>> {
    let path = out.join(PAIR_SUMMARY_FILE);
    if record.pairs.is_empty() {
        match std::fs::remove_file(&path) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                return Err(ReportError::Io { path, source: err }.into())
            }
            _ => return Ok(None),
        }
    }
    let totals = virnucpro_core::pairs::write_pair_summary(
        read_summary,
        &record.pairs,
        record.reads,
        &path,
    )?;
    Ok(Some((path, totals)))
}

/// The inner error, so that the exit code follows its type (exit.rs).
pub fn unwrap_score_error(err: ScoreError) -> anyhow::Error {
    match err {
        ScoreError::Input(e) => e.into(),
        ScoreError::Model(e) => e.into(),
        ScoreError::Report(e) => e.into(),
    }
}
