//! Merge throughput (see docs/benchmarks.md, `## merge`; driven by scripts/bench-merge.sh).
//!
//! ```text
//! merge_bench gen DIR [PAIRS ROWS DIM_N DIM_P]   write DIR/nuc, DIR/prot (safetensors)
//! merge_bench run DIR THREADS [OUT]              merge DIR/{nuc,prot} into OUT (default DIR/out-THREADS)
//! merge_bench memcpy MIB                         memcpy bandwidth over a MIB-sized buffer
//! merge_bench decode FILE                        decode one legacy .pt file; peak memory
//! ```
use std::path::Path;
use std::time::Instant;

use virnucpro_core::features::{write_features, FeatureKind, FeatureMeta};
use virnucpro_core::merge::{merge_dirs, no_progress, MergeOptions, PairOutcome};

fn arg<T: std::str::FromStr>(args: &[String], i: usize, default: T) -> T {
    args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("gen") => {
            let dir = Path::new(&args[2]);
            let pairs: usize = arg(&args, 3, 8);
            let rows: usize = arg(&args, 4, 10_000);
            let (dim_n, dim_p): (usize, usize) = (arg(&args, 5, 768), arg(&args, 6, 2560));
            generate(dir, pairs, rows, dim_n, dim_p)
        }
        Some("run") => {
            let dir = Path::new(&args[2]);
            let threads: usize = arg(&args, 3, 1);
            let out = args
                .get(4)
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| dir.join(format!("out-{threads}")));
            run(dir, threads, &out)
        }
        Some("decode") => {
            // Peak memory of decoding one legacy file alone (the rows and what they cost).
            let features = virnucpro_core::legacy::read_legacy_features(Path::new(&args[2]))?;
            println!(
                "{} rows x {} ({} MiB of rows); {}",
                features.ids.len(),
                features.dim,
                (features.data.len() * 4) >> 20,
                peak_rss()
            );
            Ok(())
        }
        Some("memcpy") => {
            memcpy(arg(&args, 2, 512));
            Ok(())
        }
        _ => Err(
            "usage: merge_bench gen DIR [PAIRS ROWS DIM_N DIM_P] | run DIR THREADS | memcpy MIB | decode FILE"
                .into(),
        ),
    }
}

fn generate(
    dir: &Path,
    pairs: usize,
    rows: usize,
    dim_n: usize,
    dim_p: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    for (side, kind, dim) in [
        ("nuc", FeatureKind::Nucleotide, dim_n),
        ("prot", FeatureKind::Protein, dim_p),
    ] {
        std::fs::create_dir_all(dir.join(side))?;
        for k in 1..=pairs {
            let shard = format!("output_{k}");
            let mut ids: Vec<String> = (0..rows).map(|i| format!("read{i}_chunk_1F1")).collect();
            if kind == FeatureKind::Protein {
                ids.reverse();
            }
            let data: Vec<f32> = (0..rows * dim).map(|i| (i % 9973) as f32 * 1e-3).collect();
            let meta = FeatureMeta {
                kind,
                model: "bench".into(),
                dim,
                ids,
                inputs: vec![],
            };
            write_features(&dir.join(side).join(kind.file_name(&shard)), &meta, &data)?;
        }
    }
    Ok(())
}

fn run(dir: &Path, threads: usize, out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    if out.exists() {
        std::fs::remove_dir_all(out)?;
    }
    let opts = MergeOptions {
        threads: Some(threads),
        ..MergeOptions::default()
    };
    let start = Instant::now();
    let report = merge_dirs(
        &dir.join("nuc"),
        &dir.join("prot"),
        out,
        &opts,
        &no_progress,
    )?;
    let secs = start.elapsed().as_secs_f64();
    let failed = report.failed().count();
    if failed > 0 {
        return Err(format!("{failed} pairs failed").into());
    }
    let (bin, bout) = (report.bytes_in() as f64, report.bytes_out() as f64);
    let rows: usize = report
        .pairs
        .iter()
        .map(|p| match p.outcome {
            PairOutcome::Merged { rows } | PairOutcome::Skipped { rows } => rows,
            PairOutcome::Failed(_) => 0,
        })
        .sum();
    println!(
        "threads {} pairs {} rows {rows} in {:.3} GB out {:.3} GB time {secs:.3} s | in {:.3} GB/s out {:.3} GB/s | {:.2} pairs/s | {:.0} rows/s | peak pairs in flight {}",
        report.threads,
        report.pairs.len(),
        bin / 1e9,
        bout / 1e9,
        bin / 1e9 / secs,
        bout / 1e9 / secs,
        report.pairs.len() as f64 / secs,
        rows as f64 / secs,
        report.peak_pairs_in_flight
    );
    Ok(())
}

fn memcpy(mib: usize) {
    let n = mib << 20;
    let src: Vec<u8> = (0..n).map(|i| i as u8).collect();
    let mut dst = vec![0u8; n];
    dst.copy_from_slice(&src); // fault the pages in
    let reps = 8;
    let start = Instant::now();
    for r in 0..reps {
        dst.copy_from_slice(&src);
        std::hint::black_box(&mut dst[r]);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "memcpy {mib} MiB x {reps}: {:.2} GB/s (bytes copied per second, one thread)",
        (n * reps) as f64 / 1e9 / secs
    );
}

/// The process's peak resident set so far, as Linux reports it (`VmHWM`).
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "VmHWM unknown".into())
}
