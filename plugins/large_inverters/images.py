"""Finding, validating and loading the images to invert, through the core image reader.

Why a module of its own: inversion is only as good as its input, so the files are listed and checked up
front with the project's one lister and reader (:mod:`large_toolkit.io.images`): every format Pillow reads,
EXIF orientation honoured, and one documented ``--resize`` policy (``center-crop`` by default, ``fit`` or
``error``) for images that are not at the generator's resolution.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from large_toolkit.api import (
    DEFAULT_RESIZE,
    RESIZE_POLICIES,
    UserInputError,
    fit_to_resolution,
    list_images,
    read_image,
    resize_note,
)

__all__ = ["DEFAULT_RESIZE", "RESIZE_POLICIES", "check_images", "discover_images", "load_batch", "select_shard"]


def discover_images(inputs: list[str | os.PathLike[str]]) -> list[Path]:
    """Folders, files and globs -> one ordered list (the core lister; ids must be unique)."""
    return list_images(inputs)


def select_shard(items: list[Path], shard: str | None) -> tuple[list[Path], int, int]:
    """``--shard i/n`` keeps every n-th image starting at i (0-based); None keeps all."""
    if not shard:
        return items, 0, 1
    try:
        i_text, n_text = shard.split("/")
        index, count = int(i_text), int(n_text)
    except ValueError:
        raise UserInputError(f"bad --shard {shard!r}", hint="use i/n with 0 <= i < n, e.g. 0/4") from None
    if count < 1 or not 0 <= index < count:
        raise UserInputError(f"bad --shard {shard!r}", hint="use i/n with 0 <= i < n, e.g. 0/4")
    return items[index::count], index, count


def _size(path: Path) -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            w, h = img.size
            orientation = img.getexif().get(0x0112, 1)
    except (UnidentifiedImageError, OSError) as exc:
        raise UserInputError(f"image {path.name} cannot be read ({exc})", hint="re-save it as PNG or JPEG") from None
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def check_images(paths: list[Path], resolution: int, resize: str = DEFAULT_RESIZE) -> str | None:
    """Check every file's header before any work; returns the one note line saying what resizing will do."""
    if resize not in RESIZE_POLICIES:
        raise UserInputError(f"unknown --resize {resize!r}", hint=f"use one of {', '.join(RESIZE_POLICIES)}")
    sizes = [_size(p) for p in paths]
    if resize == "error":
        bad = [f"{p.name} ({w}x{h})" for p, (w, h) in zip(paths, sizes, strict=True) if (w, h) != (resolution,) * 2]
        if bad:
            more = f" (+{len(bad) - 5} more)" if len(bad) > 5 else ""
            raise UserInputError(
                f"{len(bad)} image(s) are not {resolution}x{resolution}: " + ", ".join(bad[:5]) + more,
                hint="pass --resize center-crop or --resize fit to bring them to the generator's size",
            )
    return resize_note(sizes, resolution, resize)


def load_image(path: Path, resolution: int, resize: str = DEFAULT_RESIZE) -> torch.Tensor:
    """One image file -> float ``[3, R, R]`` in [-1, 1] under the resize policy."""
    arr = fit_to_resolution(read_image(path), resolution, resize, path.name)
    return torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1).float() / 127.5 - 1.0


def load_batch(paths: list[Path], resolution: int, resize: str = DEFAULT_RESIZE) -> torch.Tensor:
    return torch.stack([load_image(p, resolution, resize) for p in paths])
