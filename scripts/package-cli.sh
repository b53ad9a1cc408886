#!/usr/bin/env bash
# The server tarball: the `virnucpro` CLI with the CPU libtorch it was built against, the
# demo (sample reads, RANDOM tiny models) and the docs, relocatable. `bin/virnucpro` links no
# libtorch; the commands that run a model go to `lib/virnucpro/virnucpro-torch`, which finds
# libtorch through its RUNPATH `$ORIGIN/torch/lib` (crates/cli/build.rs), no LD_LIBRARY_PATH. GPU support is one `virnucpro runtime fetch` away (docs/gpu-runtime.md).
#
#   scripts/package-cli.sh [OUT_DIR]     (PROFILE=debug for a quick check of the layout)
# Then checks the unpacked tarball from an empty environment: --version, the demo run, and
# that no library resolves outside the package and the system.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${1:-$root/target/package}"
profile="${PROFILE:-release}"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
name="virnucpro-$version-linux-x86_64"

if [[ $profile == release ]]; then
  cargo build --release -p virnucpro-cli
else
  cargo build -p virnucpro-cli
fi
bin="${CARGO_TARGET_DIR:-target}/$profile/virnucpro"
torch_bin="${CARGO_TARGET_DIR:-target}/$profile/virnucpro-torch"
libtorch="$root/.deps/libtorch"

stage="$(mktemp -d "${TMPDIR:-/tmp}/virnucpro-package.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
pkg="$stage/$name"
mkdir -p "$pkg/bin" "$pkg/lib/virnucpro/torch" "$pkg/share/virnucpro" "$pkg/share/doc/virnucpro"
install -m 0755 "$bin" "$pkg/bin/virnucpro"
install -m 0755 "$torch_bin" "$pkg/lib/virnucpro/virnucpro-torch"
# libtorch's own RPATH finds cudart/cupti at $ORIGIN/../../nvidia/cu13/lib: keep the layout.
cp -a "$libtorch/torch/lib" "$pkg/lib/virnucpro/torch/lib"
cp -a "$libtorch/torch/version.py" "$pkg/lib/virnucpro/torch/"
mkdir -p "$pkg/lib/virnucpro/nvidia/cu13"
cp -a "$libtorch/nvidia/cu13/lib" "$pkg/lib/virnucpro/nvidia/cu13/lib"
cp -a demo "$pkg/share/virnucpro/demo"
cp -a README.md docs "$pkg/share/doc/virnucpro/"
rm -rf "$pkg/share/doc/virnucpro/docs/screenshots"
strip --strip-debug "$pkg/bin/virnucpro" "$pkg/lib/virnucpro/virnucpro-torch" 2>/dev/null || true

mkdir -p "$out"
tar -C "$stage" -czf "$out/$name.tar.gz" "$name"
echo "package: $out/$name.tar.gz ($(du -h "$out/$name.tar.gz" | cut -f1); unpacked $(du -sh "$pkg" | cut -f1))"

# The check, from the tarball, in a fresh folder and an empty environment.
check="$(mktemp -d "${TMPDIR:-/tmp}/virnucpro-package-check.XXXXXX")"
trap 'rm -rf "$stage" "$check"' EXIT
tar -C "$check" -xzf "$out/$name.tar.gz"
run() { env -i HOME="$check/home" PATH=/usr/bin:/bin "$check/$name/bin/virnucpro" "$@"; }
mkdir -p "$check/home"
front="$check/$name/bin/virnucpro"
torch="$check/$name/lib/virnucpro/virnucpro-torch"
for binary in "$front" "$torch"; do
  if ldd "$binary" | grep -q 'not found'; then
    ldd "$binary" >&2
    echo "error: a library of the packaged $(basename "$binary") does not resolve" >&2
    exit 1
  fi
done
if ldd "$front" | grep -E 'libtorch|libc10'; then
  echo "error: the packaged virnucpro links libtorch (only virnucpro-torch should)" >&2
  exit 1
fi
if ldd "$torch" | grep -E 'libtorch|libc10' | grep -v "$check/$name/lib/virnucpro/torch/lib/"; then
  echo "error: libtorch resolved outside the package" >&2
  exit 1
fi
run --version
demo="$check/$name/share/virnucpro/demo"
run predict "$demo/sample_reads.fa" --length 500 --dnabert "$demo/models/dnabert_s_tiny" \
  --esm "$demo/models/esm2_tiny/esm2_t2_tiny_fixture.pt" --classifier "$demo/models/classifier_500_tiny.pth" \
  --devices cpu --out "$check/demo-run" | tail -n 2
test -s "$check/demo-run/prediction_results.txt"
run runtime | head -n 3
echo "package checked: runs from $check/$name without LD_LIBRARY_PATH"
