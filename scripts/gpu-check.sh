#!/usr/bin/env bash
# GPU checks, run on a lent CUDA machine (see docs/benchmarks.md, "GPU"). Everything it needs
# travels in .gpu/ (made by scripts/gpu-pack.sh on the build machine): the `virnucpro` and
# `encoder_bench` binaries built against the machine's libtorch, the fixtures and synthetic
# reads. Results: $OUT/gpu-check.log (+ the JSON event streams).
#
#   1. `virnucpro devices --json`: NVML names, memory, PCI matching, CUDA backend loaded.
#   2. e2e fixtures (tiny models) on CUDA in fp32/bf16/fp16 vs the CPU and vs the original.
#   3. Throughput of DNABERT-S and ESM-2 3B (random weights, real shapes) on CUDA.
#   4. `predict` end to end with the real shapes on synthetic reads, with GPU utilisation.
set -uo pipefail
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu-check.log") 2>&1
G=$PWD/.gpu
B=$G/bin
F=$G/fixtures
W=/tmp/gpu-work
rm -rf "$W" && mkdir -p "$W"

torch_lib=$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
export LD_LIBRARY_PATH=$torch_lib
echo "== machine"
nvidia-smi --query-gpu=name,memory.total,driver_version,pci.bus_id --format=csv,noheader
python3 -c 'import torch; print("python torch", torch.__version__, "cuda", torch.version.cuda)'
nproc

step() { echo; echo "== $*"; }
# `virnucpro compare`: labels, scores and features of two runs matched by ID.
compare() { echo "-- $1"; "$B/virnucpro" compare "$2" "$3"; }
timed() { # timed LIMIT_S CMD...: run with a limit, print wall seconds
  local limit=$1; shift
  local t0=$(date +%s.%N)
  timeout "$limit" "$@"
  local rc=$?
  echo >&2 "   (rc=$rc, $(awk "BEGIN {printf \"%.1f\", $(date +%s.%N) - $t0}") s)"
  return $rc
}

step "1. devices"
timed 60 "$B/virnucpro" devices --json | tee "$OUT/devices.json"
timed 60 "$B/virnucpro" devices

step "2. e2e fixtures on CUDA vs CPU vs the original (tiny models)"
for len in 500 300; do
  case_dir=$F/e2e/a$len
  for run in cpu:fp32 0:fp32 0:bf16 0:fp16; do
    dev=${run%%:*} prec=${run##*:}
    timed 120 "$B/virnucpro" -q predict "$case_dir/input.fa" --length $len \
      --dnabert "$F/models/dnabert_s_tiny" --esm "$F/models/esm2_tiny_fairesm/esm2_t2_tiny_fixture.pt" \
      --classifier "$case_dir/classifier.pth" --devices "$dev" --precision "$prec" --keep-features \
      --out "$W/a$len-$dev-$prec" --json-events > "$W/a$len-$dev-$prec.jsonl"
  done
  compare "a$len cpu-fp32 vs original" "$W/a$len-cpu-fp32" "$case_dir/expected/input_merged"
  compare "a$len cuda-fp32 vs original" "$W/a$len-0-fp32" "$case_dir/expected/input_merged"
  for prec in fp32 bf16 fp16; do
    compare "a$len cpu-fp32 vs cuda-$prec" "$W/a$len-cpu-fp32" "$W/a$len-0-$prec"
  done
done
grep -h '"device_throughput"' "$W"/a500-0-fp32.jsonl | tail -2

step "3. encoder throughput on CUDA (random weights, real shapes)"
export TOKENIZER_JSON=$F/models/dnabert_s_tiny/tokenizer.json
timed 60 "$B/encoder_bench" weights dnabert-s "$W/dnabert"
timed 180 "$B/encoder_bench" weights esm2-3b "$W/esm3b"
# PREDICT_ONLY=1: weights only (for 4), no encoder runs; a second, shorter device call.
[[ -n "${PREDICT_ONLY:-}" ]] || for prec in fp32 bf16; do
  timed 90 "$B/encoder_bench" run dnabert-s "$W/dnabert" 4000 8 1 0 $prec     # one sequence per forward
  timed 90 "$B/encoder_bench" run dnabert-s "$W/dnabert" 4000 8 65536 0 $prec
done
if [[ -z "${PREDICT_ONLY:-}" ]]; then
  timed 150 "$B/encoder_bench" run esm2 "$W/esm3b" 1000 8 32768 0 fp32
  timed 150 "$B/encoder_bench" run esm2 "$W/esm3b" 4000 8 65536 0 bf16
  timed 150 "$B/encoder_bench" run esm2 "$W/esm3b" 4000 8 0 0 bf16                # default budget (from free memory)
fi

# ABLATION=1: the fast-path switches one by one on the weights just written (about 6 min;
# scripts/gpu-ablation.sh). `packed` needs the varlen flash op of libtorch 2.13: with this
# torch 2.11 build its variants print error= lines and the others are still measured.
if [[ -n "${ABLATION:-}" ]]; then
  step "3b. fast-path ablation (docs/models.md, Half-precision fast path)"
  OUT=$OUT bash "$(dirname "${BASH_SOURCE[0]}")/gpu-ablation.sh" "$B/encoder_bench" "$W/esm3b" "$W/dnabert"
fi

step "4. predict end to end, real shapes (DNABERT-S + ESM-2 3B + the 3328x512 classifier)"
cp "$TOKENIZER_JSON" "$W/dnabert/" 2>/dev/null
nvidia-smi dmon -s u -d 1 > "$OUT/dmon.txt" 2>&1 &
dmon=$!
for prec in bf16 fp32; do
  timed 200 "$B/virnucpro" -q predict "$G/reads.fa" --length 500 --dnabert "$W/dnabert" --esm "$W/esm3b" \
    --classifier "$F/classifier/mlp_3328x512_cuda.pth" --devices 0 --precision $prec \
    --out "$W/predict-$prec" --json-events > "$OUT/predict-$prec.jsonl"
  python3 - "$OUT/predict-$prec.jsonl" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
s = next(e for e in ev if e["event"] == "run_finished")
print(f"   {s['reads']} reads, {s['frames_scored']} frames in {s['seconds']:.1f} s: {s['reads']/s['seconds']:.0f} reads/s")
for e in ev:
    if e["event"] == "stage_finished":
        print(f"   {e['stage']:<14} {e['seconds']:7.2f} s {100*e['seconds']/s['seconds']:5.1f}%")
    if e["event"] == "device_throughput":
        last = e
for st in ("embed_dna", "embed_protein"):
    t = [e for e in ev if e["event"] == "device_throughput" and e["stage"] == st]
    if t:
        print(f"   {st}: {t[-1]['tokens_per_second']:.0f} tokens/s in forward passes")
PY
done
kill $dmon 2>/dev/null
cp "$W/predict-bf16/run-manifest.json" "$OUT/manifest-bf16.json" 2>/dev/null
echo "   resume of the finished bf16 run (everything reused, reports kept):"
timed 200 "$B/virnucpro" -q predict "$G/reads.fa" --length 500 --dnabert "$W/dnabert" --esm "$W/esm3b" \
  --classifier "$F/classifier/mlp_3328x512_cuda.pth" --devices 0 --precision bf16 \
  --out "$W/predict-bf16" --json-events > "$OUT/resume-bf16.jsonl"
grep -o '"plan":.*' "$OUT/resume-bf16.jsonl" | head -1
echo "   GPU utilisation samples (sm %): $(awk '$1 ~ /^[0-9]+$/ {printf "%s ", $2}' "$OUT/dmon.txt")"
echo; echo "== done"
