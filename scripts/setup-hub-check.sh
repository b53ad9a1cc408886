#!/usr/bin/env bash
# huggingface_hub (pinned in crates/models/python/requirements.txt) in .venv-hub/, for the
# test that the Hugging Face cache written by `virnucpro models fetch` is read by the
# Python library as its own. Only that test needs it.
# Idempotent: a venv made from the same pins is left alone.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

venv="$root/.venv-hub"
requirements="$root/crates/models/python/requirements.txt"
stamp="$venv/.installed"

source "$root/scripts/apt-ensure.sh"
ensure_apt_packages python3 python3-venv

want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$venv/bin/python" ]]; then
  echo "huggingface_hub already in $venv"
  exit 0
fi
echo "installing huggingface_hub into $venv"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$requirements"
# Written last: a venv without it (an interrupted install) is made again next time.
echo "$want" >"$stamp"
