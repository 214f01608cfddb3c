"""Tiny PNG charts (scatter, bars) drawn with numpy: no matplotlib dependency.

A picture of distance vs label is the quickest sanity check of LARGE's
linearity claim, so every regress/layers run writes one, even on a minimal
install.  Rendering is deliberately plain: points, a fit line, bars, axes.
"""

from __future__ import annotations

import os

import numpy as np

from large_toolkit.io.atomic import atomic_path
from large_toolkit.io.png import encode_png

_W, _H, _PAD = 480, 360, 30


def _canvas() -> np.ndarray:
    img = np.full((_H, _W, 3), 255, dtype=np.uint8)
    img[_H - _PAD, _PAD : _W - _PAD + 1] = 0  # x axis
    img[_PAD : _H - _PAD + 1, _PAD] = 0  # y axis
    return img


def _scale(v: np.ndarray, lo: float, hi: float, a: int, b: int) -> np.ndarray:
    span = hi - lo if hi > lo else 1.0
    return np.round(a + (v - lo) / span * (b - a)).astype(int)


def scatter_png(
    x: np.ndarray,
    y: np.ndarray,
    line: tuple[float, float] | None = None,
    highlight: np.ndarray | None = None,
) -> np.ndarray:
    """Scatter of ``y`` vs ``x`` (blue), optional highlighted points (red) and line ``y = a x + b``."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    img = _canvas()
    xlo, xhi, ylo, yhi = x.min(), x.max(), y.min(), y.max()
    if line is not None:
        xs = np.linspace(xlo, xhi, 400)
        ys = line[0] * xs + line[1]
        ok = (ys >= ylo) & (ys <= yhi)
        px = _scale(xs[ok], xlo, xhi, _PAD + 2, _W - _PAD - 2)
        py = _scale(ys[ok], ylo, yhi, _H - _PAD - 2, _PAD + 2)
        img[py, px] = (0, 160, 0)
    px = _scale(x, xlo, xhi, _PAD + 2, _W - _PAD - 2)
    py = _scale(y, ylo, yhi, _H - _PAD - 2, _PAD + 2)
    colors = np.tile(np.array([30, 80, 200], np.uint8), (x.size, 1))
    if highlight is not None:
        colors[np.asarray(highlight, bool)] = (220, 30, 30)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            img[np.clip(py + dy, 0, _H - 1), np.clip(px + dx, 0, _W - 1)] = colors
    return img


def bar_png(values: np.ndarray) -> np.ndarray:
    """One bar per value (per-layer weights or R²); negative values drawn below the zero line."""
    v = np.asarray(values, float)
    img = _canvas()
    lo, hi = min(0.0, v.min()), max(0.0, v.max())
    zero = _scale(np.array([0.0]), lo, hi, _H - _PAD, _PAD)[0]
    width = max(1, (_W - 2 * _PAD) // max(1, v.size))
    tops = _scale(v, lo, hi, _H - _PAD, _PAD)
    for i, top in enumerate(tops):
        x0 = _PAD + 1 + i * width
        a, b = sorted((int(top), int(zero)))
        img[a : b + 1, x0 : x0 + max(1, width - 2)] = (30, 80, 200)
    return img


def write_chart(path: str | os.PathLike[str], image: np.ndarray) -> None:
    """Write a chart atomically."""
    data = encode_png(image)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def strip_png(images: np.ndarray, gap: int = 2) -> np.ndarray:
    """A horizontal strip of NHWC uint8 images (the sorting figure), separated by white gaps."""
    imgs = np.asarray(images, dtype=np.uint8)
    n, h, w, c = imgs.shape
    out = np.full((h, n * w + (n - 1) * gap, c), 255, dtype=np.uint8)
    for i in range(n):
        out[:, i * (w + gap) : i * (w + gap) + w] = imgs[i]
    return out
