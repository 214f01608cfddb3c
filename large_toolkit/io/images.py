"""Image files in and out, through Pillow, with one rule for everything a real photo folder holds.

Why one module: every command that reads images (``regress --images``, ``invert``, ``sort``, ``fid``,
``train``, the GUI) must accept the same files and treat them the same way, or a folder that works in one
command fails in the next.  Reading accepts PNG, JPEG, WebP, BMP, TIFF (and anything else Pillow decodes) in
palette, grey, grey+alpha, RGB, RGBA and 16-bit modes, turns the image upright by its EXIF orientation, and
returns 8-bit RGB (alpha composited onto white).  An image that is not the generator's size follows one of
three documented policies (:data:`RESIZE_POLICIES`): ``center-crop`` (default: crop the central square, then
resize with Lanczos), ``fit`` (pad to a square with white, keeping the whole image, then resize) or
``error``.  Pillow's decompression-bomb guard is kept and capped by ``LARGE_TK_MAX_IMAGE_PIXELS``.
"""

from __future__ import annotations

import glob
import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from large_toolkit.errors import UserInputError
from large_toolkit.io.atomic import atomic_path

__all__ = [
    "DEFAULT_RESIZE",
    "IMAGE_SUFFIXES",
    "RESIZE_POLICIES",
    "fit_to_resolution",
    "list_images",
    "make_grid",
    "read_image",
    "resize_note",
    "to_uint8",
    "write_image",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
RESIZE_POLICIES = ("center-crop", "fit", "error")
DEFAULT_RESIZE = "center-crop"
PIXEL_CAP_ENV = "LARGE_TK_MAX_IMAGE_PIXELS"
_DEFAULT_MAX_PIXELS = 89_478_485  # Pillow's own default (about 0.25 GB of 24-bit pixels)


def max_image_pixels() -> int:
    """The largest image (width x height) read; ``LARGE_TK_MAX_IMAGE_PIXELS`` overrides Pillow's default."""
    text = os.environ.get(PIXEL_CAP_ENV, "").strip()
    if not text:
        return _DEFAULT_MAX_PIXELS
    try:
        value = int(float(text))
    except ValueError:
        raise UserInputError(
            f"{PIXEL_CAP_ENV}={text!r} is not a number", hint="give a pixel count, e.g. 50000000"
        ) from None
    if value < 1:
        raise UserInputError(f"{PIXEL_CAP_ENV} must be positive, got {text}", hint="give a pixel count, e.g. 50000000")
    return value


# ----------------------------------------------------------------------------------------- listing


def _is_image(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and path.suffix.lower() in IMAGE_SUFFIXES


def list_images(inputs: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Folders (non-recursive, sorted), image files and globs -> one ordered list of image paths.

    File names must be unique, because they become the images' ids (in latents files and label tables).
    """
    items = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    found: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found.extend(sorted(q for q in p.iterdir() if _is_image(q)))
        elif p.is_file():
            if p.suffix.lower() not in IMAGE_SUFFIXES:
                raise UserInputError(f"{p} is not an image file", hint=f"use one of {', '.join(IMAGE_SUFFIXES)}")
            found.append(p)
        elif glob.has_magic(str(item)):
            matches = sorted(Path(m) for m in glob.glob(str(item)) if _is_image(Path(m)))
            if not matches:
                raise UserInputError(
                    f"no images match {item}", hint=f"check the pattern; image files end in {', '.join(IMAGE_SUFFIXES)}"
                )
            found.extend(matches)
        else:
            raise UserInputError(f"image path not found: {p}")
    if not found:
        where = ", ".join(str(i) for i in items) or "the inputs"
        raise UserInputError(f"no images in {where}", hint=f"image files end in {', '.join(IMAGE_SUFFIXES)}")
    names = [p.name for p in found]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UserInputError(
            f"image file names must be unique (they become ids); repeated: {', '.join(dupes[:5])}",
            hint="rename the repeated files, or pass the folders one at a time",
        )
    return found


# ----------------------------------------------------------------------------------------- reading


def _to_rgb(img: object) -> np.ndarray:
    """Any Pillow mode -> uint8 ``[H, W, 3]``: 16-bit scaled, palette expanded, alpha composited on white."""
    from PIL import Image

    assert isinstance(img, Image.Image)
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "I;16N"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        grey = np.clip(np.round(arr / top * 255.0), 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if img.mode == "F":
        grey = np.clip(np.round(np.asarray(img, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return np.array(img.convert("RGB"), dtype=np.uint8)  # a writable copy


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """One image file -> uint8 ``[H, W, 3]``, upright by EXIF; a bad file is one error naming it."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    p = Path(path)
    if not p.is_file():
        raise UserInputError(f"image not found: {p}")
    cap = max_image_pixels()
    Image.MAX_IMAGE_PIXELS = cap
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(p) as img:
                w, h = img.size
                if w * h > cap:
                    raise Image.DecompressionBombError(f"{w * h} pixels")
                img.load()
                upright = ImageOps.exif_transpose(img)
                return _to_rgb(upright if upright is not None else img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UserInputError(
            f"image {p.name} is too large to read safely ({_size_text(p)}, cap {cap} pixels)",
            hint=f"downscale it, or raise the cap with {PIXEL_CAP_ENV}=<pixels>",
        ) from None
    except UnidentifiedImageError:
        raise UserInputError(
            f"image {p.name} is not an image Pillow can read", hint="re-save it as PNG or JPEG"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise UserInputError(f"image {p.name} cannot be decoded ({exc})", hint="re-save it as PNG or JPEG") from None


def _size_text(p: Path) -> str:
    from PIL import Image

    try:
        Image.MAX_IMAGE_PIXELS = None
        with Image.open(p) as img:
            return f"{img.size[0]}x{img.size[1]}"
    except Exception:  # only for the message
        return "unknown size"
    finally:
        Image.MAX_IMAGE_PIXELS = max_image_pixels()


def fit_to_resolution(image: np.ndarray, resolution: int, policy: str = DEFAULT_RESIZE, name: str = "") -> np.ndarray:
    """uint8 ``[H, W, 3]`` -> ``[R, R, 3]`` under ``policy`` (see the module doc); the same size passes through."""
    from PIL import Image

    if policy not in RESIZE_POLICIES:
        raise UserInputError(f"unknown --resize {policy!r}", hint=f"use one of {', '.join(RESIZE_POLICIES)}")
    h, w = image.shape[:2]
    if (h, w) == (resolution, resolution):
        return image
    if policy == "error":
        raise UserInputError(
            f"image {name or '?'} is {w}x{h}, the generator makes {resolution}x{resolution}",
            hint="resize the images, or pass --resize center-crop|fit",
        )
    if policy == "center-crop":
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        square = image[top : top + side, left : left + side]
    else:
        side = max(h, w)
        square = np.full((side, side, 3), 255, np.uint8)
        top, left = (side - h) // 2, (side - w) // 2
        square[top : top + h, left : left + w] = image
    pil = Image.fromarray(np.ascontiguousarray(square))
    return np.array(pil.resize((resolution, resolution), Image.Resampling.LANCZOS), dtype=np.uint8)


def resize_note(sizes: Sequence[tuple[int, int]], resolution: int, policy: str) -> str | None:
    """The one line saying what :func:`fit_to_resolution` did to a set of images (None when nothing)."""
    changed = [(w, h) for w, h in sizes if (w, h) != (resolution, resolution)]
    if not changed:
        return None
    kinds = sorted({f"{w}x{h}" for w, h in changed})
    shown = ", ".join(kinds[:3]) + (" ..." if len(kinds) > 3 else "")
    how = "center-cropped to a square" if policy == "center-crop" else "padded to a square with white"
    return (
        f"{len(changed)} of {len(sizes)} image(s) ({shown}) {how} and resized to {resolution}x{resolution} "
        f"(--resize {policy}; --resize error refuses them)"
    )


# ----------------------------------------------------------------------------------------- writing


def write_image(path: str | os.PathLike[str], image: np.ndarray, quality: int = 95) -> Path:
    """Write uint8 ``[H, W]`` / ``[H, W, C]`` as PNG or JPEG (by suffix), atomically."""
    from PIL import Image

    arr = np.asarray(image)
    if arr.dtype != np.uint8 or arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise UserInputError(f"images must be uint8 [H, W] or [H, W, 1|3|4], got {arr.dtype} {list(arr.shape)}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    p = Path(path)
    suffix = p.suffix.lower()
    fmt = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP", ".tif": "TIFF"}.get(suffix)
    if fmt is None:
        raise UserInputError(f"cannot write {p.name}: unknown image type", hint="use .png or .jpg")
    pil = Image.fromarray(np.ascontiguousarray(arr))
    if fmt == "JPEG" and pil.mode == "RGBA":
        pil = pil.convert("RGB")
    with atomic_path(p) as tmp:
        pil.save(tmp, format=fmt, **({"quality": quality} if fmt in ("JPEG", "WEBP") else {}))
    return p


# ----------------------------------------------------------------------------------------- arrays


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
