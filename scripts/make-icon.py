#!/usr/bin/env python3
"""Draw the app icon (icons/app-icon.png, 1024x1024 RGBA) with the standard library only.

A stylised virion (a body with ten spikes) on a rounded square. Shapes are signed distance
functions, so edges are anti-aliased without supersampling. `npx @tauri-apps/cli icon`
turns the PNG into every platform's icon set in src-tauri/icons/.
"""
import math
import struct
import sys
import zlib
from pathlib import Path

SIZE = 1024
C = SIZE / 2
BG_TOP, BG_BOTTOM = (16, 78, 94), (14, 42, 66)
BODY = (245, 170, 66)
SPOT = (201, 88, 36)
SPIKES = 10


def rounded_square(x, y, half, radius):
    qx, qy = abs(x - C) - half + radius, abs(y - C) - half + radius
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    return outside + min(max(qx, qy), 0.0) - radius


def segment(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def virion(x, y):
    dx, dy = x - C, y - C
    r = math.hypot(dx, dy)
    body = r - 250
    # Only the nearest spike matters: rotate the point into that spike's frame.
    step = 2 * math.pi / SPIKES
    angle = math.atan2(dy, dx) + math.pi / 2
    local = angle - step * round(angle / step)
    u, v = r * math.cos(local), r * math.sin(local)
    stalk = segment(u, v, 240, 0, 350, 0) - 16
    knob = math.hypot(u - 372, v) - 42
    return min(body, stalk, knob)


SPOTS = [(-90, -70, 58), (95, -20, 44), (-20, 110, 50), (120, 130, 30), (-140, 60, 26)]


def spots(x, y):
    return min(math.hypot(x - C - sx, y - C - sy) - sr for sx, sy, sr in SPOTS)


def cover(d):
    return max(0.0, min(1.0, 0.5 - d))


def over(dst, color, alpha):
    return tuple(d * (1 - alpha) + c * alpha for d, c in zip(dst, color))


def pixel(x, y):
    bg = cover(rounded_square(x, y, 448, 190))
    if bg == 0.0:
        return (0, 0, 0, 0)
    t = y / SIZE
    rgb = tuple(a + (b - a) * t for a, b in zip(BG_TOP, BG_BOTTOM))
    rgb = over(rgb, BODY, cover(virion(x, y)))
    rgb = over(rgb, SPOT, cover(spots(x, y)))
    return tuple(int(round(c)) for c in rgb) + (int(round(255 * bg)),)


def png(width, height, rows):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + bytes(v for px in row for v in px) for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("icons/app-icon.png")
    rows = [[pixel(x + 0.5, y + 0.5) for x in range(SIZE)] for y in range(SIZE)]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(png(SIZE, SIZE, rows))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
