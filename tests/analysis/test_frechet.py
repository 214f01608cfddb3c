"""Fréchet distance: closed forms, streaming statistics, the extractors and ``large-tk fid``."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from large_toolkit.analysis.fid_extractors import RotationExtractor, real_statistics
from large_toolkit.analysis.frechet import (
    FeatureExtractor,
    GaussianStats,
    RunningStats,
    feature_statistics,
    frechet_distance,
    image_batches,
    quantize,
)
from large_toolkit.analysis.inception import InceptionExtractor, InceptionV3
from large_toolkit.cli.app import build_app
from large_toolkit.errors import CheckpointError

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _random_spd(dim: int, rng: np.random.Generator) -> np.ndarray:
    a = rng.standard_normal((dim, dim))
    return a @ a.T / dim + 0.1 * np.eye(dim)


def _stats(mean: np.ndarray, cov: np.ndarray) -> GaussianStats:
    return GaussianStats(np.asarray(mean, np.float64), np.asarray(cov, np.float64), 1000)


def test_identical_gaussians_have_zero_distance():
    rng = np.random.default_rng(0)
    cov = _random_spd(32, rng)
    mean = rng.standard_normal(32)
    assert frechet_distance(_stats(mean, cov), _stats(mean, cov)) == pytest.approx(0.0, abs=1e-9)


def test_diagonal_closed_form():
    rng = np.random.default_rng(1)
    m1, m2 = rng.standard_normal(8), rng.standard_normal(8)
    d1, d2 = rng.uniform(0.1, 3, 8), rng.uniform(0.1, 3, 8)
    expected = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(d1) - np.sqrt(d2)) ** 2)
    assert frechet_distance(_stats(m1, np.diag(d1)), _stats(m2, np.diag(d2))) == pytest.approx(expected, rel=1e-10)
    # one dimension: N(0, 1) vs N(0, 4) is (1 - 2)^2
    assert frechet_distance(_stats([0.0], [[1.0]]), _stats([0.0], [[4.0]])) == pytest.approx(1.0)


def test_commuting_covariances_match_closed_form_in_rotated_basis():
    rng = np.random.default_rng(2)
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    d1, d2 = rng.uniform(0.5, 2, 6), rng.uniform(0.5, 2, 6)
    c1, c2 = q @ np.diag(d1) @ q.T, q @ np.diag(d2) @ q.T
    expected = np.sum((np.sqrt(d1) - np.sqrt(d2)) ** 2)
    assert frechet_distance(_stats(np.zeros(6), c1), _stats(np.zeros(6), c2)) == pytest.approx(expected, rel=1e-8)


def test_symmetric_and_robust_to_singular_covariances():
    rng = np.random.default_rng(3)
    a = _stats(rng.standard_normal(16), _random_spd(16, rng))
    b = _stats(rng.standard_normal(16), _random_spd(16, rng))
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-8)
    # fewer samples than dimensions: rank-deficient covariances, still finite and >= 0
    few = GaussianStats.from_features(rng.standard_normal((5, 16)))
    few2 = GaussianStats.from_features(rng.standard_normal((5, 16)))
    value = frechet_distance(few, few2)
    assert np.isfinite(value) and value >= 0
    assert frechet_distance(few, few2) == pytest.approx(frechet_distance(few2, few), rel=1e-6)
    assert frechet_distance(few, few) == pytest.approx(0.0, abs=1e-8)


def test_streaming_stats_equal_batch_stats():
    rng = np.random.default_rng(4)
    feats = 1000.0 + rng.standard_normal((257, 12)) @ rng.standard_normal((12, 12))  # large common offset
    running = RunningStats()
    for start in range(0, 257, 50):
        running.update(torch.from_numpy(feats[start : start + 50]).float())
    streamed = running.stats()
    batch = GaussianStats.from_features(torch.from_numpy(feats).float())
    assert streamed.n == batch.n == 257
    np.testing.assert_allclose(streamed.mean, batch.mean, rtol=1e-12)
    np.testing.assert_allclose(streamed.cov, batch.cov, rtol=1e-6, atol=1e-9)


@pytest.mark.slow
def test_rotation_extractor_is_seeded_and_cached(tmp_path):
    from large_toolkit.data.synthetic import generate

    images = generate(64, seed=5).images
    ext, cached = RotationExtractor.cached(images, seed=3, epochs=1, cache=tmp_path)
    again, cached_again = RotationExtractor.cached(images, seed=3, epochs=1, cache=tmp_path)
    retrained = RotationExtractor.train(images, seed=3, epochs=1)
    assert not cached and cached_again
    assert isinstance(ext, FeatureExtractor)
    assert ext.fingerprint == again.fingerprint == retrained.fingerprint
    stats, hit = real_statistics(ext, images, 32, cache=tmp_path)
    stats2, hit2 = real_statistics(again, images, 32, cache=tmp_path)
    assert not hit and hit2 and stats.dim == ext.dim
    np.testing.assert_allclose(stats.cov, stats2.cov)
    # other resolutions are resized to the training one
    assert ext.features(torch.zeros(2, 3, 64, 64)).shape == (2, ext.dim)
    assert frechet_distance(stats, feature_statistics(ext, image_batches(images, 16))) == pytest.approx(0, abs=1e-9)


def test_quantize_matches_png_rounding():
    x = torch.tensor([-1.5, -1.0, 0.0, 0.3, 1.0, 2.0])
    q = quantize(x)
    assert q.min() >= -1 and q.max() <= 1
    np.testing.assert_allclose(((q + 1) * 127.5).numpy(), np.round(((q + 1) * 127.5).numpy()), atol=1e-4)


@pytest.fixture
def random_inception_file(tmp_path):
    """torchvision-shaped random weights (heads included, as torchvision's file has them)."""
    torch.manual_seed(0)
    net = InceptionV3(with_heads=True)
    for module in net.modules():  # non-trivial BN statistics so a wrong key would change outputs
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    path = tmp_path / "inception_v3.pth"
    torch.save(net.state_dict(), path)
    return path, net


@pytest.mark.slow
def test_inception_loads_torchvision_state_dict_deterministically(random_inception_file):
    path, source = random_inception_file
    # torchvision documents 27,161,264 parameters for inception_v3 (with AuxLogits and fc)
    assert sum(p.numel() for p in source.parameters()) == 27_161_264
    ext = InceptionExtractor.from_file(path)
    trunk = ext.net.state_dict()
    for key, tensor in trunk.items():
        torch.testing.assert_close(tensor, source.state_dict()[key], rtol=0, atol=0)
    assert isinstance(ext, FeatureExtractor) and ext.dim == 2048
    images = torch.linspace(-1, 1, 2 * 3 * 32 * 32).reshape(2, 3, 32, 32)
    f1 = ext.features(images)
    f2 = InceptionExtractor.from_file(path).features(images)
    assert f1.shape == (2, 2048) and torch.isfinite(f1).all()
    torch.testing.assert_close(f1, f2, rtol=0, atol=0)
    assert ext.fingerprint == InceptionExtractor.from_file(path).fingerprint


def test_inception_refuses_wrong_state_dicts(tmp_path, random_inception_file):
    _, source = random_inception_file
    state = source.state_dict()
    wrong = dict(state)
    wrong["Mixed_7c.branch_pool.conv.weight"] = torch.zeros(1, 1, 1, 1)
    torch.save(wrong, tmp_path / "shape.pth")
    with pytest.raises(CheckpointError, match=re.escape("Mixed_7c.branch_pool.conv.weight has shape")):
        InceptionExtractor.from_file(tmp_path / "shape.pth")
    torch.save({k: v for k, v in state.items() if not k.startswith("Mixed_5b")}, tmp_path / "missing.pth")
    with pytest.raises(CheckpointError, match="missing"):
        InceptionExtractor.from_file(tmp_path / "missing.pth")


def _cli(args, monkeypatch, tmp_path):
    monkeypatch.setenv("LARGE_TK_CACHE", str(tmp_path / "cache"))
    return CliRunner().invoke(build_app(), ["--device", "cpu", "fid", *args])


@pytest.mark.slow
def test_cli_tiny_run_json_and_cache(monkeypatch, tmp_path):
    args = [
        "--real",
        "synthetic",
        "--n",
        "48",
        "--n-real",
        "48",
        "--rotation-epochs",
        "1",
        "--batch-size",
        "16",
        "--json",
    ]
    first = _cli(args, monkeypatch, tmp_path)
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert data["extractor"] == "rotation" and data["n"] == 48 and data["n_real"] == 48
    assert np.isfinite(data["fd"]) and data["fd"] >= 0
    second = json.loads(_cli(args, monkeypatch, tmp_path).stdout)
    assert second["cached"] == {"extractor": True, "real_stats": True}
    assert second["fd"] == pytest.approx(data["fd"], rel=1e-9)


def test_cli_bad_inception_weights_is_one_line(monkeypatch, tmp_path):
    bad = tmp_path / "garbage.pth"
    bad.write_bytes(b"PK\x03\x04 this is not a zip file at all")
    result = _cli(
        ["--real", "synthetic", "--n", "8", "--extractor", "inception", "--inception-weights", str(bad)],
        monkeypatch,
        tmp_path,
    )
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: checkpoint garbage.pth")
    wrong = tmp_path / "wrong.pth"
    torch.save({"conv.weight": torch.zeros(3)}, wrong)
    result = _cli(
        ["--real", "synthetic", "--extractor", "inception", "--inception-weights", str(wrong)], monkeypatch, tmp_path
    )
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: wrong.pth is not a torchvision inception_v3 state dict (564 tensor(s) missing, e.g. "
        "Conv2d_1a_3x3.conv.weight; 1 unexpected, e.g. conv.weight) (pass the state dict of "
        "torchvision.models.inception_v3)"
    ]
    missing = _cli(["--real", "synthetic", "--extractor", "inception"], monkeypatch, tmp_path)
    assert missing.exit_code == 2 and len(missing.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_cli_two_runs_compare_same_extractor_whatever_the_seed(monkeypatch, tmp_path):
    """Issue 16.9: the extractor belongs to the real set (fixed seed, stored), and the output says which."""
    base = ["--real", "synthetic", "--n", "32", "--n-real", "40", "--rotation-epochs", "1", "--batch-size", "16"]
    first = _cli([*base, "--json"], monkeypatch, tmp_path)
    again = _cli([*base, "--json", "--no-cache"], monkeypatch, tmp_path)  # trained afresh: same weights
    other_seed = _cli([*base, "--json", "--seed", "3"], monkeypatch, tmp_path)
    a, b, c = (json.loads(r.stdout) for r in (first, again, other_seed))
    assert a["fd"] == b["fd"] and a["extractor_fingerprint"] == b["extractor_fingerprint"]
    assert a["real_fingerprint"] == b["real_fingerprint"] and a["n"] == 32 and a["n_real"] == 40
    assert c["extractor_fingerprint"] == a["extractor_fingerprint"] and c["cached"]["extractor"] is True
    text = _cli(base, monkeypatch, tmp_path)
    assert text.exit_code == 0
    assert a["extractor_fingerprint"] in text.output and a["real_fingerprint"] in text.output
    assert "n=40" in text.output and "generated n=32" in text.output


def test_cli_no_cache_does_not_claim_the_extractor_was_stored(monkeypatch, tmp_path):
    args = ["--real", "synthetic", "--n", "8", "--n-real", "8", "--rotation-epochs", "1", "--no-cache"]
    result = _cli(args, monkeypatch, tmp_path)
    assert result.exit_code == 0, result.output
    assert "(trained now, not kept: --no-cache)" in result.stderr and "and stored" not in result.stderr
    assert not (tmp_path / "cache").exists()
