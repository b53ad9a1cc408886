#!/usr/bin/env python3
"""The Python tools' merge, as the benchmark's peer (docs/benchmarks.md, `## merge`).

What VirNucPro's `merge_data` does for one shard (shared/docs/virnucpro-reference.md §6,
§9): `torch.load` the DNABERT-S and the ESM file, map every nucleotide id to
`torch.tensor(mean_representation)` and every protein id to its tensor, concatenate the
two per id in nucleotide order, `torch.stack` the rows and `torch.save`
`{'ids': ..., 'data': tensor(N, 3328)}`. Pairs run one after another (`--workers 0`) or on
a spawn-context process pool, one pair per task, as the fork's `parallel_merge` does.
PEER_TORCH_LOAD=default|full chooses how `torch.load` is called (see `load`).

  merge_peer.py merge NUC_DIR PROT_DIR OUT_DIR WORKERS   -> OUT_DIR/output_K_merged.pt
  merge_peer.py compare PEER_OUT OUR_OUT                  bit-compare with our merged files

Needs torch (installed for the benchmark only, e.g. in /tmp/benchvenv).
"""
import json
import multiprocessing
import os
import re
import struct
import sys
import time

import torch


# How the inputs are loaded. "default": `torch.load(path)`, exactly as the tools call it;
# since torch 2.6 that is the restricted `weights_only` unpickler, written in Python.
# "full": `weights_only=False`, the C unpickler the tools got from torch before 2.6 (faster).
LOAD = os.environ.get("PEER_TORCH_LOAD", "default")


def load(path):
    if LOAD == "full":
        return torch.load(path, weights_only=False)
    return torch.load(path)


def merge_data(dnabert_file, esm_file, merged_file):
    dnabert = load(dnabert_file)
    esm = load(esm_file)
    nucleotide = {}
    for name, item in zip(dnabert["nucleotide"], dnabert["data"]):
        nucleotide[name] = torch.tensor(item["mean_representation"])
    protein = {}
    for name, row in zip(esm["proteins"], esm["data"]):
        protein[name] = row
    rows = []
    for name in dnabert["nucleotide"]:
        if name in protein and name in nucleotide:
            rows.append(torch.cat((nucleotide[name], protein[name]), dim=-1))
        else:
            print(f"Warning: {name} not found in both datasets")
    torch.save({"ids": dnabert["nucleotide"], "data": torch.stack(rows)}, merged_file)
    return len(rows)


def merge_pair(pair):
    return merge_data(*pair)


def pairs(nuc_dir, prot_dir, out_dir):
    shard = re.compile(r"^(output_\d+)_DNABERT_S\.pt$")
    found = []
    for name in sorted(os.listdir(nuc_dir)):
        m = shard.match(name)
        if m:
            found.append((
                os.path.join(nuc_dir, name),
                os.path.join(prot_dir, f"{m.group(1)}_ESM.pt"),
                os.path.join(out_dir, f"{m.group(1)}_merged.pt"),
            ))
    return found


def merge(nuc_dir, prot_dir, out_dir, workers):
    os.makedirs(out_dir, exist_ok=True)
    todo = pairs(nuc_dir, prot_dir, out_dir)
    start = time.perf_counter()
    if workers == 0:
        rows = sum(merge_pair(p) for p in todo)
    else:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            rows = sum(pool.imap(merge_pair, todo, chunksize=1))
    secs = time.perf_counter() - start
    label = "sequential" if workers == 0 else f"{workers} workers"
    print(f"peer ({LOAD} torch.load) {label}: pairs {len(todo)} rows {rows} time {secs:.3f} s | {rows / secs:.0f} rows/s")


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__")
    (name, info), = header.items()
    begin, end = info["data_offsets"]
    return json.loads(meta["ids"]), info["shape"], data[begin:end]


def compare(peer_dir, our_dir):
    checked = 0
    for name in sorted(os.listdir(peer_dir)):
        shard = name[: -len("_merged.pt")]
        peer = torch.load(os.path.join(peer_dir, name), weights_only=False)
        ids, shape, data = read_safetensors(os.path.join(our_dir, f"{shard}.merged.safetensors"))
        assert ids == peer["ids"], f"{shard}: ids differ"
        assert list(peer["data"].shape) == shape, f"{shard}: shape {peer['data'].shape} vs {shape}"
        assert peer["data"].contiguous().numpy().tobytes() == data, f"{shard}: values differ"
        checked += 1
    print(f"compare: {checked} merged files bit-equal to the peer's")
    if checked == 0:
        sys.exit("compare: nothing compared")


if __name__ == "__main__":
    if sys.argv[1] == "merge":
        merge(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
