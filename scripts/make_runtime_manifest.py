#!/usr/bin/env python3
"""Writes crates/models/src/runtime/runtime.json: the wheels of libtorch's CUDA runtime.

Usage: make_runtime_manifest.py WHEEL_DIR > crates/models/src/runtime/runtime.json

WHEEL_DIR holds the torch wheel and the nvidia-* wheels it needs (resolved with
`pip install --dry-run --report` for torch==2.13.0, manylinux x86_64, Python 3.11, see
docs/gpu-runtime.md). Sizes and SHA-256 come from the package index's JSON API (PEP 691),
checked against the files; unpacked sizes from the wheels' own zip directories.
"""
import hashlib, json, re, sys, urllib.request, zipfile
from pathlib import Path

INDEX = "https://pypi.org/simple"
TORCH_LIBS = ["libtorch_cuda.so", "libc10_cuda.so", "libtorch_cuda_linalg.so",
              "libtorch_nvshmem.so", "libcaffe2_nvrtc.so"]
SHARED = re.compile(r"\.so(\.[0-9.]+)?$")


def index_entry(project, filename):
    req = urllib.request.Request(f"{INDEX}/{project}/",
                                 headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    files = json.load(urllib.request.urlopen(req))["files"]
    [entry] = [f for f in files if f["filename"] == filename]
    return entry


def members(wheel, project):
    with zipfile.ZipFile(wheel) as z:
        infos = z.infolist()
    if project == "torch":
        wanted = {f"torch/lib/{n}" for n in TORCH_LIBS}
        return [i for i in infos if i.filename in wanted]
    return [i for i in infos if i.filename.startswith("nvidia/") and "/lib/" in i.filename
            and SHARED.search(i.filename)]


def main(folder):
    wheels = []
    for wheel in sorted(Path(folder).glob("*.whl")):
        name, version = wheel.name.split("-")[:2]
        project = name.replace("_", "-").lower()
        entry = index_entry(project, wheel.name)
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        assert digest == entry["hashes"]["sha256"], wheel.name
        assert wheel.stat().st_size == entry["size"], wheel.name
        picked = members(wheel, project)
        extract = sorted({i.filename if project == "torch" else i.filename.rsplit("/", 1)[0] + "/"
                          for i in picked})
        wheels.append({
            "project": project, "version": version, "filename": wheel.name,
            "size": entry["size"], "sha256": digest,
            "unpacked": sum(i.file_size for i in picked), "extract": extract,
        })
    torch_first = sorted(wheels, key=lambda w: (w["project"] != "torch", w["project"]))
    json.dump({"libtorch": "2.13.0+cu130", "cuda": "13.0", "min_driver": 580,
               "index": INDEX, "wheels": torch_first}, sys.stdout, indent=2)
    print()


main(sys.argv[1])
