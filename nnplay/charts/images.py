"""Palette images as PNG data URIs, for Plotly image traces: one picture holding many tiles draws
far faster than a heatmap per tile. zlib and struct from the standard library, no imaging package.
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np


def png(indices: np.ndarray, palette: bytes) -> str:
    """An (H, W) image of indices into palette (RGB bytes, 3 per entry) as a PNG data URI;
    index 0 is transparent."""
    h, w = indices.shape
    raw = np.concatenate([np.zeros((h, 1), np.uint8), indices], axis=1)  # filter byte: none

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + \
            struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    head = struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0)  # 8-bit palette
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"PLTE", palette) + \
        chunk(b"tRNS", b"\x00") + chunk(b"IDAT", zlib.compress(raw.tobytes(), 1)) + \
        chunk(b"IEND", b"")
    return "data:image/png;base64," + base64.b64encode(data).decode()
