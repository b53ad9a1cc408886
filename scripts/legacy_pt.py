#!/usr/bin/env python3
"""Write legacy VirNucPro feature files (`*_DNABERT_S.pt`, `*_ESM.pt`) without PyTorch.

The files have the layout `torch.save` produces (a zip archive: `{name}/data.pkl`, one
`{name}/data/{key}` per storage, 64-byte aligned, `version`, `byteorder`) and the content
of the Python tools (shared/docs/virnucpro-reference.md §9):

  *_DNABERT_S.pt: {'nucleotide': [id], 'data': [{'label': id, 'mean_representation': [floats]}]}
  *_ESM.pt:       {'proteins': [id], 'data': [tensor(dim)]}

Usage: legacy_pt.py DIR PAIRS ROWS DIM_N DIM_P  -> DIR/nuc/output_K_DNABERT_S.pt, DIR/prot/output_K_ESM.pt
Used by scripts/bench-merge.sh (legacy input).
"""
import collections
import io
import pickle
import struct
import sys
import types
import zipfile
from array import array

# Stand-ins for the two torch globals a tensor pickle names, so that pickle records
# `torch._utils._rebuild_tensor_v2` and `torch.FloatStorage` without importing torch.
_torch = types.ModuleType("torch")
_utils = types.ModuleType("torch._utils")


class FloatStorage:
    pass


def _rebuild_tensor_v2(*args):
    raise RuntimeError("stand-in, never called")


FloatStorage.__module__ = "torch"
_rebuild_tensor_v2.__module__ = "torch._utils"
_torch.FloatStorage = FloatStorage
_torch._utils = _utils
_utils._rebuild_tensor_v2 = _rebuild_tensor_v2
sys.modules.setdefault("torch", _torch)
sys.modules.setdefault("torch._utils", _utils)


class _Storage:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class _Tensor:
    """A 1-D float32 tensor over its own storage."""

    def __init__(self, key, values):
        self.storage = _Storage(key, len(values))

    def __reduce__(self):
        n = self.storage.numel
        return (_rebuild_tensor_v2, (self.storage, 0, (n,), (1,), False, collections.OrderedDict()))


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            return ("storage", FloatStorage, str(obj.key), "cpu", obj.numel)
        return None


def _aligned_write(zf, name, data, align=64):
    """A stored entry whose data starts at a multiple of `align` (as torch.save does)."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_STORED
    offset = zf.fp.tell() + 30 + len(name.encode())
    pad = (-(offset + 4)) % align
    info.extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad  # 'FB' padding field
    zf.writestr(info, data)


def save(path, archive, obj, storages):
    buf = io.BytesIO()
    _Pickler(buf, protocol=2).dump(obj)
    with zipfile.ZipFile(path, "w") as zf:
        _aligned_write(zf, f"{archive}/data.pkl", buf.getvalue())
        _aligned_write(zf, f"{archive}/byteorder", b"little")
        for key, values in storages:
            _aligned_write(zf, f"{archive}/data/{key}", array("f", values).tobytes())
        _aligned_write(zf, f"{archive}/version", b"3\n")


def write_dnabert(path, ids, rows):
    obj = {
        "nucleotide": list(ids),
        "data": [{"label": i, "mean_representation": list(r)} for i, r in zip(ids, rows)],
    }
    save(path, path.rsplit("/", 1)[-1][:-3], obj, [])


def write_esm(path, ids, rows):
    storages = [(k, r) for k, r in enumerate(rows)]
    obj = {"proteins": list(ids), "data": [_Tensor(k, r) for k, r in storages]}
    save(path, path.rsplit("/", 1)[-1][:-3], obj, storages)


def main():
    out, pairs, rows, dim_n, dim_p = sys.argv[1], *map(int, sys.argv[2:6])
    import os

    os.makedirs(f"{out}/nuc", exist_ok=True)
    os.makedirs(f"{out}/prot", exist_ok=True)
    for k in range(1, pairs + 1):
        ids = [f"read{i}_chunk_1F1" for i in range(rows)]
        # Values exactly representable in float32, so the Python floats of the DNABERT file
        # and the float32 storages of the ESM file hold the same numbers.
        nuc = [[((i * dim_n + c) % 9973) / 1024 for c in range(dim_n)] for i in range(rows)]
        prot = [[((i * dim_p + c) % 9973) / 1024 for c in range(dim_p)] for i in range(rows)]
        write_dnabert(f"{out}/nuc/output_{k}_DNABERT_S.pt", ids, nuc)
        # ESM files are ordered differently from the nucleotide ones (by length upstream).
        write_esm(f"{out}/prot/output_{k}_ESM.pt", ids[::-1], prot[::-1])


if __name__ == "__main__":
    main()
