#!/usr/bin/env bash
# The Snakemake workflow's tools (workflow/, docs/cluster.md): snakemake and its SLURM
# executor plugin, pinned in workflow/requirements.txt and workflow/constraints.txt, in a
# project-local venv, .venv-workflow/, from PyPI. Only the workflow and its tests need
# them; the desktop app and the virnucpro binary do not.
# Idempotent: a venv made from the same pins is left alone (about a second).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

venv="$root/.venv-workflow"
requirements="$root/workflow/requirements.txt"
constraints="$root/workflow/constraints.txt"
stamp="$venv/.installed"

# Debian's python3 makes venvs only with python3-venv (ensurepip).
source "$root/scripts/apt-ensure.sh"
ensure_apt_packages python3 python3-venv

want="$(cat "$requirements" "$constraints" | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$venv/bin/snakemake" && -x "$venv/bin/python" ]]; then
  echo "snakemake ($(sed -n 's/^snakemake==//p' "$requirements")) already in $venv"
  exit 0
fi

if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "error: snakemake 9 needs Python 3.11 or newer; python3 is $(python3 --version 2>&1)" >&2
  exit 1
fi
echo "installing snakemake and its SLURM executor plugin into $venv (a minute or two)"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r "$requirements" -c "$constraints"
# Written last: a venv without it (an interrupted install) is made again next time.
echo "$want" >"$stamp"
echo "snakemake $("$venv/bin/snakemake" --version) installed in $venv"
