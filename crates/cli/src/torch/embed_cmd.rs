//! `virnucpro embed`: FASTA files → one feature file each, with DNABERT-S or ESM-2, on one
//! or more devices.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use virnucpro_core::fasta::{discover_inputs, InputError};
use virnucpro_core::input_paths::PathError;
use virnucpro_core::CancelToken;
use virnucpro_engine::devices::{set_cpu_threads, DeviceChoice, DeviceId};
use virnucpro_engine::embed::{
    default_budget, embed_files, setup_model, EmbedEvent, EmbedOptions, EmbedReport, FileStatus,
    ModelKind, Precision, PrecisionExt,
};

use crate::exit;

#[derive(clap::Args)]
pub struct EmbedArgs {
    /// dnabert-s (nucleotide shards) or esm2 (protein shards).
    #[arg(long, value_name = "MODEL")]
    model: ModelKind,
    /// The model: a Hugging Face folder (model.safetensors, sharded *.index.json or
    /// pytorch_model.bin, with config.json; DNABERT-S also tokenizer.json), a weight file,
    /// or for ESM-2 a fair-esm hub checkpoint such as esm2_t36_3B_UR50D.pt.
    #[arg(long, value_name = "PATH")]
    weights: PathBuf,
    /// A FASTA file to embed (repeatable), or a folder of them (*.fa, *.fasta, *.fna, *.faa,
    /// *.fas, *.ffn, *.frn, *.fsa, *.fq, *.fastq, optionally compressed; sorted by name),
    /// e.g. the `nucleotide/` or `protein/` folder of `prepare`.
    #[arg(long = "in", value_name = "FILE", required = true)]
    inputs: Vec<PathBuf>,
    /// Output folder for `{shard}.nucleotide|protein.safetensors` (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// cpu, auto (every CUDA device, else the CPU), a CUDA index (0), or a list (0,1).
    /// One worker per device takes batches as it becomes free.
    #[arg(long, default_value = "auto", value_name = "DEVICES")]
    devices: DeviceChoice,
    /// fp32 (matches the reference models), or bf16 / fp16 on CUDA devices.
    #[arg(long, default_value = "fp32", value_name = "PRECISION")]
    precision: Precision,
    /// Padded tokens per batch (rows × longest row). Default: 8192 on the CPU; on a GPU
    /// sized from its free memory. A batch that runs out of memory is split and retried.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    batch_tokens: Option<u64>,
    /// libtorch's threads for the model on the CPU, 1 to the cores of this machine
    /// (default: libtorch's choice, all cores).
    #[arg(long, value_name = "N", value_parser = virnucpro_core::threads::parse_threads)]
    torch_threads: Option<usize>,
    /// The older name of --torch-threads.
    #[arg(
        long,
        value_name = "N",
        value_parser = virnucpro_core::threads::parse_threads,
        conflicts_with = "torch_threads"
    )]
    threads: Option<usize>,
    /// Recompute files whose outputs are already up to date.
    #[arg(long)]
    force: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &EmbedArgs, cancel: &CancelToken) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let devices: Vec<DeviceId> = args.devices.resolve().context("--devices")?;
    for &device in &devices {
        args.precision.check_device(device.into())?;
    }
    if let Some(threads) = args.torch_threads.or(args.threads) {
        set_cpu_threads(threads);
    }
    let inputs = fasta_inputs(&args.inputs)?;
    std::fs::metadata(&args.weights).map_err(|e| PathError::from_io(&args.weights, e))?;
    let setup = setup_model(args.model, &args.weights, args.precision)?;
    let batch_tokens = match args.batch_tokens {
        Some(n) => usize::try_from(n).context("--batch-tokens")?,
        None => default_budget(&devices),
    };
    let job = setup.job(inputs, args.out.clone());
    let options = EmbedOptions {
        devices: devices.clone(),
        batch_tokens,
        force: args.force,
    };
    tracing::info!(
        model = %setup.model_id,
        devices = %args.devices,
        batch_tokens,
        files = job.inputs.len(),
        "embedding"
    );
    let total = job.inputs.len();
    let mut done = 0usize;
    let report = embed_files(&job, &options, cancel, &mut |event| {
        log_event(event, &mut done, total)
    })?;
    let code = exit_code(&report);
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        let json = serde_json::json!({
            "exit_code": code,
            "model": setup.model_id,
            "batch_tokens": batch_tokens,
            "seconds": seconds,
            "written": count(&report, |s| matches!(s, FileStatus::Written)),
            "up_to_date": count(&report, |s| matches!(s, FileStatus::UpToDate)),
            "failed": report.failed().count(),
            "report": report,
        });
        virnucpro_cli::outln!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        virnucpro_cli::out!("{}", summary(&report, seconds));
    }
    Ok(ExitCode::from(code))
}

