"""PNG helpers: round trip, every row filter on decode, clear errors."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from large_toolkit.errors import CheckpointError, UserInputError
from large_toolkit.io.png import decode_png, encode_png, make_grid, read_png, to_uint8, write_png


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_round_trip(tmp_path: Path, channels: int) -> None:
    img = np.random.default_rng(channels).integers(0, 256, (7, 5, channels), dtype=np.uint8)
    write_png(tmp_path / "a.png", img)
    assert np.array_equal(read_png(tmp_path / "a.png"), img)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _filtered_png(img: np.ndarray) -> bytes:
    """An RGB PNG whose rows use filters 0..4 in turn (as other encoders write)."""
    h, w, c = img.shape
    raw = bytearray()
    prev = np.zeros(w * c, np.int32)
    for y in range(h):
        line = img[y].reshape(-1).astype(np.int32)
        ftype = y % 5
        left = np.concatenate([np.zeros(c, np.int32), line[:-c]])
        upleft = np.concatenate([np.zeros(c, np.int32), prev[:-c]])
        if ftype == 0:
            pred = np.zeros_like(line)
        elif ftype == 1:
            pred = left
        elif ftype == 2:
            pred = prev
        elif ftype == 3:
            pred = (left + prev) // 2
        else:
            p = left + prev - upleft
            pa, pb, pc = abs(p - left), abs(p - prev), abs(p - upleft)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, upleft))
        raw += bytes([ftype]) + ((line - pred) % 256).astype(np.uint8).tobytes()
        prev = line
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(raw)))
        + _chunk(b"IEND", b"")
    )


def test_decode_all_filters() -> None:
    img = np.random.default_rng(0).integers(0, 256, (10, 6, 3), dtype=np.uint8)
    assert np.array_equal(decode_png(_filtered_png(img)), img)


def test_errors() -> None:
    with pytest.raises(CheckpointError):
        decode_png(b"not a png")
    with pytest.raises(CheckpointError):
        decode_png(encode_png(np.zeros((4, 4, 3), np.uint8))[:40])
    with pytest.raises(UserInputError):
        encode_png(np.zeros((4, 4, 3), np.float32))


def test_grid_and_uint8() -> None:
    imgs = to_uint8(np.stack([np.full((3, 2, 2), v, np.float32) for v in (-1.0, 0.0, 1.0)]))
    assert imgs.shape == (3, 2, 2, 3) and imgs[0].max() == 0 and imgs[2].min() == 255
    assert make_grid(imgs).shape == (4, 4, 3)
