#!/usr/bin/env bash
# One-command setup for a fresh Debian 12 machine (and a no-op on a ready one):
# system packages, the pinned Rust toolchain check, and libtorch 2.13.0 in .deps/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# C/C++ toolchain for torch-sys' wrapper, unzip for the libtorch wheels, Python's pip to
# fetch them, GNU time for the benchmarks' peak-RSS figures.
APT_PACKAGES=(build-essential pkg-config unzip ca-certificates python3 python3-pip time)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "installing apt packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
  echo "error: cargo not found; install rustup and the toolchain named in rust-toolchain.toml" >&2
  exit 1
fi
# rust-toolchain.toml pins the version; this fails early and clearly if it is absent.
cargo --version >/dev/null

bash scripts/fetch-libtorch.sh
bash scripts/setup-desktop.sh
