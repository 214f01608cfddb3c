"""Checks every command runs on its arguments before any work starts.

Why a shared module: the same bad values (a NaN truncation, a negative count, an
output path inside a read-only folder) reach many commands, and each must end in
one :class:`UserInputError` line with exit code 2 *before* minutes of work and
without a partial output.  Commands call these with one line each.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from large_toolkit.errors import UserInputError

#: Most images/samples one command may be asked to produce in one run (memory for the index lists alone).
MAX_ITEMS = 10_000_000


def check_output_path(path: str | os.PathLike[str], option: str = "--out") -> Path:
    """Refuse an output that is a directory or cannot be written, before the work that would fill it."""
    p = Path(path)
    if p.is_dir():
        raise UserInputError(f"{option} {p} is a directory", hint="give a file name inside it")
    folder = p.parent
    while not folder.exists():  # the first existing ancestor decides whether the folders can be made
        if folder.parent == folder:
            break
        folder = folder.parent
    if not folder.is_dir():
        raise UserInputError(f"{option} {p}: {folder} is not a directory", hint="choose another output path")
    if not os.access(folder, os.W_OK | os.X_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise UserInputError(f"{option} {p} is not writable", hint="choose a folder you can write to")
    return p


def check_output_dir(path: str | os.PathLike[str], option: str = "--out") -> Path:
    """Like :func:`check_output_path` for an output *folder*: it may exist as a folder, not as a file."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UserInputError(f"{option} {p} is a file, expected a folder", hint="choose a folder path")
    probe = p if p.is_dir() else p.parent
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise UserInputError(f"{option} {p} is not writable", hint="choose a folder you can write to")
    return p


def check_finite(value: float, option: str) -> float:
    """Refuse NaN and infinities (``--psi nan`` would silently render black images)."""
    if not math.isfinite(float(value)):
        raise UserInputError(f"{option} must be a finite number, got {value}", hint=f"e.g. {option} 0.7")
    return float(value)


def check_int_range(value: int, option: str, low: int = 1, high: int | None = None) -> int:
    """Refuse counts outside ``[low, high]`` (``--repeats -1``, ``--n 10^12``)."""
    if value < low or (high is not None and value > high):
        upper = f" and at most {high}" if high is not None else ""
        raise UserInputError(f"{option} must be at least {low}{upper}, got {value}")
    return value


def check_fraction(value: float, option: str, low: float = 0.0, high: float = 1.0, low_open: bool = True) -> float:
    """Refuse a fraction outside ``(low, high]`` (``--trim 2``)."""
    v = check_finite(value, option)
    if v > high or v < low or (low_open and v == low):
        bracket = "(" if low_open else "["
        raise UserInputError(f"{option} must be in {bracket}{low:g}, {high:g}], got {value}")
    return v


def check_count_of(items: Sequence[Any] | int, option: str, limit: int = MAX_ITEMS) -> None:
    """Refuse asking for more than ``limit`` items (seeds, samples) before any list is built."""
    n = items if isinstance(items, int) else len(items)
    if n > limit:
        raise UserInputError(f"{option} asks for {n} items, more than the limit of {limit}", hint="split the run")


def check_not_constant(values: Sequence[float], what: str = "labels") -> None:
    """Refuse constant labels: a regression on them reports a meaningless perfect score."""
    finite = [float(v) for v in values if math.isfinite(float(v))]
    if len(finite) >= 1 and max(finite) == min(finite):
        raise UserInputError(
            f"all {what} have the same value ({finite[0]:g}): nothing to regress",
            hint="label images that differ in the attribute",
        )


def check_output(path: str | os.PathLike[str], option: str = "--out") -> Path:
    """A file output when the path has a suffix (``grid.png``), else an output folder."""
    p = Path(path)
    return check_output_path(p, option) if p.suffix else check_output_dir(p, option)


def read_text_file(path: str | os.PathLike[str], what: str = "file") -> str:
    """A UTF-8 text file (a BOM is dropped); anything else is one line naming the offending byte."""
    p = Path(path)
    if p.is_dir():
        raise UserInputError(f"{what} {p} is a directory, expected a file")
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise UserInputError(f"{what} not found: {p}") from None
    except OSError as exc:
        raise UserInputError(f"{what} {p} cannot be read ({exc.strerror})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserInputError(
            f"{what} {p} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            hint="save it as UTF-8 CSV",
        ) from None


#: Most images one ``generate`` run renders (they are held in memory before writing).
MAX_GENERATE = 100_000


def check_regress_options(repeats: int, trim: float, out: str | os.PathLike[str] | None) -> None:
    """``regress``: positive draw count, a trim fraction in (0, 1], a writable output folder."""
    check_int_range(repeats, "--repeats", 1, 1_000_000)
    check_fraction(trim, "--trim")
    if out is not None:
        check_output_dir(out)


def check_generate_options(psi: float, seeds: Sequence[int], out: str | os.PathLike[str]) -> None:
    """``generate``: finite truncation, a bounded seed count, a writable output (file or folder)."""
    check_finite(psi, "--psi")
    check_count_of(seeds, "--seeds", MAX_GENERATE)
    check_output(out)


#: Largest image (width x height) any reader decodes; ``LARGE_TK_MAX_PIXELS`` overrides it.
DEFAULT_MAX_PIXELS = 64 * 1024 * 1024


def max_image_pixels() -> int:
    """The pixel cap: image readers call this (and Pillow's ``Image.MAX_IMAGE_PIXELS`` is set from it)."""
    try:
        return max(int(os.environ.get("LARGE_TK_MAX_PIXELS", DEFAULT_MAX_PIXELS)), 1)
    except ValueError:
        return DEFAULT_MAX_PIXELS


def check_image_size(width: int, height: int, where: str) -> None:
    """Refuse an image whose header declares more pixels than the cap, before it is decoded."""
    cap = max_image_pixels()
    if width <= 0 or height <= 0 or width * height > cap:
        raise UserInputError(
            f"{where} declares {width}x{height} pixels, more than the limit of {cap}",
            hint="resize it, or raise LARGE_TK_MAX_PIXELS if it is genuine",
        )
