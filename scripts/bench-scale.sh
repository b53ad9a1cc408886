#!/usr/bin/env bash
# `make bench-scale`: whole `predict` runs on synthetic 150 bp paired reads (gzip'd FASTQ,
# Illumina-style names) with a stand-in encoder, so that model time does not hide the
# pipeline: wall time, peak RSS, the peak bytes on disk during the run and the bytes left
# after it, per read (crates/engine/examples/bench_scale.rs). Recorded numbers:
# docs/benchmarks.md, "scale".
#   PAIRS="1000000 10000000"  read pairs per run (default)
#   KEEP=1                    also run each size with --keep-features
#   WORK=folder               inputs (kept for the next run) and run folders (removed)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PAIRS="${PAIRS:-1000000 10000000}"
WORK="${WORK:-$root/target/bench-scale}"
mkdir -p "$WORK"
cargo build --release -q --manifest-path "$root/Cargo.toml" -p virnucpro-core --example synthetic_reads
cargo build --release -q --manifest-path "$root/Cargo.toml" -p virnucpro-engine --example bench_scale
examples="${CARGO_TARGET_DIR:-$root/target}/release/examples"
echo "$(nproc) cores; load average before $(cut -d' ' -f1-3 /proc/loadavg)"
for pairs in $PAIRS; do
  reads="$WORK/reads-$pairs"
  if [[ ! -s "$reads/sim_R2.fastq.gz" ]]; then
    mkdir -p "$reads"
    "$examples/synthetic_reads" "$pairs" 150 "$reads/sim_R1.fastq.gz"
  fi
  echo "$pairs pairs: $(du -sb "$reads" | cut -f1) bytes of gzip'd FASTQ in $reads"
  for keep in "" ${KEEP:+--keep-features}; do
    out="$WORK/out-$pairs"
    "$examples/bench_scale" "$reads" "$out" $keep
    rm -rf "$out"
  done
done
