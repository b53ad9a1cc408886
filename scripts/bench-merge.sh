#!/usr/bin/env bash
# Merge throughput: 8 pairs x 10 000 rows (768 + 2560 f32), threads 1 and 2, output on disk
# (fsynced) and in RAM (/dev/shm), peak RSS from /usr/bin/time -v; ceilings measured in the
# same run: memcpy, and writing + fsyncing 1 GiB to the same disk. Legacy .pt input too
# (LEGACY=1; written by scripts/legacy_pt.py), side by side with the Python tools' merge
# (scripts/merge_peer.py, PEER_PYTHON). SKIP_SAFETENSORS=1 runs only the legacy part.
# Results: docs/benchmarks.md, `## merge`.
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
  echo "  [$label] peak RSS $(awk -F': ' '/Maximum resident/ {print $2}' "$data/time.txt") KiB, wall $(awk -F': ' '/Elapsed \(wall/ {print $2}' "$data/time.txt"), user $(awk -F': ' '/User time/ {print $2}' "$data/time.txt") s, sys $(awk -F': ' '/System time/ {print $2}' "$data/time.txt") s"
}

uptime
"$bin" memcpy 512
dd if=/dev/zero of="$data/dd" bs=1M count=1024 conv=fsync 2>&1 | tail -1
rm -f "$data/dd"

if [[ ${SKIP_SAFETENSORS:-0} != 1 ]]; then
  "$bin" gen "$data/st" 8 10000 768 2560
  du -sh "$data/st/nuc" "$data/st/prot"
  for threads in 1 2; do
    measure "safetensors, disk, $threads threads" "$bin" run "$data/st" "$threads" "$data/out"
    measure "safetensors, RAM, $threads threads" "$bin" run "$data/st" "$threads" "$shm/out"
  done
  rm -rf "$data/st" "$data/out" "$shm/out"
fi

if [[ ${LEGACY:-0} == 1 ]]; then
  # Legacy .pt input, and the peer: the Python tools' own merge (scripts/merge_peer.py,
  # torch.load / cat / torch.save) on the very same files, in this same run so that both
  # share the machine's load. PEER_PYTHON: a Python with torch (a venv made for the
  # benchmark only); without one the peer is skipped.
  python3 scripts/legacy_pt.py "$data/pt" 8 10000 768 2560
  du -sh "$data/pt/nuc" "$data/pt/prot"
  results="$data/legacy-results.txt"
  for threads in 1 2; do
    for run in $(seq "${REPEAT:-3}"); do
      measure "legacy .pt, RAM, $threads threads, run $run" \
        "$bin" run "$data/pt" "$threads" "$shm/out" | tee -a "$results"
    done
  done
  peer=${PEER_PYTHON:-/tmp/benchvenv/bin/python}
  if "$peer" -c 'import torch' 2> /dev/null; then
    "$peer" -c 'import torch, sys; print("peer: Python", sys.version.split()[0], "torch", torch.__version__)'
    # The tools' own call (torch.load(path): weights_only since torch 2.6), then the
    # faster full unpickler they had before.
    for load in default full; do
      for workers in 0 2; do
        uptime
        measure "peer, $load torch.load, workers $workers" \
          env PEER_TORCH_LOAD="$load" "$peer" scripts/merge_peer.py merge "$data/pt/nuc" "$data/pt/prot" "$shm/peer" "$workers" \
          | tee -a "$results"
        "$peer" scripts/merge_peer.py compare "$shm/peer" "$shm/out"
        rm -rf "$shm/peer"
      done
    done
    # Ratios of the medians (rows/s) of our runs to the peer's merges.
    awk '/rows\/s/ { for (i = 1; i < NF; i++) if ($(i + 1) == "rows/s") v = $i }
         /^threads 1 / { one[++n1] = v } /^threads 2 / { two[++n2] = v }
         /^peer \(default/ && /sequential/ { seqd = v } /^peer \(default/ && /2 workers/ { pard = v }
         /^peer \(full/ && /sequential/ { seqf = v } /^peer \(full/ && /2 workers/ { parf = v }
         function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t } return a[int((n + 1) / 2)] }
         END { m1 = median(one, n1); m2 = median(two, n2)
               printf "summary: ours (median rows/s) 1 thread %.0f, 2 threads %.0f (%.2fx from 1 to 2 threads)\n", m1, m2, m2 / m1
               printf "summary: peer, default torch.load: sequential %.0f (ours 1 thread %.1fx), 2 workers %.0f (ours 2 threads %.1fx)\n", seqd, m1 / seqd, pard, m2 / pard
               printf "summary: peer, full torch.load: sequential %.0f (ours 1 thread %.1fx), 2 workers %.0f (ours 2 threads %.1fx)\n", seqf, m1 / seqf, parf, m2 / parf }' "$results"
  else
    echo "peer skipped: $peer has no torch"
  fi
fi
uptime
