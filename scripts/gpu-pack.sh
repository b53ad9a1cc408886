#!/usr/bin/env bash
# Pack .gpu/ for scripts/gpu-check.sh on a lent GPU machine whose only libtorch is the
# torch 2.11 of its Python (../shared/docs/libtorch.md, "The GPU lent for checks"): a
# release build against an unpacked torch 2.11.0 wheel, stripped, plus the fixtures and
# synthetic reads. The libraries themselves do not travel (64 MiB limit); at run time
# LD_LIBRARY_PATH points at the machine's torch/lib. .gpu/ is git-ignored locally
# (.git/info/exclude) and named in the device call's `carry`.
#
# tch 0.26's C++ wrapper names 15 ops that torch 2.11 lacks (philox RNG, lanczos
# upsampling, a newer flash-attention signature, an MPS attention overload). The build
# uses a copy of torch-sys 0.26.0 whose wrappers for exactly those throw instead; the
# engine calls none of them. Users never need any of this: they build against 2.13.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
work=${GPU_BUILD_DIR:-/work/gpu-build}
target=${CARGO_TARGET_DIR:-/work/target-gpu}
mkdir -p "$work"

if [[ ! -f "$work/lt/torch/version.py" ]]; then
  python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_25_x86_64 --platform manylinux2014_x86_64 \
    torch==2.11.0 -d "$work/wheels"
  rm -rf "$work/lt" && mkdir -p "$work/lt"
  (cd "$work/lt" && unzip -q "$work"/wheels/torch-2.11.0-*.whl 'torch/lib/*' 'torch/include/*' 'torch/version.py')
  # libtorch_cpu needs cudart/cupti to link; the 2.13 folder from `make setup` has them.
  cp -r .deps/libtorch/nvidia "$work/lt/"
fi

if [[ ! -d "$work/torch-sys" ]]; then
  cp -r "$(ls -d "$HOME"/.cargo/registry/src/*/torch-sys-0.26.0 | head -1)" "$work/torch-sys"
  python3 - "$work/torch-sys/libtch/torch_api_generated.cpp" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
missing = ["_flash_attention_forward_no_dropout_inplace", "_philox_key_fold_in",
           "_philox_key_split", "_philox_normal", "_philox_normal_", "_philox_normal_out",
           "_philox_uniform", "_philox_uniform_", "_philox_uniform_out",
           "_scaled_dot_product_attention_math_for_mps", "_upsample_lanczos2d_aa",
           "_upsample_lanczos2d_aa_backward", "_upsample_lanczos2d_aa_backward_grad_input",
           "_upsample_lanczos2d_aa_out", "_upsample_lanczos2d_aa_vec"]
count = 0
for name in missing:
    pattern = re.compile(r"(void atg_" + re.escape(name) + r"\([^)]*\) \{\n)(.*?)(\n\}\n)", re.S)
    text, n = pattern.subn(lambda m: m.group(1) + '  PROTECT(throw std::runtime_error('
                           '"not in libtorch 2.11 (GPU check build)");)' + m.group(3), text)
    count += n
if count != len(missing):
    sys.exit(f"patched {count} of {len(missing)} wrappers; torch-sys changed?")
open(path, "w").write(text)
PY
fi

LIBTORCH=$work/lt/torch VIRNUCPRO_ACCEPT_LIBTORCH=2.11. CARGO_TARGET_DIR=$target \
  cargo build --config "patch.crates-io.torch-sys.path=\"$work/torch-sys\"" --release \
  -p virnucpro-cli -p virnucpro-engine --bin virnucpro --bin virnucpro-torch --example encoder_bench
rm -rf .gpu && mkdir -p .gpu/bin .gpu/fixtures/classifier .gpu/fixtures/models
strip -o .gpu/bin/virnucpro "$target/release/virnucpro"
strip -o .gpu/bin/virnucpro-torch "$target/release/virnucpro-torch"
strip -o .gpu/bin/encoder_bench "$target/release/examples/encoder_bench"
shared=../shared/fixtures
cp -r "$shared/e2e" .gpu/fixtures/
cp -r "$shared/models/dnabert_s_tiny" "$shared/models/esm2_tiny_fairesm" .gpu/fixtures/models/
cp "$shared/classifier/mlp_3328x512_cuda.pth" .gpu/fixtures/classifier/
CARGO_TARGET_DIR=$target cargo run --release -q -p virnucpro-core --example synthetic_reads -- \
  "${READS:-2000}" 500 .gpu/reads.fa
chmod -R u+w .gpu
du -sh .gpu
