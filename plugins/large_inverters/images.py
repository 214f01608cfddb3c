"""Finding, validating and loading the images to invert.

Why a module of its own: inversion is only as good as its input, so every
mismatch is refused with the file named instead of being patched silently.
Images must be 8-bit RGB PNGs at the generator's resolution; a different size
is accepted only with an explicit ``--resize`` policy, and non-square images
are always refused (cropping is an alignment decision the user must make).
Grey images are expanded to RGB and alpha is refused, both stated in the error.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from large_toolkit.api import UserInputError

IMAGE_SUFFIXES = (".png",)
RESIZE_POLICIES = ("none", "area", "bilinear", "bicubic")


def discover_images(inputs: list[str | os.PathLike[str]]) -> list[Path]:
    """Expand folders (non-recursive, sorted) and files into one ordered list; ids must be unique."""
    found: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found.extend(sorted(q for q in p.iterdir() if q.is_file() and q.suffix.lower() in IMAGE_SUFFIXES))
        elif p.is_file():
            if p.suffix.lower() not in IMAGE_SUFFIXES:
                raise UserInputError(f"{p} is not a PNG", hint="convert JPEG/other formats to PNG first")
            found.append(p)
        else:
            raise UserInputError(f"image path not found: {p}")
    if not found:
        raise UserInputError("no PNG images found", hint="pass a folder of .png files or the files themselves")
    names = [p.name for p in found]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UserInputError(f"image file names must be unique (they become latent ids); repeated: {dupes[:5]}")
    return found


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


def png_header(path: Path) -> tuple[int, int, int, int]:
    """(width, height, bit depth, colour type) from a PNG's IHDR, without decoding the pixels."""
    with open(path, "rb") as f:
        head = f.read(29)
    if len(head) < 29 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise UserInputError(f"{path.name} is not a PNG file")
    return (int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big"), head[24], head[25])


def check_images(paths: list[Path], resolution: int, resize: str = "none") -> None:
    """Validate every image's header up front, so a bad file fails the run before any work, with all culprits named."""
    problems: list[str] = []
    for p in paths:
        w, h, depth, colour = png_header(p)
        if depth != 8 or colour == 3:
            problems.append(f"{p.name}: {depth}-bit {'palette' if colour == 3 else 'colour type ' + str(colour)}")
        elif colour in (4, 6):
            problems.append(f"{p.name}: has an alpha channel")
        elif w != h:
            problems.append(f"{p.name}: {w}x{h}, not square")
        elif w != resolution and resize == "none":
            problems.append(f"{p.name}: {w}x{h}, the generator makes {resolution}x{resolution}")
    if problems:
        more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
        raise UserInputError(
            f"{len(problems)} image(s) cannot be inverted: " + "; ".join(problems[:5]) + more,
            hint="use 8-bit RGB/grey square PNGs; for other sizes pass --resize area|bilinear|bicubic; "
            "flatten alpha onto a background",
        )


def load_image(path: Path, resolution: int, resize: str = "none") -> torch.Tensor:
    """One PNG -> float ``[3, R, R]`` in [-1, 1], enforcing mode and size under the resize policy."""
    from large_toolkit.api import read_png

    if resize not in RESIZE_POLICIES:
        raise UserInputError(f"unknown resize policy {resize!r}", hint=f"use one of {', '.join(RESIZE_POLICIES)}")
    arr = read_png(path)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    channels = arr.shape[2]
    if channels in (2, 4):
        raise UserInputError(f"{path.name} has an alpha channel", hint="flatten it onto a background and save as RGB")
    if channels == 1:
        arr = np.repeat(arr, 3, axis=2)
    h, w = arr.shape[:2]
    if h != w:
        raise UserInputError(f"{path.name} is {w}x{h}, not square", hint="crop/align it to a square first")
    x = torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1).float() / 127.5 - 1.0
    if h != resolution:
        if resize == "none":
            raise UserInputError(
                f"{path.name} is {w}x{h}, the generator makes {resolution}x{resolution}",
                hint="resize the images, or pass --resize area|bilinear|bicubic to resize on load",
            )
        kwargs = {} if resize == "area" else {"align_corners": False, "antialias": h > resolution}
        x = F.interpolate(x[None], size=(resolution, resolution), mode=resize, **kwargs)[0].clamp(-1, 1)
    return x


def load_batch(paths: list[Path], resolution: int, resize: str = "none") -> torch.Tensor:
    return torch.stack([load_image(p, resolution, resize) for p in paths])
