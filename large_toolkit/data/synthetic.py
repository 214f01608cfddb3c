"""The procedural ground-truth dataset: seeded factor sampling + chunked, threaded rendering.

Why 32x32 by default: the demo generator is trained on CPU by the project's own trainer; at
32x32 a small StyleGAN2 (4 -> 32, a few hundred kimg) fits in minutes on two cores, while 64x64
costs about 4x per image and more layers.  The scene is defined on a 32-pixel reference canvas,
so ``resolution=64`` renders the same faces (same labels) at twice the detail when wanted.

Determinism: factors come from one ``numpy.random.default_rng(seed)`` draw (so a smaller set is
a prefix of a larger one with the same seed) and rendering is a pure function of the factors, so
chunk size and thread count never change a byte.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from large_toolkit.data.factors import FACTORS, Factor, sample_factors
from large_toolkit.data.render import render_batch

DEFAULT_RESOLUTION = 32
DEFAULT_CHUNK = 256
"""Images per numpy call: large enough to amortise Python overhead, small enough to stay in cache."""


@dataclass
class SyntheticSet:
    """Rendered images (uint8 NHWC) with their ground-truth factors (structured array, one row each)."""

    images: np.ndarray
    labels: np.ndarray
    seed: int
    resolution: int

    @property
    def factors(self) -> tuple[Factor, ...]:
        return FACTORS

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def label_matrix(self) -> np.ndarray:
        """Labels as a float64 ``[N, F]`` matrix in factor-table order."""
        return np.stack([self.labels[f.name] for f in FACTORS], axis=1)


def default_workers() -> int:
    """Threads for rendering: numpy releases the GIL in array maths, so cores help (capped at 8)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))


def render_labels(
    labels: np.ndarray,
    resolution: int = DEFAULT_RESOLUTION,
    *,
    chunk: int = DEFAULT_CHUNK,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Render a structured labels array in chunks, on ``workers`` threads; returns uint8 NHWC.

    ``progress`` is called with the number of images finished after each chunk.
    """
    n = int(labels.shape[0])
    out = np.empty((n, resolution, resolution, 3), dtype=np.uint8)
    starts = range(0, n, max(1, chunk))
    workers = default_workers() if workers is None else max(1, workers)

    def work(start: int) -> int:
        stop = min(n, start + chunk)
        out[start:stop] = render_batch(labels[start:stop], resolution)
        return stop - start

    if workers == 1 or n <= chunk:
        for start in starts:
            done = work(start)
            if progress:
                progress(done)
        return out
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for done in pool.map(work, starts):
            if progress:
                progress(done)
    return out


def generate(
    n: int,
    seed: int = 0,
    resolution: int = DEFAULT_RESOLUTION,
    *,
    chunk: int = DEFAULT_CHUNK,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> SyntheticSet:
    """Sample ``n`` factor vectors from ``seed`` and render them: the whole dataset in memory."""
    labels = sample_factors(n, seed)
    images = render_labels(labels, resolution, chunk=chunk, workers=workers, progress=progress)
    return SyntheticSet(images=images, labels=labels, seed=seed, resolution=resolution)


def vary_one(name: str, values: np.ndarray | list[float], base: np.ndarray | None = None) -> np.ndarray:
    """Labels that hold every factor at ``base`` (default: range midpoints) and sweep one factor.

    Used by tests and docs to show what each factor does to the image.
    """
    from large_toolkit.data.factors import labels_dtype

    values = np.asarray(values, dtype=np.float64)
    out = np.empty(values.shape[0], dtype=labels_dtype())
    for f in FACTORS:
        out[f.name] = (f.low + f.high) / 2.0 if base is None else base[f.name]
    out[name] = values
    return out
