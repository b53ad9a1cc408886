#!/usr/bin/env bash
# The half-precision fast-path switches of the encoders (docs/models.md, "Half-precision
# fast path"), each measured on its own on a lent CUDA machine. Called by
# scripts/gpu-check.sh when ABLATION=1, after step 3 has written the random-weight models:
#
#   bash scripts/gpu-ablation.sh "$B/encoder_bench" "$W/esm3b" "$W/dnabert"
#
# Each line `variant=...` gives best and mean tokens/s over the rounds and the largest
# difference of that variant's embeddings from the exact path's (`none`). Every model is
# loaded once per precision; the variants take turns over the same batches. The output goes
# to stdout and, with OUT set, to $OUT/gpu-ablation.log. About 5-6 minutes on an H200
# (ESM-2 3B dominates; ABLATION_ESM_SEQS scales it).
#
# `packed` (off by default) is measured in runs of its own: it calls the varlen flash kernel
# `_flash_attention_forward_no_dropout_inplace`, which libtorch 2.13 has and the torch 2.11
# build of scripts/gpu-pack.sh stubs out. There its variants print `error=... 'packed'
# failed ...` and the ablate exits non-zero; every other variant is still measured.
set -uo pipefail
if [[ $# -ne 3 ]]; then
  echo "usage: $0 ENCODER_BENCH ESM2_DIR DNABERT_DIR" >&2
  exit 2
fi
bench=$1 esm=$2 dnabert=$3
device=${ABLATION_DEVICE:-0}
esm_seqs=${ABLATION_ESM_SEQS:-1000}
if [[ -n "${OUT:-}" ]]; then
  mkdir -p "$OUT"
  exec > >(tee "$OUT/gpu-ablation.log") 2>&1
fi

rc=0
ablate() { # ablate LIMIT_S VARIANTS MODEL DIR SEQS BUDGET PRECISION ROUNDS [LENGTHS]
  local limit=$1 variants=$2; shift 2
  echo
  echo "== ablate $* (variants: ${variants:-default})"
  local t0=$(date +%s)
  if [[ -n "$variants" ]]; then
    VIRNUCPRO_FASTPATH=$variants timeout "$limit" "$bench" ablate "$1" "$2" "$3" "$4" "$device" "$5" "$6" "${@:7}"
  else
    timeout "$limit" "$bench" ablate "$1" "$2" "$3" "$4" "$device" "$5" "$6" "${@:7}"
  fi
  local status=$?
  echo "   (rc=$status, $(( $(date +%s) - t0 )) s)"
  [[ $status -eq 0 ]] || rc=$status
}

# pool, gelu and packed change nothing in DNABERT-S (it pools with a mask, has the aten
# gelu, and has no packed path: docs/models.md).
dna_variants="none;all;none,+position_cache;none,+in_place;-position_cache;-in_place"

# ESM-2 3B: every switch of the default alone and left out of it, at the run's budget.
esm_default="none;-packed;-pool,-packed;-position_cache,-packed;-gelu,-packed;-in_place,-packed"
esm_default+=";none,+pool;none,+position_cache;none,+gelu;none,+in_place"
ablate 240 "$esm_default" esm2 "$esm" "$esm_seqs" 65536 bf16 2
# packed on its own and on top of the default: rows of one length (no padding to remove,
# only the kernels differ) and of mixed lengths (1-166 residues, padded at batch edges, so
# the padded path passes a mask and SDPA cannot take its flash kernel).
packed_variants="none;-packed;all;none,+packed"
ablate 150 "$packed_variants" esm2 "$esm" "$esm_seqs" 65536 bf16 2 fixed
ablate 150 "$packed_variants" esm2 "$esm" "$esm_seqs" 65536 bf16 2 mixed
# Small batches, where per-row pooling and host reads weigh most next to the matmuls.
# (`-packed`: the default, what `all` was before `packed`.)
ablate 120 "none;-packed;-pool,-packed;none,+pool" esm2 "$esm" 200 2048 bf16 2
ablate 150 "none;-packed" esm2 "$esm" "$esm_seqs" 65536 fp16 2
# DNABERT-S: the run's budget, and one sequence per forward (launch-bound).
ablate 120 "$dna_variants" dnabert-s "$dnabert" 4000 65536 bf16 3
ablate 120 "$dna_variants" dnabert-s "$dnabert" 300 1 bf16 2
ablate 90 "none;all" dnabert-s "$dnabert" 4000 65536 fp16 2
echo
echo "== ablation done (rc=$rc)"
exit $rc
