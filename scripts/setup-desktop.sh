#!/usr/bin/env bash
# Setup for the desktop app (src-tauri/) and its real-window tests: WebKitGTK and friends
# to build Tauri, Xvfb + WebKitWebDriver + tauri-driver to drive the window. Idempotent:
# a ready machine costs a few dpkg queries.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Build (../shared/docs/tauri.md, "Packages"), then run/test: a virtual X server, xauth for
# xvfb-run, ImageMagick/x11-utils for screenshots and window checks, the WebDriver server,
# python3-xlib for what WebDriver cannot do (tests/desktop-e2e/x11.py: close the window,
# answer the native dialog).
APT_PACKAGES=(libwebkit2gtk-4.1-dev build-essential curl wget file libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev xvfb xauth imagemagick x11-utils webkit2gtk-driver
  python3-xlib)

source scripts/apt-ensure.sh
ensure_apt_packages "${APT_PACKAGES[@]}"

# tauri-driver only comes from crates.io (about a minute); `cargo install tauri-cli` would
# take half an hour, so the Tauri CLI comes from npm (@tauri-apps/cli) instead.
if ! command -v tauri-driver >/dev/null; then
  echo "installing tauri-driver"
  cargo install tauri-driver --version '^2' --locked
fi
