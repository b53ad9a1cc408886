#!/usr/bin/env bash
# Setup for the desktop app (src-tauri/) and its real-window tests: WebKitGTK and friends
# to build Tauri, Xvfb + WebKitWebDriver + tauri-driver to drive the window. Idempotent:
# a ready machine costs a few dpkg queries.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Build (../shared/docs/tauri.md, "Packages"), then run/test: a virtual X server, xauth for
# xvfb-run, ImageMagick/x11-utils for screenshots and window checks, the WebDriver server.
APT_PACKAGES=(libwebkit2gtk-4.1-dev build-essential curl wget file libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev xvfb xauth imagemagick x11-utils webkit2gtk-driver)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "installing apt packages for the desktop app: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  # Other setups may hold the dpkg lock for a while (several worktrees on one machine).
  apt=(apt-get -o DPkg::Lock::Timeout=600)
  "${sudo_cmd[@]}" "${apt[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}"
fi

# tauri-driver only comes from crates.io (about a minute); `cargo install tauri-cli` would
# take half an hour, so the Tauri CLI comes from npm (@tauri-apps/cli) instead.
if ! command -v tauri-driver >/dev/null; then
  echo "installing tauri-driver"
  cargo install tauri-driver --version '^2' --locked
fi
