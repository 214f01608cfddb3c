"""Sorting and rank agreement."""

import numpy as np
import pytest

from large_toolkit.regression.sorting import rank_agreement, sort_order, strip_positions


def test_sort_and_strips():
    d = np.array([3.0, -1.0, 2.0, 0.5])
    assert sort_order(d).tolist() == [1, 3, 2, 0]
    assert sort_order(d, descending=True).tolist() == [0, 2, 3, 1]
    assert strip_positions(100, 5).tolist() == [0, 25, 50, 74, 99]
    edges = strip_positions(100, 9, weighted_edges=True)
    assert (edges < 10).sum() == 3 and (edges >= 90).sum() == 3 and len(edges) == 9


def test_rank_agreement_numbers():
    d = np.array([1.0, 2.0, 3.0, 4.0])
    r = rank_agreement(d, np.array([10.0, 30.0, 20.0, 40.0]))
    assert r["spearman"] == pytest.approx(0.8) and r["kendall"] == pytest.approx(2 / 3)
    assert rank_agreement(d, -d)["spearman"] == pytest.approx(-1.0)
