//! `virnucpro predict`: reads → reports in one resumable run.
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use virnucpro_core::events::{RunEvent, RunStatus};
use virnucpro_core::run_folder::layout::RunLayout;
use virnucpro_core::run_folder::manifest::ReportsState;
use virnucpro_core::run_folder::samples::Sample;
use virnucpro_core::CancelToken;
use virnucpro_engine::embed::Precision;
use virnucpro_engine::run::{
    run_prediction, run_samples, RunOptions, RunOutcome, RunSpec, SamplesOutcome,
    DEFAULT_SHARD_SIZE,
};
use virnucpro_engine::DeviceChoice;

use crate::exit;
use crate::models_cmd::{installed_model, CacheArgs};
use crate::progress::{bars::ProgressBars, lines::ProgressLines};
use virnucpro_models::ModelRole;

#[derive(clap::Args)]
pub struct PredictArgs {
    /// FASTA/FASTQ files (plain, .gz, .bz2, .xz, .zst) or folders of them.
    #[arg(required_unless_present_any = ["samples", "pair"], value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    // --pair with --sample: a sample's pairs are found by their names.
    #[command(flatten)]
    pairs: crate::pairs_args::PairArgs,
    /// A sample, NAME=PATH[,PATH...]: its reports go to OUT/NAME/, and OUT/summary.tsv has
    /// one line per sample; repeat for more samples (instead of INPUT). The models are
    /// loaded once for all of them.
    #[arg(
        long = "sample",
        value_name = "NAME=PATH[,PATH]",
        conflicts_with_all = ["inputs", "pair"]
    )]
    samples: Vec<Sample>,
    /// Read length the classifier was trained for: 300 or 500.
    #[arg(long, value_name = "300|500")]
    length: usize,
    /// DNABERT-S: a Hugging Face folder (weights, config.json, tokenizer.json); default:
    /// the one installed by `virnucpro models fetch`.
    #[arg(long, value_name = "DIR")]
    dnabert: Option<PathBuf>,
    /// ESM-2: a fair-esm .pt (esm2_t36_3B_UR50D.pt), a Hugging Face folder or weight file;
    /// default: the installed ESM-2 3B.
    #[arg(long, value_name = "PATH")]
    esm: Option<PathBuf>,
    /// The MLP classifier, e.g. the released 500_model.pth; default: the installed one
    /// for --length.
    #[arg(long, value_name = "PTH")]
    classifier: Option<PathBuf>,
    #[command(flatten)]
    cache: CacheArgs,
    /// Output folder (created if missing); a run in it is resumed.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// cpu, auto (every CUDA device, else the CPU), a CUDA index (0), or a list (0,1).
    #[arg(long, default_value = "auto", value_name = "DEVICES")]
    devices: DeviceChoice,
    /// Threads that cut reads and translate their frames, 1 to the cores of this machine
    /// (default: all cores).
    // Only parsed here: the range is checked with the other settings, all listed at once.
    #[arg(long, value_name = "N", value_parser = virnucpro_core::threads::parse_whole)]
    prepare_threads: Option<usize>,
    /// Shards merged at once, 1 to the cores of this machine (default: all cores).
    #[arg(long, value_name = "N", value_parser = virnucpro_core::threads::parse_whole)]
    merge_threads: Option<usize>,
    /// Prepare and merge threads both (the older setting; --prepare-threads and
    /// --merge-threads each take precedence for their own stage).
    #[arg(long, value_name = "N", value_parser = virnucpro_core::threads::parse_whole)]
    threads: Option<usize>,
    /// fp32 (matches the reference models), or bf16 / fp16 on CUDA devices.
    #[arg(long, default_value = "fp32", value_name = "PRECISION")]
    precision: Precision,
    /// Padded tokens per embedding batch (default: 8192 on the CPU, sized from free
    /// memory on a GPU).
    #[arg(long, value_name = "N")]
    batch_tokens: Option<usize>,
    /// Frame pairs per shard, the unit of resume (10 000 as in the original).
    #[arg(long, default_value_t = DEFAULT_SHARD_SIZE, value_name = "N", hide = true)]
    shard_size: usize,
    /// Keep each shard's DNABERT-S, ESM-2 and merged feature files in the output folder
    /// (about 26 KB per frame); without it they stay in memory and only scores are kept.
    #[arg(long)]
    keep_features: bool,
    /// Start even when the estimated output does not fit on the output folder's disk.
    #[arg(long)]
    no_space_check: bool,
    /// Remove this folder's earlier results and start over.
    #[arg(long)]
    restart: bool,
    /// Write every progress event as one JSON object per line on stdout.
    #[arg(long)]
    json_events: bool,
}

