"""Sorting images by latent distance without labels, strip selection, and rank agreement with labels.

The released ``sort.py`` sorts ascending by the scalar distance and shows
``num_for_plot`` evenly spaced images; ``weighted_edges`` takes a third from
the lowest 10 %, a third from the middle 80 % and a third from the top 10 %
(for attributes with a narrow spread).  Rank quality vs labels uses Spearman
and Kendall correlations (scipy).
"""

from __future__ import annotations

import numpy as np

from large_toolkit.errors import UserInputError


def sort_order(distances: np.ndarray, descending: bool = False) -> np.ndarray:
    """Indices that sort images by distance (stable, so ties keep input order)."""
    d = np.asarray(distances, dtype=np.float64).reshape(-1)
    order = np.argsort(d, kind="stable")
    return order[::-1].copy() if descending else order


def strip_positions(count: int, k: int, weighted_edges: bool = False) -> np.ndarray:
    """Positions (in sorted order) of the ``k`` images shown in a strip."""
    if count < 1 or k < 1:
        raise UserInputError("a strip needs at least one image")
    k = min(k, count)
    if not weighted_edges:
        return np.unique(np.round(np.linspace(0, count - 1, k)).astype(int))
    lo_end, hi_start = int(0.1 * count), int(0.9 * count)
    parts = [k // 3, k - 2 * (k // 3), k // 3]
    ranges = [(0, max(lo_end - 1, 0)), (lo_end, max(hi_start - 1, lo_end)), (hi_start, count - 1)]
    picked = [np.round(np.linspace(a, b, m)).astype(int) for (a, b), m in zip(ranges, parts, strict=True) if m > 0]
    return np.unique(np.concatenate(picked))


def rank_agreement(distances: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Spearman rho and Kendall tau between distances and labels (sign tells the direction's orientation)."""
    from scipy.stats import kendalltau, spearmanr

    d = np.asarray(distances, dtype=np.float64).reshape(-1)
    y = np.asarray(labels, dtype=np.float64).reshape(-1)
    if d.shape != y.shape or d.size < 2:
        raise UserInputError("rank agreement needs as many labels as distances (at least 2)")
    return {"spearman": float(spearmanr(d, y).statistic), "kendall": float(kendalltau(d, y).statistic)}
