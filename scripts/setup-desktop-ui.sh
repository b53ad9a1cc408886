#!/usr/bin/env bash
# Setup for the desktop UI's browser tests (`npm run ui:test`) on Debian 12, and a no-op
# on a ready machine: the Debian Chromium that playwright-core drives headless. Node 20
# and npm are assumed; `npm ci` installs the rest from the lockfile.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# playwright-core ships no browser: the tests launch /usr/bin/chromium, whose package
# brings every library a headless run needs.
source scripts/apt-ensure.sh
ensure_apt_packages chromium

if ! command -v node >/dev/null; then
  echo "error: node not found; install Node 20.19 or later and npm" >&2
  exit 1
fi
