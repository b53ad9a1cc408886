#!/usr/bin/env bash
# The release packages (docs/packaging.md):
#   - a .deb of the desktop app (Tauri's bundler: desktop entry, icon, declared dependencies)
#     that also carries the `virnucpro` CLI, the CPU libtorch both were built against, the
#     demo and the docs. The app finds libtorch through the RUNPATH
#     `$ORIGIN/../lib/virnucpro/torch/lib` (src-tauri/build.rs), `virnucpro-torch` (the
#     CLI's commands that run a model) through `$ORIGIN/torch/lib` (crates/cli/build.rs):
#     → /usr/lib/virnucpro/torch/lib, no LD_LIBRARY_PATH; `virnucpro` links none;
#   - the server tarball of the CLI (scripts/package-cli.sh, which also checks it).
#
#   scripts/package.sh [OUT_DIR]     (PROFILE=debug for a quick check of the layout)
# The machine-specific paths (target folder, libtorch) go in a config overlay made here,
# so tauri.conf.json names none.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${1:-$root/target/package}"
profile="${PROFILE:-release}"
target="$(cd "${CARGO_TARGET_DIR:-target}" 2>/dev/null && pwd || echo "$root/target")"
libtorch="$root/.deps/libtorch"
mkdir -p "$out"
# Release binaries without their debug info (the release profile keeps it for profiling):
# 137 and 197 MB with it. (A change of profile settings rebuilds the release once.)
export CARGO_PROFILE_RELEASE_STRIP=debuginfo

if [[ $profile == release ]]; then
  cargo build --release -p virnucpro-cli
  tauri_profile=()
else
  cargo build -p virnucpro-cli
  tauri_profile=(--debug)
fi

overlay="$(mktemp "${TMPDIR:-/tmp}/virnucpro-deb.XXXXXX.json")"
trap 'rm -f "$overlay"' EXIT
python3 - "$overlay" "$target/$profile/virnucpro" "$libtorch" "$root" <<'PY'
import json, sys
overlay, cli, libtorch, root = sys.argv[1:]
files = {
    "/usr/bin/virnucpro": cli,
    "/usr/lib/virnucpro/virnucpro-torch": f"{cli}-torch",
    "/usr/lib/virnucpro/torch/lib": f"{libtorch}/torch/lib/",
    "/usr/lib/virnucpro/torch/version.py": f"{libtorch}/torch/version.py",
    # libtorch's own RUNPATH finds cudart/cupti at $ORIGIN/../../nvidia/cu13/lib.
    "/usr/lib/virnucpro/nvidia/cu13/lib": f"{libtorch}/nvidia/cu13/lib/",
    "/usr/share/doc/virnucpro/README.md": f"{root}/README.md",
    "/usr/share/doc/virnucpro/docs": f"{root}/docs/",
}
json.dump({"bundle": {"linux": {"deb": {"files": files}}}}, open(overlay, "w"), indent=1)
PY
npx tauri build "${tauri_profile[@]}" --bundles deb --config "$overlay"

deb="$(ls -t "$target/$profile/bundle/deb/"*.deb | head -1)"
cp "$deb" "$out/"
deb="$out/$(basename "$deb")"
check_deb() {
  local listing
  listing="$(dpkg-deb -c "$deb")"
  for path in ./usr/bin/virnucpro-desktop ./usr/bin/virnucpro ./usr/lib/virnucpro/virnucpro-torch \
    ./usr/lib/virnucpro/torch/lib/libtorch_cpu.so \
    ./usr/share/applications/VirNucPro.desktop ./usr/lib/VirNucPro/demo/sample_reads.fa; do
    grep -q " ${path#./}\$" <<<"$listing" || { echo "error: $deb lacks $path" >&2; exit 1; }
  done
  dpkg-deb -f "$deb" Package Version Depends Installed-Size
}
check_deb
echo "package: $deb ($(du -h "$deb" | cut -f1))"

PROFILE="$profile" bash scripts/package-cli.sh "$out"
