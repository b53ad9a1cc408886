#!/usr/bin/env bash
# Merge throughput: 8 pairs x 10 000 rows (768 + 2560 f32), threads 1 and 2, output on disk
# (fsynced) and in RAM (/dev/shm), peak RSS from /usr/bin/time -v; ceilings measured in the
# same run: memcpy, and writing + fsyncing 1 GiB to the same disk. Legacy .pt input too
# (LEGACY=1; written by scripts/legacy_pt.py). Results: docs/benchmarks.md, `## merge`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -p virnucpro-core --example merge_bench
bin="$CARGO_TARGET_DIR/release/examples/merge_bench"
data=$(mktemp -d "${TMPDIR:-/tmp}/merge-bench.XXXXXX")
shm=$(mktemp -d /dev/shm/merge-bench.XXXXXX)
trap 'rm -rf "$data" "$shm"' EXIT

measure() { # label, then the command
  local label=$1; shift
  /usr/bin/time -v "$@" 2> "$data/time.txt"
  echo "  [$label] peak RSS $(awk -F': ' '/Maximum resident/ {print $2}' "$data/time.txt") KiB"
}

uptime
"$bin" memcpy 512
dd if=/dev/zero of="$data/dd" bs=1M count=1024 conv=fsync 2>&1 | tail -1
rm -f "$data/dd"

"$bin" gen "$data/st" 8 10000 768 2560
du -sh "$data/st/nuc" "$data/st/prot"
for threads in 1 2; do
  measure "safetensors, disk, $threads threads" "$bin" run "$data/st" "$threads" "$data/out"
  measure "safetensors, RAM, $threads threads" "$bin" run "$data/st" "$threads" "$shm/out"
done

if [[ ${LEGACY:-0} == 1 ]]; then
  python3 scripts/legacy_pt.py "$data/pt" 8 10000 768 2560
  du -sh "$data/pt/nuc" "$data/pt/prot"
  for threads in 1 2; do
    measure "legacy .pt, RAM, $threads threads" "$bin" run "$data/pt" "$threads" "$shm/out"
  done
fi
uptime
