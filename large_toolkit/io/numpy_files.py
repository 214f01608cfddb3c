"""Reading ``.npy`` / ``.npz`` files from strangers without trusting their headers.

Why: ``np.load`` trusts the header -- a 192-byte ``.npy`` declaring 10^12 elements
reaches ``np.empty``, a 2 MB ``.npz`` can inflate to gigabytes, and object arrays end
in a raw ``ValueError``.  Here every header is parsed first and checked against the
bytes that are really there (shape x itemsize == payload size), only plain
bool/int/float/complex dtypes are accepted (never objects, never structured records),
zip members' declared sizes are checked before anything is inflated, and every
problem is one :class:`CheckpointError` line.  ``allow_pickle`` is always False.
Writing (:func:`save_npy`, :func:`save_npz`) is atomic, so a failed write leaves no partial file.
"""

from __future__ import annotations

import math
import os
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np

from large_toolkit.errors import CheckpointError
from large_toolkit.io.atomic import atomic_path

#: The only dtype kinds a file may hold: bool, int, uint, float, complex, and fixed-width text/bytes.
PLAIN_KINDS = frozenset("biufcUS")
#: A zip archive may inflate to at most this many times its own size (plus the slack below).
MAX_INFLATE_RATIO = 32
INFLATE_SLACK_BYTES = 16 << 20
MAX_HEADER_BYTES = 10_000


def plain_dtype(dtype: np.dtype[Any], where: str) -> np.dtype[Any]:
    """``dtype`` when it is a plain numeric/bool type; one-line refusal otherwise (objects, records)."""
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in PLAIN_KINDS:
        raise CheckpointError(
            f"{where} holds an array of dtype {dtype.str!r}, refused: only plain numeric or text arrays are read",
            hint="save the array as float/int numbers (no Python objects, no records)",
        )
    return dtype


def _header(stream: IO[bytes], where: str) -> tuple[tuple[int, ...], bool, np.dtype[Any], int]:
    """Parse a ``.npy`` header from ``stream``: shape, fortran order, dtype, header length in bytes."""
    fmt = np.lib.format
    start = stream.tell() if stream.seekable() else 0
    try:
        version = fmt.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(stream, max_header_size=MAX_HEADER_BYTES)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = fmt.read_array_header_2_0(stream, max_header_size=MAX_HEADER_BYTES)
        else:
            raise ValueError(f"unknown .npy format version {version}")
    except (ValueError, SyntaxError, TypeError, EOFError) as exc:
        text = " ".join(str(exc).split())[:160]
        raise CheckpointError(f"{where} is not a valid .npy file ({text})") from None
    consumed = (stream.tell() - start) if stream.seekable() else -1
    return tuple(int(s) for s in shape), bool(fortran), plain_dtype(dtype, where), consumed


def _check_payload(shape: tuple[int, ...], dtype: np.dtype[Any], available: int, where: str) -> None:
    if any(s < 0 for s in shape):
        raise CheckpointError(f"{where} declares a negative dimension {list(shape)}")
    need = math.prod(shape) * dtype.itemsize
    if need != available:
        raise CheckpointError(
            f"{where} declares shape {list(shape)} of {dtype.str} ({need} bytes) but holds {available} bytes",
            hint="the file is truncated or its header lies; re-create it",
        )


def _order(fortran: bool) -> Literal["C", "F"]:
    """The memory order a ``.npy`` header declares."""
    return "F" if fortran else "C"


def load_npy(path: str | os.PathLike[str]) -> np.ndarray:
    """A plain numeric ``.npy`` array, header checked against the file size before reading."""
    p = Path(path)
    if p.is_dir():
        raise CheckpointError(f"{p} is a directory, expected a .npy file")
    if not p.is_file():
        raise CheckpointError(f"file not found: {p}")
    size = p.stat().st_size
    with p.open("rb") as handle:
        shape, fortran, dtype, header_len = _header(handle, p.name)
        _check_payload(shape, dtype, size - header_len, p.name)
        data = handle.read()
    return np.frombuffer(data, dtype=dtype).reshape(shape, order=_order(fortran)).copy()


def check_zip_sizes(path: Path, archive: zipfile.ZipFile) -> None:
    """Refuse archives whose members declare more inflated bytes than a sane ratio allows."""
    size = path.stat().st_size
    declared = sum(info.file_size for info in archive.infolist())
    limit = MAX_INFLATE_RATIO * size + INFLATE_SLACK_BYTES
    if declared > limit:
        raise CheckpointError(
            f"{path.name} would inflate to {declared} bytes from {size} (more than {MAX_INFLATE_RATIO}x): refused",
            hint="this looks like a zip bomb; re-create the file without extreme compression",
        )


class NpzArrays(dict[str, np.ndarray]):
    """The arrays of an ``.npz``, already read and checked; usable like ``np.load``'s NpzFile."""

    @property
    def files(self) -> list[str]:
        return list(self)

    def __enter__(self) -> NpzArrays:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def load_npz(path: str | os.PathLike[str]) -> NpzArrays:
    """Every member of an ``.npz``: sizes, headers and dtypes checked before any member is inflated."""
    p = Path(path)
    if p.is_dir():
        raise CheckpointError(f"{p} is a directory, expected a .npz file")
    if not p.is_file():
        raise CheckpointError(f"file not found: {p}")
    out = NpzArrays()
    try:
        with zipfile.ZipFile(p) as archive:
            check_zip_sizes(p, archive)
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                where = f"{p.name}:{info.filename}"
                with archive.open(info) as member:
                    shape, fortran, dtype, header_len = _header(member, where)
                    _check_payload(shape, dtype, info.file_size - header_len, where)
                    data = member.read(info.file_size - header_len)
                arr = np.frombuffer(data, dtype=dtype).reshape(shape, order=_order(fortran)).copy()
                out[info.filename[: -len(".npy")]] = arr
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError) as exc:
        text = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise CheckpointError(f"{p.name} is not a readable .npz archive ({text})") from None
    except ValueError as exc:  # reshape of a lying member, CRC/size mismatch surfaced as ValueError
        raise CheckpointError(f"{p.name} holds a corrupt array ({' '.join(str(exc).split())[:160]})") from None
    return out


def save_npy(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """Write one array as ``.npy`` atomically (``allow_pickle=False``: object arrays are refused)."""
    p = Path(path)
    with atomic_path(p) as tmp, open(tmp, "wb") as handle:
        np.save(handle, array, allow_pickle=False)
    return p


def save_npz(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray], compressed: bool = False) -> Path:
    """Write named arrays as ``.npz`` atomically (deflated when ``compressed``), readable by :func:`load_npz`."""
    p = Path(path)
    write: Callable[..., None] = np.savez_compressed if compressed else np.savez  # arrays go in as **kwargs
    with atomic_path(p) as tmp, open(tmp, "wb") as handle:
        write(handle, **arrays)  # no allow_pickle here: before numpy 2.1 it would be stored as an array
    return p
