"""large_toolkit.io.png as the dataset code uses it: round trips and every row filter type on read."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from large_toolkit.errors import UserInputError
from large_toolkit.io.png import decode_png, encode_png, read_png, write_png


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def _encode_with_filters(img: np.ndarray, filters: list[int], depth: int = 8, interlace: int = 0) -> bytes:
    """A reference encoder (plain Python, independent of the codec) with a chosen filter per row."""
    h, w, c = img.shape
    raw = bytearray()
    prev = [0] * (w * c)
    for y in range(h):
        line = [int(v) for v in img[y].reshape(-1)]
        ft = filters[y % len(filters)]
        out = []
        for x, v in enumerate(line):
            a = line[x - c] if x >= c else 0
            b = prev[x]
            cc = prev[x - c] if x >= c else 0
            pred = [0, a, b, (a + b) // 2, _paeth(a, b, cc)][ft]
            out.append((v - pred) % 256)
        raw += bytes([ft, *out])
        prev = line
    ctype = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"tEXt", b"k\x00v")
            + _chunk(b"IDAT", zlib.compress(bytes(raw))) + _chunk(b"IEND", b""))


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_round_trip(tmp_path, channels: int) -> None:
    img = np.random.default_rng(0).integers(0, 256, (7, 5, channels), dtype=np.uint8)
    write_png(tmp_path / "a.png", img)
    assert np.array_equal(read_png(tmp_path / "a.png"), img)
    assert np.array_equal(decode_png(encode_png(img[..., 0])), img[..., :1])


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_decodes_all_filter_types(channels: int) -> None:
    img = np.random.default_rng(channels).integers(0, 256, (10, 6, channels), dtype=np.uint8)
    assert np.array_equal(decode_png(_encode_with_filters(img, [0, 1, 2, 3, 4])), img)


def test_refuses_unsupported_and_corrupt() -> None:
    img = np.zeros((2, 2, 3), np.uint8)
    for bad in (b"GIF89a....", _encode_with_filters(img, [0], depth=16), _encode_with_filters(img, [0], interlace=1),
                encode_png(img)[:30]):
        with pytest.raises(UserInputError):
            decode_png(bad)
    with pytest.raises(UserInputError, match="uint8"):
        encode_png(img.astype(np.float32))
