"""Minimal PNG writing and reading for 8-bit images, with no imaging library.

Why: large-tk writes image grids and reads small image sets, and a Pillow dependency is not
worth it for that.  Writing emits one IDAT with filter 0 (zlib does the work); reading handles
what common encoders write: 8-bit grey, grey+alpha, RGB and RGBA, all five row filters,
non-interlaced.  Arrays are ``numpy.uint8`` ``[H, W]`` or ``[H, W, C]``.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from large_toolkit.errors import CheckpointError, UserInputError
from large_toolkit.io.atomic import atomic_path

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type
_CHANNELS = {v: k for k, v in _COLOR_TYPES.items()}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(image: np.ndarray, compress_level: int = 6) -> bytes:
    """PNG bytes for a uint8 ``[H, W]`` or ``[H, W, C]`` array (C in 1..4)."""
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise UserInputError(f"PNG images must be uint8, got {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in _COLOR_TYPES or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise UserInputError(f"PNG images must be [H, W] or [H, W, 1-4], got shape {list(np.shape(image))}")
    h, w, c = arr.shape
    rows = np.concatenate([np.zeros((h, 1), np.uint8), np.ascontiguousarray(arr).reshape(h, w * c)], axis=1)
    header = struct.pack(">IIBBBBB", w, h, 8, _COLOR_TYPES[c], 0, 0, 0)
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), compress_level))
        + _chunk(b"IEND", b"")
    )


def write_png(path: str | os.PathLike[str], image: np.ndarray) -> Path:
    """Write a PNG atomically (no partial file on error)."""
    data = encode_png(image)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def _paeth(a: Any, b: Any, c: Any) -> Any:
    p = a.astype(np.int16) + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c)).astype(np.uint8)


def _unfilter(raw: bytes, h: int, w: int, c: int) -> np.ndarray:
    stride = w * c
    data = np.frombuffer(raw, np.uint8)
    if data.size < h * (stride + 1):
        raise CheckpointError("PNG image data is truncated")
    data = data[: h * (stride + 1)].reshape(h, stride + 1)
    out = np.zeros((h, stride), np.uint8)
    prev = np.zeros(stride, np.uint8)
    for y in range(h):
        ftype, line = data[y, 0], data[y, 1:].copy()
        if ftype == 1 or ftype == 3 or ftype == 4:
            for x in range(stride):  # left-dependent filters are sequential by nature
                left = line[x - c] if x >= c else 0
                if ftype == 1:
                    line[x] = (int(line[x]) + int(left)) & 0xFF
                elif ftype == 3:
                    line[x] = (int(line[x]) + ((int(left) + int(prev[x])) >> 1)) & 0xFF
                else:
                    ul = prev[x - c] if x >= c else 0
                    line[x] = (int(line[x]) + int(_paeth(np.uint8(left), prev[x], np.uint8(ul)))) & 0xFF
        elif ftype == 2:
            line = (line.astype(np.uint16) + prev).astype(np.uint8)
        elif ftype != 0:
            raise CheckpointError(f"PNG row filter {ftype} is invalid")
        out[y], prev = line, line
    return out.reshape(h, w, c)


def decode_png(data: bytes) -> np.ndarray:
    """uint8 ``[H, W, C]`` from PNG bytes (8-bit, non-interlaced, no palette)."""
    if not data.startswith(SIGNATURE):
        raise CheckpointError("not a PNG file (bad signature)")
    pos, idat, header = len(SIGNATURE), [], None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if len(body) != length:
            raise CheckpointError("PNG file is truncated")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None:
        raise CheckpointError("PNG file has no IHDR chunk")
    w, h, depth, ctype, _, _, interlace = header
    if depth != 8 or ctype not in _CHANNELS or interlace:
        raise CheckpointError(
            f"unsupported PNG (bit depth {depth}, colour type {ctype}, interlace {interlace})",
            hint="save it as 8-bit RGB without interlacing",
        )
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as exc:
        raise CheckpointError(f"PNG image data is corrupt ({exc})") from None
    return _unfilter(raw, h, w, _CHANNELS[ctype])


def read_png(path: str | os.PathLike[str]) -> np.ndarray:
    """uint8 ``[H, W, C]`` from a PNG file."""
    p = Path(path)
    if not p.is_file():
        raise UserInputError(f"image not found: {p}")
    return decode_png(p.read_bytes())


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Generator output NCHW floats in about [-1, 1] -> NHWC uint8, as NVIDIA's scripts round it."""
    x = np.asarray(images, dtype=np.float32) * 127.5 + 128
    return np.clip(x, 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)


def make_grid(images: np.ndarray, columns: int | None = None) -> np.ndarray:
    """NHWC uint8 -> one ``[rows*H, cols*W, C]`` image, filled row by row (black padding)."""
    n, h, w, c = images.shape
    cols = columns or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    pad = np.zeros((rows * cols - n, h, w, c), np.uint8)
    tiles = np.concatenate([images.astype(np.uint8, copy=False), pad]).reshape(rows, cols, h, w, c)
    return tiles.transpose(0, 2, 1, 3, 4).reshape(rows * h, cols * w, c)
