#!/usr/bin/env bash
# Benchmark of `virnucpro prepare`: READS synthetic reads of LEN bp, threads 1 and 2.
# Prints reads/s, input MB/s and peak RSS; see docs/benchmarks.md for recorded numbers.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
READS="${READS:-1000000}"
LEN="${LEN:-500}"
WORK="${WORK:-$(mktemp -d /tmp/virnucpro-bench.XXXXXX)}"
bin="$root/target/release/virnucpro"

cargo build --release -q -p virnucpro-cli --manifest-path "$root/Cargo.toml"
cargo run --release -q -p virnucpro-core --example synthetic_reads --manifest-path "$root/Cargo.toml" -- \
  "$READS" "$LEN" "$WORK/reads.fa"
input_bytes=$(stat -c %s "$WORK/reads.fa")
echo "input: $READS reads x $LEN bp, $((input_bytes / 1000000)) MB in $WORK/reads.fa"
echo "$(nproc) cores; $(uname -r)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %8s %8s %12s %10s %14s %12s %10s\n' threads wall_s cpu_s reads_per_s MB_per_s reads_per_cpu_s peak_RSS_MB frames
for threads in 1 2; do
  rm -rf "$WORK/out"
  /usr/bin/time -v "$bin" prepare "$WORK/reads.fa" --length "$LEN" --out "$WORK/out" --threads "$threads" --json \
    > "$WORK/summary.json" 2> "$WORK/time.txt"
  wall=$(python3 - "$WORK/time.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", text)
h, m_, s = m.groups()
print(int(h or 0) * 3600 + int(m_) * 60 + float(s))
PY
)
  rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")
  user=$(sed -n 's/.*User time (seconds): //p' "$WORK/time.txt")
  sys=$(sed -n 's/.*System time (seconds): //p' "$WORK/time.txt")
  frames=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['frames_kept'])" "$WORK/summary.json")
  python3 - "$threads" "$wall" "$READS" "$input_bytes" "$rss_kb" "$frames" "$user" "$sys" <<'PY'
import sys
t, wall, reads, size, rss, frames = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
cpu = float(sys.argv[7]) + float(sys.argv[8])
print(f"{t:<8} {wall:8.2f} {cpu:8.2f} {reads / wall:12.0f} {size / wall / 1e6:10.1f} {reads / cpu:14.0f} {rss / 1024:12.1f} {frames:>10}")
PY
done
du -sh "$WORK/out" | sed 's/^/output size: /'
[[ -n "${KEEP:-}" ]] || rm -rf "$WORK"
