"""Voynov & Babenko's deformator files (``deformator_{step}.pt``): read as directions, written by the finder.

A state dict with ``log_mat_half`` (ortho: ``A = expm(L - Lᵀ)``) or ``linear.weight [D, K]`` (linear/proj);
direction ``k`` is column ``k``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from large_toolkit.api import (
    DirectionFormat,
    DirectionSet,
    LatentSpace,
    directions_from_rows,
    load_weights_only,
    save_weights,
    stored_keys,
)


def voynov_matrix(state: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A deformator state dict -> (``A [D, K]`` float64, direction k = column k; bias or None).

    ``ortho`` is computed in float64 so exported directions are orthonormal to ~1e-15; ``linear``/``proj``
    are returned as stored.  The finder and the reader share it, so a trained deformator and the same
    deformator read back from disk give the same matrix.
    """
    if "log_mat_half" in state:
        half = state["log_mat_half"].double()
        return torch.linalg.matrix_exp(half - half.T), None
    bias = state.get("linear.bias")
    return state["linear.weight"].double(), None if bias is None else bias.double()


def write_voynov_state(path: str | os.PathLike[str], state: Mapping[str, torch.Tensor]) -> Path:
    """Write a deformator state dict as the original's ``deformator_{step}.pt`` (CPU tensors, atomic)."""
    clean = {k: v.detach().to("cpu", torch.float32).contiguous().clone() for k, v in state.items()}
    return save_weights(Path(path), clean)


class Deformator(DirectionFormat):
    suffixes = (".pt", ".pth")
    writable = False

    def sniff(self, path: Path) -> bool:
        return bool({"log_mat_half", "linear.weight"} & stored_keys(path))  # ortho, or linear/proj

    def read(self, path: Path) -> DirectionSet:
        mat, bias = voynov_matrix(load_weights_only(path))
        prov: dict[str, Any] = {"scale": "unit", "shift_scale": 6.0}
        if bias is not None:
            prov["bias"] = bias.float().tolist()
        rows = directions_from_rows(mat.T.float(), LatentSpace.W, "voynov", "voynov", path, **prov)
        return DirectionSet(rows, None, "score", {"format": "voynov"})
