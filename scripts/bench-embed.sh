#!/usr/bin/env bash
# Encoder throughput on the CPU with random weights in the real shapes (DNABERT-S: 12 x 768,
# ESM-2 35M: 12 x 480): one sequence per forward (as the original runs DNABERT-S) versus
# token-budget batches, with 1 and 2 threads; and peak RSS while loading a 2.6 GB model
# file (ESM-2 650M shape). Results: docs/benchmarks.md, `## embed`.
# DNA_SEQS / PROT_SEQS change the number of sequences (500 bp reads, 166-residue proteins).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -p virnucpro-engine --example encoder_bench
bin="$CARGO_TARGET_DIR/release/examples/encoder_bench"
data=$(mktemp -d "${TMPDIR:-/tmp}/embed-bench.XXXXXX")
trap 'rm -rf "$data"' EXIT
dna_seqs=${DNA_SEQS:-64}
prot_seqs=${PROT_SEQS:-128}

uptime
"$bin" weights dnabert-s "$data/dnabert"
"$bin" weights esm2-35m "$data/esm35"
for threads in 1 2; do
  for budget in 1 8192; do
    "$bin" run dnabert-s "$data/dnabert" "$dna_seqs" "$threads" "$budget"
    "$bin" run esm2 "$data/esm35" "$prot_seqs" "$threads" "$budget"
  done
done

"$bin" weights esm2-650m "$data/esm650"
rm -rf "$data/dnabert" "$data/esm35"
sync
/usr/bin/time -v "$bin" load esm2 "$data/esm650" 2> "$data/time.txt"
echo "  /usr/bin/time: peak RSS $(awk -F': ' '/Maximum resident/ {print $2}' "$data/time.txt") KiB"
uptime