pub fn run(args: &PredictArgs, cancel: &CancelToken) -> anyhow::Result<ExitCode> {
    let roots = args.cache.roots()?;
    let (dnabert, esm, classifier) = match model_paths(args, &roots) {
        Ok(paths) => paths,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(ExitCode::from(exit::INPUT_UNREADABLE));
        }
    };
    let spec = RunSpec {
        model_cache: Some(roots.clone()),
        devices: args.devices.clone(),
        threads: args.threads,
        prepare_threads: args.prepare_threads,
        merge_threads: args.merge_threads,
        precision: args.precision,
        batch_tokens: args.batch_tokens,
        shard_size: args.shard_size,
        keep_features: args.keep_features,
        space_check: !args.no_space_check,
        pairing: args.pairs.pairing(),
        ..RunSpec::new(
            args.inputs.clone(),
            dnabert,
            esm,
            classifier,
            args.length,
            args.out.clone(),
        )
    };
    let json = args.json_events;
    let mut progress = if json {
        Progress::Json
    } else if std::io::stderr().is_terminal() {
        Progress::Bars(ProgressBars::new())
    } else {
        Progress::Lines(ProgressLines::default())
    };
    let options = RunOptions {
        restart: args.restart,
    };
    let on_event = &mut |event: &RunEvent| progress.show(event);
    let finished = if args.samples.is_empty() {
        Finished::One(run_prediction(&spec, options, cancel, on_event)?)
    } else {
        Finished::Samples(run_samples(
            &spec,
            &args.samples,
            options,
            cancel,
            on_event,
        )?)
    };
    // The bars are done before the summary prints under them.
    drop(progress);
    let status = match &finished {
        Finished::One(outcome) => outcome.summary.status,
        Finished::Samples(outcome) => outcome.status(),
    };
    if !json {
        match &finished {
            Finished::One(outcome) => print_outcome(outcome),
            Finished::Samples(outcome) => print_samples(outcome),
        }
    }
    let code = match status {
        RunStatus::Ok => exit::OK,
        RunStatus::Partial => exit::PARTIAL,
        RunStatus::Failed => exit::FAILED,
        RunStatus::Cancelled => exit::CANCELLED,
    };
    Ok(ExitCode::from(code))
}

/// A run of the reads given, or of samples.
enum Finished {
    One(RunOutcome),
    Samples(SamplesOutcome),
}

/// Each sample's outcome in a line, and where the table across samples is.
fn print_samples(outcome: &SamplesOutcome) {
    for sample in &outcome.samples {
        match &sample.result {
            Ok(run) => {
                let s = &run.summary;
                virnucpro_cli::outln!(
                    "sample {}: {}: {} reads, {} frames scored; {} reads with a virus call ({})",
                    sample.name,
                    status_word(s.status),
                    s.reads,
                    s.frames_scored,
                    s.virus_reads,
                    sample.out_dir.display()
                );
                print_kept_reports(run);
            }
            Err(e) => virnucpro_cli::outln!("sample {}: failed: {e}", sample.name),
        }
    }
    if let Some(summary) = &outcome.summary {
        virnucpro_cli::outln!("samples in one table: {}", summary.display());
    }
}

/// The three models: each as given, or the installed one; the message names what is
/// missing and how to get it.
fn model_paths(
    args: &PredictArgs,
    roots: &virnucpro_models::CacheRoots,
) -> Result<(PathBuf, PathBuf, PathBuf), String> {
    let model = |given: &Option<PathBuf>, role| match given {
        Some(path) => Ok(path.clone()),
        None => installed_model(role, roots),
    };
    let classifier = match &args.classifier {
        Some(path) => path.clone(),
        // A wrong --length with a classifier given is listed with the other settings.
        None => {
            let role = ModelRole::classifier_for(args.length).ok_or_else(|| {
                format!(
                    "no classifier is trained for --length {}: use 300 or 500",
                    args.length
                )
            })?;
            installed_model(role, roots)?
        }
    };
    Ok((
        model(&args.dnabert, ModelRole::Dnabert)?,
        model(&args.esm, ModelRole::Esm)?,
        classifier,
    ))
}

/// The run's one-line summary and the result files it left.
fn print_outcome(outcome: &RunOutcome) {
    let summary = &outcome.summary;
    virnucpro_cli::outln!(
        "predict {} in {:.1} s: {} reads, {} chunks, {} frames scored; {} reads with a virus call",
        status_word(summary.status),
        summary.seconds,
        summary.reads,
        summary.chunks,
        summary.frames_scored,
        summary.virus_reads
    );
    if summary.failures > 0 {
        virnucpro_cli::outln!("{} failures listed in failures.tsv", summary.failures);
    }
    virnucpro_cli::outln!("results in {}:", summary.out_dir.display());
    let pair_summary = summary
        .out_dir
        .join(virnucpro_core::pairs::PAIR_SUMMARY_FILE);
    for path in RunLayout::new(&summary.out_dir).result_files() {
        if path.exists() {
            virnucpro_cli::outln!("  {}", path.display());
        }
        if path.ends_with(virnucpro_core::report::READ_SUMMARY_FILE) && pair_summary.exists() {
            virnucpro_cli::outln!("  {}", pair_summary.display());
        }
    }
    print_kept_reports(outcome);
}

/// A run that did not complete its reports kept the earlier ones: say so, and where its
/// own partial reports are.
fn print_kept_reports(outcome: &RunOutcome) {
    let record = &outcome.reports;
    if record.state != ReportsState::Earlier {
        return;
    }
    virnucpro_cli::outln!(
        "the reports above are an earlier run's, kept: this run did not complete its own"
    );
    for name in &record.partial_files {
        virnucpro_cli::outln!(
            "  this run's partial reports: {}",
            outcome.summary.out_dir.join(name).display()
        );
    }
}

fn status_word(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Ok => "finished",
        RunStatus::Partial => "finished with failures",
        RunStatus::Failed => "failed",
        RunStatus::Cancelled => "cancelled (run again to resume)",
    }
}

/// Where the run's events go: JSON lines on stdout, bars on a terminal, or plain lines.
enum Progress {
    Json,
    Bars(ProgressBars),
    Lines(ProgressLines),
}

impl Progress {
    fn show(&mut self, event: &RunEvent) {
        match self {
            Progress::Json => {
                // A closed stdout (`| head`) must not stop the run.
                if let Ok(line) = serde_json::to_string(event) {
                    virnucpro_cli::outln!("{line}");
                }
            }
            Progress::Bars(bars) => bars.show(event),
            Progress::Lines(lines) => lines.show(event),
        }
    }
}
