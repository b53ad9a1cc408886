#!/usr/bin/env bash
# Fetch libtorch 2.13.0 into .deps/libtorch without installing Python torch.
# Recipe and reasons: ../shared/docs/libtorch.md ("Getting libtorch without Python").
# Idempotent: a verified install is left alone.
set -euo pipefail

TORCH_VERSION=2.13.0
CUDART_VERSION=13.0.96
CUPTI_VERSION=13.0.85
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/.deps/libtorch"
stamp="$dest/.installed-$TORCH_VERSION"

installed_version() {
  sed -n "s/^__version__ = '\(.*\)'$/\1/p" "$dest/torch/version.py" 2>/dev/null || true
}

if [[ -f "$stamp" && "$(installed_version)" == "$TORCH_VERSION"* ]]; then
  echo "libtorch $(installed_version) already in $dest"
  exit 0
fi

work="$(mktemp -d "$root/.deps/fetch.XXXXXX" 2>/dev/null || { mkdir -p "$root/.deps"; mktemp -d "$root/.deps/fetch.XXXXXX"; })"
trap 'rm -rf "$work"' EXIT
echo "fetching libtorch $TORCH_VERSION (wheels from PyPI) into $dest"
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_25_x86_64 --platform manylinux2014_x86_64 \
  "torch==$TORCH_VERSION" "nvidia-cuda-runtime==$CUDART_VERSION" "nvidia-cuda-cupti==$CUPTI_VERSION" \
  -d "$work/wheels"

mkdir -p "$work/out"
(
  cd "$work/out"
  unzip -q "$work"/wheels/torch-"$TORCH_VERSION"-*.whl 'torch/lib/*' 'torch/include/*' 'torch/version.py'
  unzip -q -o "$work"/wheels/nvidia_cuda_runtime-*.whl 'nvidia/cu13/lib/libcudart.so.13'
  unzip -q -o "$work"/wheels/nvidia_cuda_cupti-*.whl 'nvidia/cu13/lib/libcupti.so.13'
  # CUDA kernels are for GPU users with a full torch install; the CPU libs still need
  # cudart/cupti, found through their RPATH ($ORIGIN/../../nvidia/...), so keep the layout.
  rm -rf torch/lib/{libtorch_cuda.so,libtorch_cuda_linalg.so,libc10_cuda.so,libtorch_nvshmem.so,libcaffe2_nvrtc.so,libtorch_python.so,libshm*}
)

got="$(sed -n "s/^__version__ = '\(.*\)'$/\1/p" "$work/out/torch/version.py")"
if [[ "$got" != "$TORCH_VERSION"* ]]; then
  echo "error: expected libtorch $TORCH_VERSION, the wheel says '$got'" >&2
  exit 1
fi
rm -rf "$dest"
mv "$work/out" "$dest"
touch "$stamp"
echo "libtorch $got installed in $dest"
