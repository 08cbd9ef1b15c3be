#!/usr/bin/env python3
"""Reference checks for the toolkit's PNG writer (Sources/OPSData/Imaging/PNG.swift).

1. Without arguments: prints CRC-32 and Adler-32 of fixed byte strings, computed by Python's
   zlib. Tests/OPSDataTests/PNGWriterTests.swift holds these values as literals.
2. With PNG paths: decodes each file independently of the toolkit (chunk CRCs checked with
   zlib.crc32, IDAT inflated with zlib.decompress, row filters undone with numpy) and prints its
   size, colour type and per-channel means. Used on Evaluation/figures/*.png; the output is
   recorded in Evaluation/simulator.md.

Run: python3 scripts/reference/sim_png_reference.py [FILE.png ...]
"""
import struct
import sys
import zlib

import numpy as np

CASES = [
    b"",
    b"IEND",
    b"Wikipedia",
    b"The quick brown fox jumps over the lazy dog",
    bytes(range(256)) * 40,  # 10,240 bytes: exercises Adler-32's modulo steps
]


def reference_values():
    print(f"# zlib {zlib.ZLIB_VERSION}, numpy {np.__version__}")
    for data in CASES:
        label = repr(data) if len(data) < 64 else f"bytes(range(256)) * {len(data) // 256}"
        print(f"{label}: crc32=0x{zlib.crc32(data):08X} adler32=0x{zlib.adler32(data):08X}")


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "signature"
    i, chunks = 8, []
    while i < len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind = data[i + 4 : i + 8]
        body = data[i + 8 : i + 8 + length]
        (crc,) = struct.unpack(">I", data[i + 8 + length : i + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"CRC of {kind!r}"
        chunks.append((kind, body))
        i += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, ctype, comp, filt, inter = struct.unpack(">IIBBBBB", chunks[0][1])
    assert depth == 8 and comp == 0 and filt == 0 and inter == 0
    bpp = {0: 1, 2: 3}[ctype]
    raw = zlib.decompress(b"".join(b for k, b in chunks if k == b"IDAT"))
    stride = width * bpp
    assert len(raw) == height * (stride + 1)
    out = np.zeros((height, stride), dtype=np.uint8)
    for y in range(height):
        f = raw[y * (stride + 1)]
        row = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=y * (stride + 1) + 1).astype(int)
        up = out[y - 1].astype(int) if y else np.zeros(stride, dtype=int)
        if f == 0:
            rec = row
        elif f == 2:
            rec = (row + up) % 256
        else:
            rec = np.zeros(stride, dtype=int)
            for x in range(stride):
                a = rec[x - bpp] if x >= bpp else 0
                b = up[x]
                c = up[x - bpp] if x >= bpp else 0
                pred = {1: a, 3: (a + b) // 2, 4: paeth(a, b, c)}[f]
                rec[x] = (row[x] + pred) % 256
        out[y] = rec
    img = out.reshape(height, width, bpp)
    means = ", ".join(f"{m:.1f}" for m in img.reshape(-1, bpp).mean(axis=0))
    print(f"{path}: {width}x{height}, colour type {ctype}, {len(data)} bytes, channel means {means}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        for p in sys.argv[1:]:
            decode(p)
    else:
        reference_values()
