"""Parity on the official tiny generators (needs the ``stylegan2`` plugin and the shipped reference fixtures).

References are computed straight from the checkpoints' raw tensors with the
published algorithms, independently of the generator plugin.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from large_toolkit.errors import LargeTkError


def _load(shared_fixtures, name: str):
    path = shared_fixtures / "official" / name
    from large_toolkit.plugins import load_generator

    try:
        return load_generator("stylegan2", checkpoint=str(path), device="cpu"), path
    except LargeTkError as exc:
        pytest.skip(f"stylegan2 backend unavailable: {exc.one_line()}")


def _matched(ours: np.ndarray, ref: np.ndarray, values: np.ndarray, count: int, tol: float) -> int:
    """Compare rows by |cos| where the relative eigengap on both sides exceeds 1e-3; returns how many were checked."""
    gaps = np.abs(np.diff(values)) / values[0]
    checked = 0
    for k in range(count):
        if (k == 0 or gaps[k - 1] > 1e-3) and gaps[k] > 1e-3:
            assert abs(ours[k] @ ref[k]) >= 1 - tol, (k, ours[k] @ ref[k])
            checked += 1
    return checked


def test_sefa_on_sg2_tiny(shared_fixtures) -> None:
    from large_sefa.finder import SeFaFinder
    from safetensors.numpy import load_file

    g, path = _load(shared_fixtures, "sg2_tiny.safetensors")
    sd = load_file(str(path))
    # genforce: slot i -> the conv it feeds; the last slot -> the final toRGB (raw weights, columns normalised)
    names = ["b4.conv1", "b8.conv0", "b8.conv1", "b16.conv0", "b16.conv1", "b32.conv0", "b32.conv1", "b32.torgb"]
    w = np.concatenate([sd[f"synthesis.{n}.affine.weight"].T for n in names], axis=1).astype(np.float32)
    w = w / np.linalg.norm(w, axis=0, keepdims=True)
    vals, vecs = np.linalg.eig(w @ w.T)
    order = np.argsort(-np.real(vals))
    ref_vals, ref_vecs = np.real(vals)[order], np.real(vecs).T[order]
    dirs = SeFaFinder().find(g)
    np.testing.assert_allclose(dirs.scores.numpy(), ref_vals, rtol=1e-4, atol=1e-4)
    assert dirs.scores.sum().item() == pytest.approx(8 * 32, rel=1e-9)
    ours = torch.stack([d.vector for d in dirs]).double().numpy()
    assert _matched(ours, ref_vecs, dirs.scores.numpy(), 20, 1e-4) >= 5
    sub = SeFaFinder().find(g, {"layers": "0-1"})
    w01 = np.concatenate([sd[f"synthesis.{n}.affine.weight"].T for n in names[:2]], axis=1).astype(np.float64)
    w01 /= np.linalg.norm(w01, axis=0, keepdims=True)
    np.testing.assert_allclose(sub.scores.numpy(), np.sort(np.linalg.eigvalsh(w01 @ w01.T))[::-1], atol=1e-9)


def test_sefa_rosinality_variant_on_rosi_tiny(shared_fixtures) -> None:
    from large_sefa.finder import SeFaFinder

    g, path = _load(shared_fixtures, "rosi_tiny.pt")
    sd = torch.load(path, weights_only=True, map_location="cpu")["g_ema"]
    # closed_form_factorization.py: keys with "modulation" and "weight", not "to_rgbs"; no normalisation; svd().V
    mods = [v for k, v in sd.items() if "modulation" in k and "weight" in k and "to_rgbs" not in k]
    w = torch.cat(mods, 0).double()
    _, s, v = torch.svd(w)
    dirs = SeFaFinder().find(g, {"variant": "rosinality"})
    vals = dirs.scores.numpy()
    np.testing.assert_allclose(vals / vals[0], (s**2 / s[0] ** 2).numpy(), rtol=1e-6)  # same up to the global gain
    ours = torch.stack([d.vector for d in dirs]).double().numpy()
    assert _matched(ours, v.T.numpy(), vals, 20, 1e-6) >= 5


@pytest.mark.slow
def test_ganspace_on_sg2_tiny_matches_full_pca(shared_fixtures) -> None:
    from large_ganspace.finder import GANSpaceFinder, iter_w_batches

    g, _ = _load(shared_fixtures, "sg2_tiny.safetensors")
    cfg = {"num_samples": 40_000, "batch_size": 8_000, "seed": 0, "components": 20}
    dirs = GANSpaceFinder().find(g, cfg)
    x = torch.cat(list(iter_w_batches(g, 40_000, 8_000, 0))).double().numpy()
    _, s, vt = np.linalg.svd(x - x.mean(0), full_matrices=False)
    vt = vt * np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(1)])[:, None]
    ours = torch.stack([d.vector for d in dirs]).double().numpy()
    cos = np.sum(ours * vt[:20], axis=1)
    assert cos.min() >= 0.9999, cos
    np.testing.assert_allclose(dirs.scores.numpy(), (s**2 / (len(x) - 1))[:20], rtol=1e-5)


def test_interfacegan_on_sg2_tiny(shared_fixtures, tmp_path) -> None:
    from large_interfacegan.finder import InterFaceGANFinder, w_from_seeds
    from sklearn.svm import SVC

    g, _ = _load(shared_fixtures, "sg2_tiny.safetensors")
    seeds = list(range(600))
    w = w_from_seeds(g, seeds)
    axis = np.random.RandomState(7).randn(g.w_dim)
    score = (w - w.mean(0)) @ axis
    csv = tmp_path / "labels.csv"
    csv.write_text("seed,attr\n" + "".join(f"{s},{float(v)!r}\n" for s, v in zip(seeds, score, strict=True)))
    dirs = InterFaceGANFinder().find(g, {"scores": str(csv), "ratio": 0.2, "split_ratio": 1.0})
    order = np.argsort(score)
    pos, neg = order[-120:], order[:120]
    clf = SVC(kernel="linear").fit(np.concatenate([w[pos], w[neg]]), np.r_[np.ones(120), np.zeros(120)])
    ref = clf.coef_.reshape(-1) / np.linalg.norm(clf.coef_)
    ours = dirs["attr"].vector.double().numpy()
    assert ours @ ref >= 0.9999
    np.testing.assert_allclose(ours, ref, atol=5e-4)
