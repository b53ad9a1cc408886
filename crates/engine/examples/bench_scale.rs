//! A whole `predict` run at metagenome scale with a stand-in encoder, so that model time
//! does not hide the pipeline (`make bench-scale`, scripts/bench-scale.sh; recorded numbers
//! in docs/benchmarks.md, "scale").
//!
//! ```text
//! bench_scale INPUT OUT [--keep-features]
//! ```
//! INPUT is a file or folder of reads (the script writes paired `_R1`/`_R2` FASTQ.gz). The
//! run is the real one (prepare, the embedding runner's batching and devices, merge,
//! classify, reports, resume records) with the tiny demo models' tokenizers and classifier;
//! only the encoders' forward pass is replaced by one that returns a constant-cost row per
//! sequence. Prints one JSON line: reads, frames, wall seconds, peak RSS, the peak bytes
//! under OUT during the run and the bytes left after it.
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tch::{Device, Kind, Tensor};
use virnucpro_core::cancel::CancelToken;
use virnucpro_core::events::RunEvent;
use virnucpro_engine::devices::{DeviceChoice, DeviceId};
use virnucpro_engine::embed::{EmbedError, EncoderFactory};
use virnucpro_engine::encode::Encode;
use virnucpro_engine::run::{run_validated, validate, RunOptions, RunSpec};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Rows of `dim` values that depend on each sequence's length: no model, no FLOPs to speak
/// of, but a real tensor of the real shape per batch.
struct StandIn {
    dim: usize,
}

impl Encode for StandIn {
    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, _ids: &Tensor, lengths: &[i64]) -> std::result::Result<Tensor, tch::TchError> {
        let lengths = Tensor::from_slice(lengths).to_kind(Kind::Float) / 1000.0;
        let columns = Tensor::arange(self.dim as i64, (Kind::Float, Device::Cpu)) / 10_000.0;
        Ok(lengths.unsqueeze(1) + columns.unsqueeze(0))
    }
}

fn stand_in(dim: usize) -> Box<dyn EncoderFactory> {
    Box::new(
        move |_device: Device| -> std::result::Result<Box<dyn Encode>, EmbedError> {
            Ok(Box::new(StandIn { dim }))
        },
    )
}

/// Sampled every 100 ms until stopped: the largest total size of the files under a folder
/// and the largest anonymous and file-backed resident memory (VmHWM counts both; only the
/// first is memory a run takes from others: mapped file pages are page cache). With
/// `BENCH_TIMELINE=1`, one line a second on stderr: seconds, RssAnon, RssFile, disk.
struct Sampler {
    peaks: Arc<[AtomicU64; 3]>,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

/// The peaks a `Sampler` saw.
struct Peaks {
    disk: u64,
    anon: u64,
    file: u64,
}

impl Sampler {
    fn start(folder: PathBuf) -> Self {
        let peaks = Arc::new([AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)]);
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (Arc::clone(&peaks), Arc::clone(&stop));
        let timeline = std::env::var_os("BENCH_TIMELINE").is_some();
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut tick = 0u64;
            while !s.load(Ordering::Relaxed) {
                let now = [
                    bytes_under(&folder),
                    status_bytes("RssAnon"),
                    status_bytes("RssFile"),
                ];
                for (peak, value) in p.iter().zip(now) {
                    peak.fetch_max(value, Ordering::Relaxed);
                }
                if timeline && (tick.is_multiple_of(10) || now[2] > 150_000_000) {
                    let mb = |b: u64| b / 1_000_000;
                    eprintln!(
                        "t={:7.1}s anon={:5} MB file={:5} MB disk={:6} MB",
                        started.elapsed().as_secs_f64(),
                        mb(now[1]),
                        mb(now[2]),
                        mb(now[0])
                    );
                }
                tick += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Self {
            peaks,
            stop,
            thread,
        }
    }

    fn finish(self) -> Peaks {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        let [disk, anon, file] = [0, 1, 2].map(|i| self.peaks[i].load(Ordering::Relaxed));
        Peaks { disk, anon, file }
    }
}

/// Bytes of the files under `folder` (files vanishing meanwhile count as gone).
fn bytes_under(folder: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => bytes_under(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}

/// A size field of /proc/self/status (`VmHWM`: the peak resident set; `RssAnon`, `RssFile`:
/// the resident set now, by kind), in bytes.
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(input), Some(out)) = (args.get(1), args.get(2)) else {
        return Err("usage: bench_scale INPUT OUT [--keep-features]".into());
    };
    let keep_features = args.iter().any(|a| a == "--keep-features");
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demo/models");
    let mut spec = RunSpec::new(
        vec![PathBuf::from(input)],
        models.join("dnabert_s_tiny"),
        models.join("esm2_tiny/esm2_t2_tiny_fixture.pt"),
        models.join("classifier_500_tiny.pth"),
        500,
        PathBuf::from(out),
    );
    spec.devices = DeviceChoice::List(vec![DeviceId::Cpu]);
    spec.keep_features = keep_features;
    let mut validated = validate(&spec).map_err(|problems| format!("{problems:?}"))?;
    for model in [&mut validated.dnabert, &mut validated.esm] {
        let dim = model.dim.ok_or("a demo model without a known width")?;
        model.factory = stand_in(dim);
    }

    let sampler = Sampler::start(PathBuf::from(out));
    let started = Instant::now();
    let mut on_event = |event: &RunEvent| {
        if let RunEvent::StageFinished { stage, seconds, .. } = event {
            eprintln!(
                "t={:7.1}s {stage:?} finished ({seconds:.1} s)",
                started.elapsed().as_secs_f64()
            );
        }
    };
    let outcome = run_validated(
        &mut validated,
        RunOptions { restart: true },
        &CancelToken::new(),
        &mut on_event,
    )?;
    let wall = started.elapsed().as_secs_f64();
    let peaks = sampler.finish();
    let peak_disk = peaks.disk;
    let after = bytes_under(Path::new(out));
    let s = &outcome.summary;
    let reads = s.reads.max(1) as f64;
    println!(
        "{}",
        serde_json::json!({
            "reads": s.reads,
            "frames": s.frames_scored,
            "keep_features": keep_features,
            "wall_seconds": wall,
            "reads_per_second": s.reads as f64 / wall,
            "peak_rss_bytes": status_bytes("VmHWM"),
            "peak_rss_anon_bytes": peaks.anon,
            "peak_rss_file_bytes": peaks.file,
            "rss_anon_bytes_after": status_bytes("RssAnon"),
            "rss_file_bytes_after": status_bytes("RssFile"),
            "peak_disk_bytes": peak_disk,
            "peak_disk_bytes_per_read": peak_disk as f64 / reads,
            "after_bytes": after,
            "after_bytes_per_read": after as f64 / reads,
            "failures": outcome.failures.len(),
        })
    );
    Ok(())
}
