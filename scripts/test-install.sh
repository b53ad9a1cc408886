#!/usr/bin/env bash
# The fresh-machine install test (docs/packaging.md): a new Debian 12 root made by
# mmdebstrap from Debian's mirror, the .deb installed there with apt (so its declared
# dependencies must be enough), then, as a user with an empty home and no LD_LIBRARY_PATH:
#   1. the CLI's demo run;
#   2. the installed app started under Xvfb, and a screenshot of its window;
#   3. the GPU runtime fetched from the package index, and the CUDA backend loading
#      (`virnucpro runtime`, `virnucpro devices`: on a machine without a GPU, "loaded", then
#      no driver or no device, never "not loaded").
# Needs root (chroot, mounts), mmdebstrap and network to deb.debian.org and pypi.org.
#
#   scripts/test-install.sh DEB [LOG_DIR]     (SKIP_RUNTIME=1 skips step 3's 2.4 GiB)
set -euo pipefail
deb="$(realpath "${1:?usage: test-install.sh DEB [LOG_DIR]}")"
logs="$(realpath -m "${2:-target/test-install}")"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
mkdir -p "$logs"
if ! command -v mmdebstrap >/dev/null; then
  [[ $(id -u) == 0 ]] || { echo "error: needs root and mmdebstrap" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap
fi
root="$(mktemp -d "${TMPDIR:-/var/tmp}/virnucpro-install.XXXXXX")"
mounts=()
cleanup() {
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null || true; done
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT
step() { echo; echo "== $*"; }

step "a fresh Debian 12 root (mmdebstrap, $mirror)"
# Only the test's own tools on top of the base system: X for the window, and xwd + netpbm
# for the screenshot. Everything the app and the CLI need must come from the .deb's Depends.
mmdebstrap --mode=root --variant=apt --include=xvfb,xauth,x11-apps,netpbm \
  bookworm "$root" "$mirror" 2>&1 | tail -n 3
for fs in proc sys dev dev/pts; do
  mount --bind "/$fs" "$root/$fs"
  mounts+=("$root/$fs")
done
cp /etc/resolv.conf "$root/etc/resolv.conf"
in_root() { chroot "$root" "$@"; }
# A user's shell: empty home, no LD_LIBRARY_PATH, nothing from the build machine.
as_user() { chroot "$root" env -i HOME=/home/tester PATH=/usr/bin:/bin LANG=C.UTF-8 "$@"; }

step "apt install $(basename "$deb")"
cp "$deb" "$root/tmp/"
in_root apt-get update -qq # mmdebstrap leaves no package lists behind
DEBIAN_FRONTEND=noninteractive in_root apt-get install -y --no-install-recommends "/tmp/$(basename "$deb")" 2>&1 | tail -n 3
in_root dpkg -s "$(dpkg-deb -f "$deb" Package)" | grep -E '^(Package|Version|Depends|Installed-Size):'
mkdir -p "$root/home/tester"
# The machine's own local CAs (a site's TLS-inspecting proxy, as on the build machine here),
# as its administrator would install them on every machine of the site; Debian's stock
# bundle comes with the package's ca-certificates dependency.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  in_root update-ca-certificates >/dev/null
fi

step "the CLI, from an empty home"
as_user virnucpro --version
demo=/usr/lib/VirNucPro/demo
as_user virnucpro predict "$demo/sample_reads.fa" --length 500 --dnabert "$demo/models/dnabert_s_tiny" \
  --esm "$demo/models/esm2_tiny/esm2_t2_tiny_fixture.pt" --classifier "$demo/models/classifier_500_tiny.pth" \
  --devices cpu --out /home/tester/demo-run 2>&1 | tail -n 4
test -s "$root/home/tester/demo-run/prediction_results.txt"
echo "demo: $(wc -l <"$root/home/tester/demo-run/read_summary.tsv") lines in read_summary.tsv"

step "the app, under Xvfb"
as_user xvfb-run -a -s "-screen 0 1280x800x24" sh -c '
  virnucpro-desktop >/home/tester/app.log 2>&1 & app=$!
  sleep 20
  kill -0 $app || { echo "the app exited:"; cat /home/tester/app.log; exit 1; }
  xwd -root -silent | xwdtopnm 2>/dev/null | pnmtopng >/home/tester/app.png
  kill $app'
cp "$root/home/tester/app.png" "$logs/app.png"
echo "screenshot: $logs/app.png ($(du -h "$logs/app.png" | cut -f1))"

if [[ -z ${SKIP_RUNTIME:-} ]]; then
  step "the GPU runtime, from the package index"
  as_user virnucpro runtime fetch 2>&1 | tail -n 3
  as_user virnucpro runtime
  as_user virnucpro devices
  lib="$(find "$root/home/tester/.local/share/virnucpro/runtime" -name libtorch_cuda.so | head -1)"
  # In the process, libtorch_cuda.so binds to the CPU libraries the binary has already
  # loaded from the package (docs/gpu-runtime.md): ldd is told where they are. Only the
  # driver's own library may be missing, on a machine without the NVIDIA driver.
  missing="$(in_root env LD_LIBRARY_PATH=/usr/lib/virnucpro/torch/lib ldd "${lib#"$root"}" |
    grep 'not found' | grep -v '^\s*libcuda\.so\.1 ' || true)"
  echo "ldd ${lib#"$root"}: ${missing:-nothing missing but libcuda.so.1, which the NVIDIA driver provides}"
  [[ -z $missing ]]
fi
step "install test passed"
