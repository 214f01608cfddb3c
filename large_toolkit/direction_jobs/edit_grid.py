"""The image grid of an edit along a direction: one row per seed, one column per edit step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from large_toolkit.interfaces import Generator
    from large_toolkit.types import Direction


def render_edit_grid(
    generator: Generator,
    direction: Direction,
    seeds: Sequence[int],
    steps: Sequence[float],
    slots: list[int],
    psi: float,
) -> np.ndarray:
    """uint8 ``[H * seeds, W * steps, C]``: each seed's truncated w moved by every step along ``direction``."""
    import torch

    from large_toolkit.directions import edit_ws
    from large_toolkit.runner import precision_autocast

    rows = []
    with torch.inference_mode(), precision_autocast(generator.device):  # the global --precision
        for seed in seeds:
            z = generator.sample_z(1, seed)
            c = torch.zeros(1, generator.c_dim, device=z.device) if generator.c_dim else None
            ws = generator.mapping(z, c, psi=psi)
            batch = torch.cat([edit_ws(ws, direction, a, slots) for a in steps])
            imgs = generator.synthesis(batch).float().cpu()
            rows.append(torch.cat(list(imgs), dim=2))  # [C, H, W*steps]
    grid = torch.cat(rows, dim=1)
    return ((grid.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()


def save_edit_grid(
    out: str, grid: np.ndarray, seeds: Sequence[int], steps: Sequence[float], title: str, *, raw: bool, scale: int
) -> None:
    """Write the grid: bare pixels at native size (``raw``) or upscaled with seed / step labels and a title."""
    if raw:
        from large_toolkit.io.images import write_image

        write_image(out, np.ascontiguousarray(grid))
        return
    from large_toolkit.regression.plots import grid_chart

    height, width = grid.shape[0] // len(seeds), grid.shape[1] // len(steps)
    cells = grid.reshape(len(seeds), height, len(steps), width, -1).transpose(0, 2, 1, 3, 4)
    grid_chart(out, cells, [f"seed {s}" for s in seeds], [f"{a:+g}" for a in steps], title=title, scale=scale)


def write_edit_grid(
    generator: Generator,
    spec: str,
    out: str,
    *,
    seeds: Sequence[int],
    steps: Sequence[float],
    layers: str | None = None,
    psi: float = 1.0,
    config: Mapping[str, Any] | None = None,
    raw: bool = False,
    scale: int = 4,
) -> dict[str, Any]:
    """Resolve the direction ``spec`` names, render its edit grid to ``out`` and say what was written."""
    from large_toolkit.directions import edit_layers, resolve_direction, step_scale

    d = resolve_direction(spec, generator, config)
    slots = edit_layers(d, generator.num_ws, layers)
    grid = render_edit_grid(generator, d, seeds, steps, slots, psi)
    title = f"{spec} ({d.name}): edit step per column, psi {psi:g}"
    save_edit_grid(out, grid, seeds, steps, title, raw=raw, scale=scale)
    return {
        "out": out,
        "direction": spec,
        "name": d.name,
        "seeds": list(seeds),
        "steps": list(steps),
        "layers": slots,
        "step_scale": step_scale(d),
        "size": [int(grid.shape[1]), int(grid.shape[0])],
    }
