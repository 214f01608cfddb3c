"""Turning codes into pictures, Qt-free so workers and tests can call it directly.

Only the final uint8 HWC array leaves the device; the worker hands it to the GUI
thread, which wraps it in a QImage (see :mod:`large_gui.qimage`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from large_gui.edits import apply_edits
from large_toolkit.types import Direction

if TYPE_CHECKING:
    from large_gui.state import RenderRequest
    from large_toolkit.interfaces import Generator


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """NCHW float in [-1, 1] -> NHWC uint8 RGB (grey images are repeated to three channels)."""
    x = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    return np.ascontiguousarray(x[:, :3].permute(0, 2, 3, 1).cpu().numpy())


def synthesize(generator: Generator, ws: torch.Tensor, style_offset: torch.Tensor | None = None) -> torch.Tensor:
    """Images for W+ codes ``[N, num_ws, w_dim]``, adding an S offset after the affines when given.

    Runs at the global ``--precision`` (``large-tk --precision bf16 gui``), like the CLI's forward passes.
    """
    from large_toolkit.runner import precision_autocast

    with torch.inference_mode(), precision_autocast(generator.device):
        ws = ws.to(generator.device, torch.float32)
        if style_offset is None:
            return generator.synthesis(ws)
        styles = generator.styles(ws) + style_offset.to(generator.device)
        return generator.synthesis_from_styles(styles)


def render_request(generator: Generator, request: RenderRequest) -> np.ndarray:
    """One ``[H, W, 3]`` uint8 frame for a frozen request."""
    return to_uint8(synthesize(generator, request.ws.unsqueeze(0), request.style_offset))[0]


def render_strip(
    generator: Generator,
    base_ws: torch.Tensor,
    direction: Direction,
    indices: Sequence[int] | None,
    alphas: Sequence[float],
) -> np.ndarray:
    """A one-row image grid along ``direction`` (one frame per alpha), as ``[H, W*len(alphas), 3]``."""
    frames = []
    for alpha in alphas:
        ws, offset = apply_edits(base_ws, [(direction, float(alpha))], indices, generator.style_layers)
        frames.append(to_uint8(synthesize(generator, ws.unsqueeze(0), offset))[0])
    return np.ascontiguousarray(np.concatenate(frames, axis=1))


def edit_effect_per_layer(
    generator: Generator, base_ws: torch.Tensor, direction: Direction, alpha: float = 3.0
) -> list[float]:
    """Mean absolute pixel change when only w index ``l`` is moved by ``alpha`` along ``direction``.

    A cheap, model-agnostic view of where a direction acts around the current code,
    fast enough to refresh whenever the current direction changes.
    """
    num_ws = int(base_ws.shape[0])
    reference = synthesize(generator, base_ws.unsqueeze(0))
    batch, offsets = [], []
    for index in range(num_ws):
        ws, offset = apply_edits(base_ws, [(direction, alpha)], [index], generator.style_layers)
        batch.append(ws)
        offsets.append(offset)
    if all(o is None for o in offsets):
        edited = synthesize(generator, torch.stack(batch))
    else:
        edited = torch.cat([synthesize(generator, w.unsqueeze(0), o) for w, o in zip(batch, offsets, strict=True)])
    return [float(v) for v in (edited - reference).abs().mean(dim=(1, 2, 3)).cpu()]


def layer_importance(
    generator: Generator, base_ws: torch.Tensor, direction: Direction, method: str = "edit"
) -> list[float]:
    """Per-w-index importance of ``direction``.

    ``edit`` (default, interactive): the edit effect around the current code, a
    handful of renders.  ``gradient``: the core's released gradient study
    (:func:`large_toolkit.analysis.importance.gradient_importance`, 100 + 100
    samples with backward passes: seconds to minutes on a CPU), the same numbers
    ``large-tk layers`` writes as layer weights.
    """
    if method == "gradient":
        from large_toolkit.analysis.importance import gradient_importance

        return [float(v) for v in gradient_importance(generator, direction).layer_weights]
    return edit_effect_per_layer(generator, base_ws, direction)
