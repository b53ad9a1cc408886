#!/usr/bin/env python3
"""Expected values for the Rust torch-pickle reader tests, computed independently of it.

Floats are written as `repr` strings: they round-trip exactly through Rust's `str::parse`,
whereas a JSON number may be parsed one ulp off.

Uses Python's own `pickle` module with a restricted Unpickler (no torch, no numpy): known
globals become small stand-in objects and storages are decoded with `struct`. Writes
crates/core/tests/data/torch_fixtures_expected.json.

Usage: python3 scripts/torch_fixture_expected.py [SHARED_FIXTURES_DIR]
"""
import io
import json
import pickle
import struct
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "fixtures"
OUT = ROOT / "crates/core/tests/data/torch_fixtures_expected.json"

STORAGE_FORMATS = {
    "FloatStorage": ("f", 4), "HalfStorage": ("e", 2), "DoubleStorage": ("d", 8),
    "LongStorage": ("q", 8), "IntStorage": ("i", 4),
}


class Tensor:
    def __init__(self, storage, offset, shape, stride):
        self.storage, self.offset, self.shape, self.stride = storage, offset, tuple(shape), tuple(stride)


class Obj:
    def __init__(self, module, name, args):
        self.module, self.name, self.args, self.state = module, name, args, None

    def __setstate__(self, state):
        self.state = state


def rebuild_tensor_v2(storage, offset, shape, stride, *rest):
    return Tensor(storage, offset, shape, stride)


class Loader(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return rebuild_tensor_v2
        if (module, name) == ("torch._utils", "_rebuild_parameter"):
            return lambda data, requires_grad, hooks: data
        if (module, name) == ("collections", "OrderedDict"):
            return dict
        if module == "torch" and name.endswith("Storage"):
            return name
        if module in ("builtins", "__builtin__") and name == "set":
            return set

        class Stand(Obj):
            def __new__(cls, *args):
                obj = object.__new__(cls)
                Obj.__init__(obj, module, name, args)
                return obj

            def __init__(self, *args):
                pass

        return Stand

    def persistent_load(self, pid):
        _, cls, key, location, numel = pid
        return (cls, key, location)


def load(path):
    zf = zipfile.ZipFile(path)
    pkl = next(n for n in zf.namelist() if n.endswith("/data.pkl") and n.count("/") == 1)
    prefix = pkl[: -len("data.pkl")]
    root = Loader(io.BytesIO(zf.read(pkl))).load()
    return zf, prefix, root


def values(zf, prefix, t):
    """Elements of a contiguous tensor, in row-major order, as Python floats."""
    cls, key, _ = t.storage
    fmt, width = STORAGE_FORMATS[cls]
    numel = 1
    for d in t.shape:
        numel *= d
    expected_stride, acc = [], 1
    for d in reversed(t.shape):
        expected_stride.insert(0, acc)
        acc *= d
    assert all(s == e or d == 1 for s, e, d in zip(t.stride, expected_stride, t.shape)), "non-contiguous"
    raw = zf.read(prefix + "data/" + key)
    start = t.offset * width
    return list(struct.unpack("<%d%s" % (numel, fmt), raw[start: start + numel * width]))


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def summary(rows):
    """Row count, dim, per-row sums (sequential float64 of the f32 values) and spot values."""
    n = len(rows)
    dim = len(rows[0]) if rows else 0
    picks = sorted({0, n // 2, n - 1}) if n else []
    cols = sorted({0, 1, dim // 2, dim - 1}) if dim else []
    sums = []
    for r in rows:
        s = 0.0
        for v in r:
            s += v
        sums.append(s)
    return {
        "rows": n,
        "dim": dim,
        "row_sums": [repr(x) for x in sums],
        "spots": [[i, j, repr(rows[i][j])] for i in picks for j in cols],
    }


def legacy(path):
    zf, prefix, root = load(path)
    if "nucleotide" in root:
        kind, ids = "Dnabert", root["nucleotide"]
        rows = [[f32(x) for x in item["mean_representation"]] for item in root["data"]]
        assert [item["label"] for item in root["data"]] == ids
    elif "proteins" in root:
        kind, ids = "Esm", root["proteins"]
        rows = [values(zf, prefix, t) for t in root["data"]]
    else:
        kind, ids = "Merged", root["ids"]
        t = root["data"]
        flat = values(zf, prefix, t)
        d = t.shape[1]
        rows = [flat[i * d:(i + 1) * d] for i in range(t.shape[0])]
    return dict(kind=kind, ids=ids, **summary(rows))


def named(value, prefix, out):
    """state_dict-style names of every tensor (dict keys, list indices, module fields)."""
    join = lambda name: f"{prefix}.{name}" if prefix else str(name)
    if isinstance(value, Tensor):
        out.append((prefix, value))
    elif isinstance(value, dict):
        for k, v in value.items():
            named(v, join(k), out)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            named(v, join(i), out)
    elif isinstance(value, Obj) and isinstance(value.state, dict):
        st = value.state
        if "_parameters" in st and "_modules" in st:
            skip = st.get("_non_persistent_buffers_set", set())
            for k, v in st["_parameters"].items():
                if isinstance(v, Tensor):
                    out.append((join(k), v))
            for k, v in st["_buffers"].items():
                if isinstance(v, Tensor) and k not in skip:
                    out.append((join(k), v))
            for k, v in st["_modules"].items():
                named(v, join(k), out)
        else:
            named(st, prefix, out)


def checkpoint(path):
    zf, prefix, root = load(path)
    out = []
    named(root, "", out)
    tensors = []
    for name, t in out:
        entry = {"name": name, "shape": list(t.shape), "storage_class": t.storage[0], "location": t.storage[2]}
        if t.storage[0] in ("FloatStorage", "HalfStorage", "DoubleStorage"):
            vals = values(zf, prefix, t)
            s = 0.0
            for v in vals:
                s += v
            entry.update(sum=repr(s), head=[repr(v) for v in vals[:3]], tail=[repr(v) for v in vals[-1:]])
        tensors.append(entry)
    extra = {}
    cfg = root.get("cfg") if isinstance(root, dict) else None
    if cfg is not None:
        ns = cfg["model"]
        extra["namespace"] = {"module": ns.module, "name": ns.name, "attrs": ns.state}
    return {"tensors": tensors, **extra}


def main():
    legacy_files = sorted(
        str(p.relative_to(FIXTURES))
        for pattern in ("reference/*_vanilla/*.pt", "e2e/*/expected/input_*/*.pt")
        for p in FIXTURES.glob(pattern)
    )
    checkpoint_files = sorted(
        str(p.relative_to(FIXTURES))
        for base in ("models", "classifier")
        for p in (FIXTURES / base).rglob("*")
        if p.suffix in (".pt", ".pth", ".bin")
    )
    checkpoint_files += sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.glob("e2e/*/classifier.pth"))
    result = {
        "legacy": {f: legacy(FIXTURES / f) for f in legacy_files},
        "checkpoints": {f: checkpoint(FIXTURES / f) for f in checkpoint_files},
    }
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {OUT} ({len(legacy_files)} feature files, {len(checkpoint_files)} checkpoints)")


if __name__ == "__main__":
    main()
