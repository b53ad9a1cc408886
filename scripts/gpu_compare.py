#!/usr/bin/env python3
"""Compare two `virnucpro predict` output folders (e.g. CPU fp32 vs CUDA bf16).

    gpu_compare.py LABEL RUN_A RUN_B

Prints one line per comparison: the largest absolute difference of the DNABERT-S,
ESM-2 and merged feature rows (matched by sequence ID), and for the two reports the
number of rows, label disagreements, the largest score difference and how many lines are
byte-identical. Needs numpy only (feature files are parsed here, they are safetensors).
Used by scripts/gpu-check.sh; results go to docs/benchmarks.md.
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np


def read_features(path):
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header["__metadata__"]
    info = header["embeddings"]
    start, end = info["data_offsets"]
    rows = np.frombuffer(raw[8 + n + start : 8 + n + end], dtype="<f4")
    rows = rows.reshape(info["shape"])
    return dict(zip(json.loads(meta["ids"]), rows))


def feature_diff(a_dir, b_dir, kind):
    worst, rows = 0.0, 0
    a_files = sorted(a_dir.glob(f"*.{kind}.safetensors"))
    if not a_files:
        return None
    for a_file in a_files:
        a = read_features(a_file)
        b = read_features(b_dir / a_file.name)
        if a.keys() != b.keys():
            raise SystemExit(f"{a_file.name}: the two runs have different row IDs")
        for key, row in a.items():
            worst = max(worst, float(np.max(np.abs(row.astype(np.float64) - b[key]))))
        rows += len(a)
    return worst, rows


def report_diff(a_path, b_path):
    a_lines = a_path.read_text().splitlines()
    b_lines = b_path.read_text().splitlines()
    if len(a_lines) != len(b_lines):
        return f"{a_path.name}: {len(a_lines)} vs {len(b_lines)} lines"
    same = sum(x == y for x, y in zip(a_lines, b_lines))
    labels = worst = 0
    for x, y in zip(a_lines[1:], b_lines[1:]):
        xs, ys = x.split("\t"), y.split("\t")
        if xs[0] != ys[0]:
            return f"{a_path.name}: row order differs at {xs[0]} / {ys[0]}"
        labels += xs[1] != ys[1]
        worst = max(worst, *(abs(float(p) - float(q)) for p, q in zip(xs[2:], ys[2:])))
    return (
        f"{a_path.name}: {len(a_lines) - 1} rows, {labels} label differences, "
        f"max score diff {worst:.3g}, {same}/{len(a_lines)} lines byte-identical"
    )


def main():
    label, a, b = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    parts = []
    for kind in ("nucleotide", "protein", "merged"):
        sub = "merged" if kind == "merged" else "features"
        if not (b / sub).is_dir():  # the original's folder: reports only
            continue
        diff = feature_diff(a / sub, b / sub, kind)
        if diff:
            parts.append(f"{kind} max |diff| {diff[0]:.3g} over {diff[1]} rows")
    if parts:
        print(f"[{label}] " + "; ".join(parts))
    print(f"[{label}] " + report_diff(a / "prediction_results.txt", b / "prediction_results.txt"))
    csv_a = (a / "prediction_results_highestscore.csv").read_text().splitlines()
    csv_b = (b / "prediction_results_highestscore.csv").read_text().splitlines()
    same = sum(x == y for x, y in zip(csv_a, csv_b))
    print(f"[{label}] highestscore csv: {same}/{len(csv_a)} lines identical ({len(csv_b)} in B)")


if __name__ == "__main__":
    main()
