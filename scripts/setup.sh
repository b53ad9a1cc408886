#!/usr/bin/env bash
# One-command setup for a fresh Debian 12 machine (and a no-op on a ready one):
# system packages, the pinned Rust toolchain check, and libtorch 2.13.0 in .deps/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# C/C++ toolchain for torch-sys' wrapper, unzip for the libtorch wheels, Python's pip to
# fetch them, GNU time for the benchmarks' peak-RSS figures.
APT_PACKAGES=(build-essential pkg-config unzip ca-certificates python3 python3-pip time)

source scripts/apt-ensure.sh
ensure_apt_packages "${APT_PACKAGES[@]}"

if ! command -v cargo >/dev/null; then
  echo "error: cargo not found; install rustup and the toolchain named in rust-toolchain.toml" >&2
  exit 1
fi
# rust-toolchain.toml pins the version; this fails early and clearly if it is absent.
cargo --version >/dev/null

bash scripts/fetch-libtorch.sh
bash scripts/setup-workflow.sh  # snakemake + SLURM plugin for workflow/, in .venv-workflow/
bash scripts/setup-hub-check.sh  # huggingface_hub for the cache-layout test, in .venv-hub/
bash scripts/setup-desktop-ui.sh  # Chromium for the UI's browser tests
bash scripts/setup-desktop.sh  # WebKitGTK, Xvfb, WebKitWebDriver, tauri-driver for the app
# The UI's packages, from the lockfile; again only when the lockfile changed.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi

# The GPU runtime (libtorch's CUDA libraries, ~2.5 GB from PyPI, no Python needed) on a
# machine with an NVIDIA driver, or when asked for: `virnucpro runtime fetch` itself, so
# that setup and users get the same, verified install (docs/gpu-runtime.md).
if [[ ${VIRNUCPRO_CUDA:-0} == 1 || -e /proc/driver/nvidia/version ]]; then
  cargo run --quiet --release -p virnucpro-cli -- runtime fetch
fi
