#!/usr/bin/env bash
# Merge throughput: 8 pairs x 10 000 rows (768 + 2560 f32), threads 1 and 2, peak RSS from
# /usr/bin/time -v, and a memcpy ceiling measured in the same run. Results: docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -p virnucpro-core --example merge_bench
bin="$CARGO_TARGET_DIR/release/examples/merge_bench"
data=$(mktemp -d "${TMPDIR:-/tmp}/merge-bench.XXXXXX")
trap 'rm -rf "$data"' EXIT
"$bin" gen "$data" 8 10000 768 2560
du -sh "$data/nuc" "$data/prot"
"$bin" memcpy 512
for threads in 1 2; do
  /usr/bin/time -v "$bin" run "$data" "$threads" 2> "$data/time-$threads.txt"
  grep -E 'Maximum resident set size|Elapsed \(wall clock\)' "$data/time-$threads.txt"
done
