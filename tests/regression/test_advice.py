"""Labelling advice, uncertainty intervals and direction ranking (including the demo acceptance check)."""

import numpy as np
import pytest
import torch

from large_toolkit.errors import UserInputError
from large_toolkit.regression import advice


def test_suggest_labels_spreads_along_distance():
    d = np.random.default_rng(0).normal(size=1001)
    adv = advice.suggest_labels(d, 2)
    assert adv.quantiles.tolist() == pytest.approx([0.05, 0.95])
    assert adv.efficiency > 4  # S_xx of the pair vs a random pair: (2 * 1.645)^2 / 2 = 5.4
    three = advice.suggest_labels(d, 3)
    assert three.quantiles.tolist() == pytest.approx([0.05, 0.5, 0.95])
    # with two labelled images near the ends, the next pick fills the biggest gap (the middle)
    order = np.argsort(d)
    nxt = advice.suggest_labels(d, 1, labelled=[order[60], order[940]])
    assert abs(nxt.quantiles[0] - 0.5) < 0.02
    with pytest.raises(UserInputError):
        advice.suggest_labels(d, 2000)


def test_ols_interval_coverage_and_bootstrap_seeded():
    rng = np.random.default_rng(1)
    hits = []
    for _ in range(200):
        x = rng.uniform(-1, 1, 10)
        y = 3 * x + 1 + rng.normal(0, 0.5, 10)
        xt = rng.uniform(-1, 1, 50)
        yt = 3 * xt + 1 + rng.normal(0, 0.5, 50)
        iv = advice.ols_interval(x, y, xt, 0.9)
        hits.append(np.mean((yt >= iv["lower"]) & (yt <= iv["upper"])))
    assert np.mean(hits) == pytest.approx(0.9, abs=0.02)
    x, y = rng.uniform(-1, 1, 8), rng.normal(size=8)
    a = advice.bootstrap_interval(x, y, np.array([0.0, 2.0]), seed=5)
    b = advice.bootstrap_interval(x, y, np.array([0.0, 2.0]), seed=5)
    assert np.array_equal(a["lower"], b["lower"]) and (a["upper"] > a["lower"]).all()
    assert a["upper"][1] - a["lower"][1] > a["upper"][0] - a["lower"][0]  # wider away from the data
    with pytest.raises(UserInputError, match="3 labels"):
        advice.ols_interval(x[:2], y[:2], x)


def test_loo_errors_match_refits():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 9))
    y = rng.normal(size=9)
    got = advice.loo_errors(x, y)["mae"]
    for c in range(3):
        errs = []
        for i in range(9):
            keep = np.arange(9) != i
            a, b = np.polyfit(x[c, keep], y[keep], 1)
            errs.append(abs(a * x[c, i] + b - y[i]))
        assert got[c] == pytest.approx(np.mean(errs), rel=1e-9)


def test_layer_agreement_and_bimodality():
    rng = np.random.default_rng(3)
    base = rng.normal(size=(500, 1))
    assert advice.layer_agreement(base + 0.1 * rng.normal(size=(500, 4))) > 0.95
    assert abs(advice.layer_agreement(rng.normal(size=(500, 4)))) < 0.1
    two = np.r_[rng.normal(-3, 0.5, 500), rng.normal(3, 0.5, 500)]
    assert advice.bimodality(two) > 0.555 > advice.bimodality(rng.normal(size=1000))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    torch.set_num_threads(1)
    from large_toolkit.data.synthetic import generate
    from large_toolkit.directions import resolve_direction_set
    from large_toolkit.latent_cache import invert_images
    from large_toolkit.plugins import get_host, load_generator

    g = load_generator("stylegan2", None, device="cpu")
    inv = get_host().inverter("encoder").create(g, checkpoint=None)
    data = generate(200, seed=0)
    lat, _ = invert_images(data.images, g, inv, "wplus", use_cache=False)
    return g, lat, resolve_direction_set("sefa", g, use_cache=False), data.labels["light_intensity"]


def test_demo_loo_picks_sefa3_with_ten_labels(demo):
    from large_toolkit.regression.features import layer_distances

    _g, lat, dirs, y = demo
    names = [f"sefa:{k}" for k in range(8)]
    per = [layer_distances(lat, dirs[k]) for k in range(8)]
    scalar = [p.mean(1) for p in per]
    rng = np.random.default_rng(0)
    picks = []
    for _ in range(20):
        rows = rng.choice(len(y), 10, replace=False)
        picks.append(advice.rank_directions(names, per, scalar, label_rows=rows, label_values=y[rows])[0].name)
    assert picks.count("sefa:3") >= 18
    # without labels, sefa:3 also tops the unsupervised score (spread x layer agreement)
    mean_codes = lat.tensor.double().mean(1).numpy()
    vecs = [dirs[k].vector.double().numpy() for k in range(8)]
    unsup = advice.rank_directions(names, per, scalar, mean_codes, vecs)
    assert unsup[0].name == "sefa:3" and unsup[0].layer_agreement > 0.9
    # two suggested labels beat the average min-distance random pair
    d = scalar[3]
    adv = advice.suggest_labels(d, 2)
    a, b = np.polyfit(d[adv.rows], y[adv.rows], 1)
    assert np.abs(a * d + b - y).mean() < 0.06
