"""Latent edit math for the explorer: ``w + sum(alpha_i * d_i)`` on chosen w indices only.

Kept free of Qt and of state so that the exact arithmetic a slider triggers can be
unit-tested, and so the render worker can run it on a frozen request.  W and W+
directions go through the core's :func:`large_toolkit.directions.edit_ws` (so a
slider step means what ``large-tk directions edit`` means, GANSpace sigmas
included); S directions edit the style vector of the layers whose ``w_index`` is
selected (StyleSpace edits are local by nature).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from large_toolkit.directions import edit_ws, step_scale
from large_toolkit.errors import ShapeError
from large_toolkit.types import Direction, LatentSpace, StyleLayer, style_offsets


def layer_mask(num_ws: int, indices: Sequence[int] | None) -> torch.Tensor:
    """Boolean ``[num_ws]`` mask of the w indices that receive an edit (None = all)."""
    mask = torch.zeros(num_ws, dtype=torch.bool)
    if indices is None:
        mask[:] = True
    else:
        mask[list(indices)] = True
    return mask


def style_delta(direction: Direction, layers: Sequence[StyleLayer], mask: torch.Tensor) -> torch.Tensor:
    """The flat S offset one unit of an S direction adds, zero outside layers fed by masked w rows."""
    vec = direction.vector.to(torch.float32).clone()
    total = sum(layer.channels for layer in layers)
    if vec.shape[0] != total:
        raise ShapeError(f"S direction {direction.name!r}: expected {total} dims, got {vec.shape[0]}")
    for layer, (a, b) in zip(layers, style_offsets(layers), strict=True):
        if not bool(mask[layer.w_index]):
            vec[a:b] = 0.0
    return vec


Edit = tuple[Direction, float] | tuple[Direction, float, Sequence[int] | None]


def apply_edits(
    ws: torch.Tensor,
    edits: Sequence[Edit],
    indices: Sequence[int] | None,
    style_layers: Sequence[StyleLayer],
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Apply ``(direction, alpha)`` pairs to one W+ code ``[num_ws, w_dim]``.

    ``indices`` are the w rows that receive the edit; None leaves the choice to each
    direction (its own layer mask, else every row).  An edit may carry its own indices as a third element
    (a layer range per direction), which then replace ``indices`` for that direction.  Returns the edited W+ code and,
    when any S direction is active, the flat S offset to add after the style
    affines (None otherwise), so the renderer knows whether it must go through
    ``synthesis_from_styles``.
    """
    num_ws = int(ws.shape[0])
    out = ws.to(torch.float32).unsqueeze(0).clone()
    s_offset: torch.Tensor | None = None
    for edit in edits:
        direction, alpha = edit[0], edit[1]
        own = edit[2] if len(edit) > 2 else None
        rows = own if own is not None else indices
        if alpha == 0.0:
            continue
        if direction.space is LatentSpace.S:
            step = style_delta(direction, style_layers, layer_mask(num_ws, rows)) * (alpha * step_scale(direction))
            s_offset = step if s_offset is None else s_offset + step
        else:
            out = edit_ws(out, direction, float(alpha), None if rows is None else list(rows))
    return out[0], s_offset
