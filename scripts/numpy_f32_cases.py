#!/usr/bin/env python3
"""Ground truth for `virnucpro_core::report::numpy_f32::format`: numpy's `str(np.float32(x))`.

Writes crates/core/tests/data/numpy_f32_cases.tsv: one line per case, `<f32 bits as 8 hex
digits>\t<str(np.float32)>`. Deterministic (fixed seed).

Printed under `np.printoptions(legacy='2.2')`: numpy 1.14 to 2.2 switch float32 to
scientific notation at 1e16, numpy >= 2.3 already at 1e6 (numpy gh-28679); the original
tool's spec (and its outputs, all probabilities in [0, 1]) follow the 1e16 rule. Below 1e6
both rules print the same; the script checks that too.

Usage: python3 scripts/numpy_f32_cases.py [OUT_TSV]
"""
import random
import struct
import sys
from pathlib import Path

import numpy as np

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "crates/core/tests/data/numpy_f32_cases.tsv")


def f32_from_bits(bits):
    return np.frombuffer(struct.pack("<I", bits), dtype=np.float32)[0]


def bits_of(x):
    return struct.unpack("<I", struct.pack("<f", np.float32(x)))[0]


def neighbours(x, n):
    """Bit patterns of the n float32s either side of float32(x), and x itself."""
    b = bits_of(x)
    return [b + d for d in range(-n, n + 1) if 0 <= b + d < 1 << 32]


bits = set()
# Specials: zeros, infinities, NaNs (quiet, signalling, negative), extremes.
bits.update([0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000,
             0x7F800001, 0x7FBFFFFF, 0x7F7FFFFF, 0xFF7FFFFF, 0x00800000, 0x80800000])
# Subnormals: smallest, largest, a few in between.
bits.update([0x00000001, 0x80000001, 0x007FFFFF, 0x807FFFFF, 0x00000002, 0x00000003,
             0x00000010, 0x00001000, 0x00400000])
# Either side of the positional/scientific switches, and 1e6 (numpy >= 2.3 switch).
for edge in (1e-4, 1e16, 1e6):
    for sign in (1, -1):
        bits.update(neighbours(sign * edge, 20))
# Powers of ten and their neighbours, over the whole float32 range.
for e in range(-45, 39):
    bits.update(neighbours(10.0 ** e, 2))
# Powers of two (asymmetric rounding intervals).
for e in range(-149, 128):
    bits.add(bits_of(2.0 ** e))
rng = random.Random(20261128)
# Random bit patterns over all exponents.
for _ in range(2500):
    bits.add(rng.getrandbits(32))
# Probabilities in (0, 1), as a softmax writes them, including near 0 and near 1.
for _ in range(1500):
    bits.add(bits_of(rng.random()))
for _ in range(500):
    bits.add(bits_of(10.0 ** rng.uniform(-30, 0)))
for _ in range(300):
    bits.add(bits_of(1.0 - 10.0 ** rng.uniform(-8, 0)))
# Exactly halfway between two shortest candidates (numpy takes the even last digit).
for k in range(300):
    bits.add(bits_of(2.0 ** 20 + k + 0.25))
    bits.add(bits_of(2.0 ** 20 + k + 0.75))
    bits.add(bits_of(2.0 ** 21 + 2 * k + 0.25 * 2))
# Small integers and simple decimals.
for i in range(0, 1001):
    bits.add(bits_of(i / 100))

lines = []
with np.printoptions(legacy="2.2"):
    for b in sorted(bits):
        x = f32_from_bits(b)
        s = str(x)
        lines.append(f"{b:08x}\t{s}\n")
with np.printoptions(legacy=False):
    for b in sorted(bits):
        x = f32_from_bits(b)
        if np.isfinite(x) and abs(x) < 1e6:
            with np.printoptions(legacy="2.2"):
                old = str(x)
            assert str(x) == old, (hex(b), str(x), old)

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text("".join(lines))
print(f"{OUT}: {len(lines)} cases, numpy {np.__version__}")