/// Files as given, and the FASTA files of folders (sorted by name), found as every
/// command finds them (`core::fasta::discover_inputs`).
fn fasta_inputs(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    match discover_inputs(paths, None) {
        Ok(files) => Ok(files.into_iter().map(|f| f.path).collect()),
        // A missing or unreadable path keeps its own type (and exit code).
        Err(InputError::Path(e)) => Err(e.into()),
        Err(e) => Err(e.into()), // exit::code_for maps the rest (a folder without FASTA: 4)
    }
}

fn log_event(event: &EmbedEvent, done: &mut usize, total: usize) {
    match event {
        EmbedEvent::WorkerReady {
            device,
            dim,
            load_seconds,
            ..
        } => tracing::info!(
            "{device}: model loaded in {load_seconds:.1} s ({dim} values per embedding)"
        ),
        EmbedEvent::FileQueued {
            input,
            sequences,
            tokens,
            batches,
        } => tracing::debug!(
            "{}: {sequences} sequences, {tokens} tokens, {batches} batches",
            input.display()
        ),
        EmbedEvent::BatchDone { .. } => {}
        EmbedEvent::BudgetHalved { device, parts } => {
            tracing::warn!("{device}: out of memory; batches now run in {parts} pieces")
        }
        EmbedEvent::FileDone(outcome) => {
            *done += 1;
            let status = match &outcome.status {
                FileStatus::Written | FileStatus::Embedded { .. } => {
                    format!("{} sequences", outcome.sequences)
                }
                FileStatus::UpToDate => "up to date".into(),
                FileStatus::Failed(f) => format!("failed: {}", f.kind),
            };
            tracing::info!("[{}/{total}] {}: {status}", *done, outcome.input.display());
        }
    }
}

fn count(report: &EmbedReport, f: impl Fn(&FileStatus) -> bool) -> usize {
    report.files.iter().filter(|o| f(&o.status)).count()
}

/// 0: every file written or up to date; 2: some failed; 1: all failed; 130: cancelled.
fn exit_code(report: &EmbedReport) -> u8 {
    let failed = report.failed().count();
    if report.cancelled {
        exit::CANCELLED
    } else if failed > 0 && failed == report.files.len() {
        exit::FAILED
    } else if failed > 0 {
        exit::PARTIAL
    } else {
        exit::OK
    }
}

fn summary(report: &EmbedReport, seconds: f64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} files: {} written, {} up to date, {} failed ({seconds:.1} s)",
        report.files.len(),
        count(report, |s| matches!(s, FileStatus::Written)),
        count(report, |s| matches!(s, FileStatus::UpToDate)),
        report.failed().count(),
    );
    for d in report.devices.iter().filter(|d| d.sequences > 0) {
        let _ = writeln!(
            out,
            "  {}: {} sequences, {} tokens, {:.0} tokens/s, {} out-of-memory splits",
            d.device,
            d.sequences,
            d.tokens,
            d.tokens as f64 / d.seconds.max(1e-9),
            d.oom_splits
        );
    }
    let mut by_kind: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for outcome in report.failed() {
        if let FileStatus::Failed(f) = &outcome.status {
            by_kind
                .entry(f.kind.to_string())
                .or_default()
                .push(f.message.clone());
        }
    }
    for (kind, messages) in by_kind {
        let _ = writeln!(out, "\n{kind} ({}):", messages.len());
        for m in messages {
            let _ = writeln!(out, "  {m}");
        }
    }
    out
}
