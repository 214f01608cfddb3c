"""Sample grids for eyeballing a dataset or a generator (docs, training snapshots).

``python -m large_toolkit.data.preview docs/`` regenerates ``docs/demo_samples.png`` (64 random
images, seed 0) and ``docs/demo_factors.png`` (one row per factor swept low -> high, others at
their midpoints).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def make_grid(images: np.ndarray, cols: int = 8, scale: int = 1, pad: int = 0, pad_value: int = 255) -> np.ndarray:
    """Tile uint8 NHWC images into one HWC image, row-major, each upscaled ``scale``x (nearest)."""
    images = np.asarray(images)
    n, h, w, c = images.shape
    rows = -(-n // cols)
    full = np.full((rows * cols, h + pad, w + pad, c), pad_value, dtype=images.dtype)
    full[:n, :h, :w] = images
    grid = full.reshape(rows, cols, h + pad, w + pad, c).transpose(0, 2, 1, 3, 4)
    grid = grid.reshape(rows * (h + pad), cols * (w + pad), c)
    if pad:
        grid = grid[:-pad, :-pad]
    return grid.repeat(scale, axis=0).repeat(scale, axis=1) if scale > 1 else grid


def factor_sweep(steps: int = 8, resolution: int = 32) -> np.ndarray:
    """One row per factor, swept from low to high with the others at their range midpoints."""
    from large_toolkit.data.factors import FACTORS
    from large_toolkit.data.render import render_batch
    from large_toolkit.data.synthetic import vary_one

    rows = [render_batch(vary_one(f.name, np.linspace(f.low, f.high, steps)), resolution) for f in FACTORS]
    return np.concatenate(rows, axis=0)


def main(argv: list[str]) -> None:
    from large_toolkit.data.synthetic import generate
    from large_toolkit.io.images import write_image

    out = Path(argv[0] if argv else "docs")
    write_image(out / "demo_samples.png", make_grid(generate(64, seed=0).images, cols=8, scale=2))
    write_image(out / "demo_factors.png", make_grid(factor_sweep(8), cols=8, scale=2, pad=1))


if __name__ == "__main__":
    main(sys.argv[1:])
