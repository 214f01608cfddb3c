"""Ordinal regression: quantile cuts, few-shot cut points, metrics, and the vectorised protocol."""

import numpy as np
import pytest

from large_toolkit.errors import UserInputError
from large_toolkit.regression import ordinal as od


def _data(n=600, k=4, noise=0.3, seed=0):
    rng = np.random.default_rng(seed)
    c = rng.integers(0, k, n)
    return 2.0 * c + rng.normal(0, noise, n) - 3.0, c


def test_quantile_thresholds_match_priors():
    d = np.arange(1000, dtype=float)
    m = od.quantile_thresholds(d, 3, "1,2,1")
    assert np.bincount(m.predict(d)).tolist() == [250, 500, 250]
    desc = od.quantile_thresholds(d, 2, descending=True)
    assert desc.predict(np.array([999.0, 0.0])).tolist() == [0, 1]
    with pytest.raises(UserInputError):
        od.quantile_thresholds(d, 3, "1,2")


@pytest.mark.parametrize("method", od.FEWSHOT_METHODS)
def test_fewshot_fit_recovers_classes(method):
    d, c = _data()
    rows = np.r_[
        np.flatnonzero(c == 0)[:3], np.flatnonzero(c == 1)[:3], np.flatnonzero(c == 2)[:3], np.flatnonzero(c == 3)[:3]
    ]
    m = od.fit_thresholds(d[rows], c[rows], 4, method)
    met = od.ordinal_metrics(m.predict(d), c)
    assert met["accuracy"] > 0.97 and met["mae"] < 0.03
    # orientation is learnt from the labels
    m2 = od.fit_thresholds(-d[rows], c[rows], 4, method)
    assert od.ordinal_metrics(m2.predict(-d), c)["accuracy"] == met["accuracy"]


def test_midpoint_uses_class_medians():
    m = od.fit_thresholds(np.array([0.0, 1.0, 10.0, 11.0]), np.array([0, 0, 1, 1]), 2, "midpoint")
    assert m.thresholds.tolist() == [5.5]


def test_fit_refuses_one_class_and_bad_labels():
    with pytest.raises(UserInputError, match="same class"):
        od.fit_thresholds(np.array([0.0, 1.0]), np.array([1, 1]), 3)
    with pytest.raises(UserInputError, match="integers"):
        od.fit_thresholds(np.array([0.0, 1.0]), np.array([0, 5]), 3)


def test_bin_labels_and_metrics():
    cls, edges = od.bin_labels(np.arange(8.0), 4)
    assert cls.tolist() == [0, 0, 1, 1, 2, 2, 3, 3] and edges.size == 3
    assert od.ordinal_metrics(np.array([0, 1, 3]), np.array([0, 2, 1])) == {
        "accuracy": pytest.approx(1 / 3),
        "mae": pytest.approx(1.0),
        "within_one": pytest.approx(2 / 3),
    }


def test_vectorised_linear_protocol_equals_per_draw_fits():
    d, c = _data(n=300, noise=0.8, seed=1)
    vec = od.fewshot_ordinal_protocol(d, c, 4, 5, repeats=60, seed=3, method="linear")
    # the same draws, one fit_thresholds call each (the linear cut points are round(a d + b))
    from large_toolkit.regression.sampling import default_min_distance, sample_min_distance_batched

    idx, _ = sample_min_distance_batched(d, 5, default_min_distance(d, 5), 60, np.random.default_rng(3))
    accs = []
    for row in idx:
        m = od.fit_thresholds(d[row], c[row], 4, "linear")
        test = np.ones(d.size, bool)
        test[row] = False
        accs.append(od.ordinal_metrics(m.predict(d[test]), c[test])["accuracy"])
    assert vec["draws"] == 60
    assert vec["accuracy_mean"] == pytest.approx(np.mean(accs), abs=1e-12)
