#!/usr/bin/env bash
# Whole-process cost of the commands that run no model (issue 18 part 3): `virnucpro
# --version` and `virnucpro prepare` on READS synthetic reads, against `virnucpro-torch
# --version` (the same start-up with libtorch loaded) and, with BEFORE=path, another build
# of `virnucpro` (e.g. one from before the split, which loaded libtorch for every command).
# RUNS runs each; prints the median wall time and peak RSS. See docs/benchmarks.md.
#
#   BEFORE=/tmp/virnucpro-old bash scripts/bench-startup.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
READS="${READS:-20000}"
LEN="${LEN:-500}"
RUNS="${RUNS:-7}"
WORK="${WORK:-$(mktemp -d /tmp/virnucpro-startup.XXXXXX)}"
bin="$root/target/release/virnucpro"

cargo build --release -q -p virnucpro-cli --manifest-path "$root/Cargo.toml"
cargo run --release -q -p virnucpro-core --example synthetic_reads --manifest-path "$root/Cargo.toml" -- \
  "$READS" "$LEN" "$WORK/reads.fa"
echo "input: $READS reads x $LEN bp in $WORK/reads.fa; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

# Median wall seconds and peak RSS (MiB) of RUNS runs of the command line given.
measure() {
  local label="$1"
  shift
  : > "$WORK/times"
  for _ in $(seq "$RUNS"); do
    rm -rf "$WORK/out"
    /usr/bin/time -f '%e %M' -a -o "$WORK/times" "$@" > /dev/null 2> /dev/null
  done
  python3 - "$label" "$WORK/times" <<'PY'
import statistics, sys
label, path = sys.argv[1], sys.argv[2]
rows = [line.split() for line in open(path) if line.strip()]
wall = statistics.median(float(r[0]) for r in rows)
rss = statistics.median(int(r[1]) for r in rows) / 1024
print(f"{label:<44} {wall:8.3f} s {rss:8.1f} MiB")
PY
}

prepare=(prepare "$WORK/reads.fa" --length "$LEN" --out "$WORK/out")
measure "virnucpro --version" "$bin" --version
measure "virnucpro-torch --version (loads libtorch)" "$bin-torch" --version
measure "virnucpro prepare" "$bin" "${prepare[@]}"
if [[ -n ${BEFORE:-} ]]; then
  measure "BEFORE --version" "$BEFORE" --version
  measure "BEFORE prepare" "$BEFORE" "${prepare[@]}"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
