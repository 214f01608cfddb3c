"""The procedural dataset: determinism, ranges, every factor visible, anti-aliasing, speed."""

from __future__ import annotations

import numpy as np
import pytest

from large_toolkit.data.factors import FACTOR_NAMES, FACTORS, factor, sample_factors
from large_toolkit.data.render import _coverage, render_batch
from large_toolkit.data.synthetic import generate, render_labels, vary_one


def test_same_seed_same_bytes_different_seed_differs() -> None:
    a, b, c = generate(64, seed=3), generate(64, seed=3), generate(64, seed=4)
    assert a.images.tobytes() == b.images.tobytes()
    assert a.labels.tobytes() == b.labels.tobytes()
    assert a.images.tobytes() != c.images.tobytes()
    assert not np.allclose(a.label_matrix(), c.label_matrix())


def test_chunking_and_threads_do_not_change_bytes_and_sets_are_prefixes() -> None:
    labels = sample_factors(300, seed=1)
    one = render_labels(labels, chunk=300, workers=1)
    many = render_labels(labels, chunk=37, workers=3)
    assert one.tobytes() == many.tobytes()
    assert np.array_equal(sample_factors(50, seed=1), labels[:50])


def test_output_types_and_shapes() -> None:
    ds = generate(5, seed=0, resolution=64)
    assert ds.images.dtype == np.uint8 and ds.images.shape == (5, 64, 64, 3)
    assert ds.labels.dtype.names == FACTOR_NAMES and len(ds) == 5
    assert ds.label_matrix().shape == (5, len(FACTORS))


def test_factor_table_and_sampled_ranges() -> None:
    assert len(FACTORS) >= 5
    assert len(set(FACTOR_NAMES)) == len(FACTOR_NAMES)
    labels = sample_factors(5000, seed=0)
    for f in FACTORS:
        assert f.low < f.high and f.unit and f.description
        col = labels[f.name]
        assert col.min() >= f.low and col.max() <= f.high
        # uniform sampling covers the range
        assert col.min() < f.low + 0.01 * (f.high - f.low) and col.max() > f.high - 0.01 * (f.high - f.low)


@pytest.mark.parametrize("name", FACTOR_NAMES)
def test_every_factor_visibly_changes_the_image(name: str) -> None:
    f = factor(name)
    imgs = render_batch(vary_one(name, np.linspace(f.low, f.high, 6))).astype(np.int16)
    step = np.abs(np.diff(imgs, axis=0)).max(axis=-1)  # per-pixel change between neighbouring steps
    assert ((step >= 6).sum(axis=(1, 2)) >= 3).all(), f"{name}: some step leaves the image unchanged"
    total = np.abs(imgs[-1] - imgs[0]).max(axis=-1)
    assert (total >= 20).sum() >= 8, f"{name}: low -> high changes too few pixels"


def _hair_centroid(img: np.ndarray) -> tuple[float, float]:
    """(row, col) centroid of green hair pixels (hair_hue = 120)."""
    rgb = img.astype(np.int16)
    mask = (rgb[..., 1] > rgb[..., 0] + 15) & (rgb[..., 1] > rgb[..., 2] + 15)
    rows, cols = np.nonzero(mask)
    assert rows.size > 10
    return float(rows.mean()), float(cols.mean())


def _sweep(name: str, n: int = 5) -> np.ndarray:
    f = factor(name)
    base = vary_one(name, [f.low])
    base["hair_hue"], base["light_azimuth"] = 120.0, 0.0
    return render_batch(vary_one(name, np.linspace(f.low, f.high, n), base=base[0]))


def test_geometry_factors_move_the_head_monotonically_and_entangle() -> None:
    cols_x = [_hair_centroid(i)[1] for i in _sweep("x")]
    rows_size = [_hair_centroid(i)[0] for i in _sweep("head_size")]
    cols_roll = [_hair_centroid(i)[1] for i in _sweep("roll")]
    assert np.all(np.diff(cols_x) > 0)
    # the chin is the anchor, so a bigger head has its hair higher up: size entangles with position
    assert np.all(np.diff(rows_size) < 0)
    # roll is about the chin, so tilting clockwise moves the top of the head right
    assert np.all(np.diff(cols_roll) > 0)


def test_light_intensity_brightens_and_warms() -> None:
    imgs = _sweep("light_intensity").astype(np.float64)
    mean = imgs.mean(axis=(1, 2))  # [n, 3]
    assert np.all(np.diff(mean.mean(axis=1)) > 0)
    # dim light is warmer: the red/blue ratio falls as light gets stronger (apparent hue shifts)
    assert np.all(np.diff(mean[:, 0] / mean[:, 2]) < 0)


def test_anti_aliasing() -> None:
    # the coverage of a straight edge 0.3 px from a pixel centre is fractional
    assert _coverage(np.array([0.3], np.float32), 1.0)[0] == pytest.approx(0.2)
    labels = sample_factors(16, seed=5)
    analytic = render_batch(labels).astype(np.float64)
    supersampled = render_batch(labels, supersample=4).astype(np.float64)
    assert np.abs(analytic - supersampled).mean() < 2.0  # matches the 16-sample reference
    # sub-pixel motion changes pixel values (a hard-edged renderer would mostly not change)
    a = vary_one("x", [16.0, 16.1])
    two = render_batch(a).astype(np.int16)
    assert (np.abs(two[1] - two[0]) > 0).sum() >= 10
    # edge pixels take values strictly between background and hair along a row through the head
    img = _sweep("x", 1)[0].astype(np.int16)
    row = img[int(_hair_centroid(img)[0]), :, 1] - img[int(_hair_centroid(img)[0]), :, 0]
    assert len(np.unique(row)) > 6


def test_render_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="lack factor"):
        render_batch(np.zeros(2, dtype=[("x", "f8")]))
    with pytest.raises(ValueError):
        sample_factors(-1, seed=0)
