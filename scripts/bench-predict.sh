#!/usr/bin/env bash
# Benchmark of `virnucpro predict` end to end on the CPU with the tiny demo models:
# READS synthetic reads of LEN bp. Prints reads/s and the share of time per stage (from the
# run's own stage_finished events); see docs/benchmarks.md for recorded numbers.
# BIN=path/to/virnucpro skips the release build (e.g. to time a dev build).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
READS="${READS:-20000}"
LEN="${LEN:-500}"
WORK="${WORK:-$(mktemp -d /tmp/virnucpro-bench.XXXXXX)}"
bin="${BIN:-$root/target/release/virnucpro}"
mkdir -p "$WORK"

profile=--release
if [[ -z "${BIN:-}" ]]; then
  cargo build --release -q -p virnucpro-cli --manifest-path "$root/Cargo.toml"
else
  profile=
fi
cargo run $profile -q -p virnucpro-core --example synthetic_reads --manifest-path "$root/Cargo.toml" -- \
  "$READS" "$LEN" "$WORK/reads.fa"
echo "input: $READS reads x $LEN bp in $WORK/reads.fa; $(nproc) cores; load average before $(cut -d' ' -f1-3 /proc/loadavg)"
models="$root/demo/models"
start=$(date +%s.%N)
"$bin" -q predict "$WORK/reads.fa" --length "$LEN" --devices cpu \
  --dnabert "$models/dnabert_s_tiny" --esm "$models/esm2_tiny/esm2_t2_tiny_fixture.pt" \
  --classifier "$models/classifier_500_tiny.pth" --out "$WORK/out" --json-events ${THREADS:+--threads $THREADS} \
  > "$WORK/events.jsonl"
end=$(date +%s.%N)
echo "load average after $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$WORK/events.jsonl" "$start" "$end" "$READS" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
wall = float(sys.argv[3]) - float(sys.argv[2])
reads = int(sys.argv[4])
summary = next(e for e in events if e["event"] == "run_finished")
stages = [(e["stage"], e["seconds"]) for e in events if e["event"] == "stage_finished"]
staged = sum(s for _, s in stages)
print(f"wall {wall:.2f} s (run {summary['seconds']:.2f} s): {reads / wall:.0f} reads/s; "
      f"{summary['frames_scored']} frames scored, {summary['chunks']} chunks")
# Stages overlap (pipelined), so each stage's seconds run from its start to its end and
# the shares add up to more than 100 %.
print(f"{'stage':<14} {'seconds':>8} {'of run':>7}")
for name, s in stages:
    print(f"{name:<14} {s:8.2f} {100 * s / summary['seconds']:6.1f}%")
print(f"the stages' seconds add up to {staged:.2f} s in a {summary['seconds']:.2f} s run")
tp = [e for e in events if e["event"] == "device_throughput"]
for stage in ("embed_dna", "embed_protein"):
    t = [e for e in tp if e["stage"] == stage]
    if t:
        print(f"{stage}: {t[-1]['device']} {t[-1]['tokens_per_second']:.0f} tokens/s in forward passes")
PY
[[ -n "${KEEP:-}" ]] || rm -rf "$WORK"
