"""GANSpace: streaming covariance PCA vs a full PCA (numpy SVD) on the very same W samples."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from large_toolkit.interfaces import Generator


@pytest.mark.slow
def test_streaming_pca_matches_full_svd(toy32: Generator) -> None:
    from large_ganspace.finder import GANSpaceFinder, iter_w_batches

    n, bs, seed = 60_000, 7_000, 5
    dirs = GANSpaceFinder().find(toy32, {"num_samples": n, "batch_size": bs, "seed": seed, "components": 32})
    x = torch.cat(list(iter_w_batches(toy32, n, bs, seed))).double().numpy()
    assert x.shape == (n, 32)
    mean = x.mean(0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    var = s**2 / (n - 1)
    ours = torch.stack([d.vector for d in dirs]).double().numpy()
    # sklearn's sign rule on the reference
    vt = vt * np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(1)])[:, None]
    cos = np.sum(ours[:20] * vt[:20], axis=1)  # signed: the sign convention must agree too
    assert cos.min() >= 0.9999, cos
    np.testing.assert_allclose(dirs.scores.numpy(), var, rtol=1e-5)
    np.testing.assert_allclose(dirs.metadata["mean"], mean, atol=1e-6)
    np.testing.assert_allclose(dirs.metadata["stdev"], np.sqrt(var), rtol=1e-5)
    np.testing.assert_allclose(sum(dirs.metadata["var_ratio"]), 1.0, rtol=1e-6)
    d0 = dirs[0]
    assert d0.provenance["step_scale"] == pytest.approx(np.sqrt(var[0]), rel=1e-5)
    assert d0.intercept == pytest.approx(-mean @ ours[0], abs=1e-5)


def test_shift_avoids_cancellation() -> None:
    """A huge common offset must not destroy the covariance (the reason for the reference shift)."""
    from large_ganspace.finder import StreamingCovariance

    rng = np.random.default_rng(0)
    x = rng.normal(size=(20_000, 8)) * np.linspace(1, 0.1, 8) + 1e4
    stats = StreamingCovariance(8, torch.device("cpu"))
    for i in range(0, len(x), 3000):
        stats.update(torch.from_numpy(x[i : i + 3000]).float())
    xf = x.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(stats.covariance().numpy(), np.cov(xf, rowvar=False), rtol=1e-3, atol=1e-3)


def test_ganspace_is_seeded_and_edits(toy32: Generator) -> None:
    from large_ganspace.finder import GANSpaceFinder, center_along, edit_ws

    cfg = {"num_samples": 5000, "batch_size": 1000, "seed": 1, "components": 5}
    a, b = GANSpaceFinder().find(toy32, cfg), GANSpaceFinder().find(toy32, cfg)
    assert torch.equal(torch.stack([d.vector for d in a]), torch.stack([d.vector for d in b]))
    assert len(a) == 5
    c = GANSpaceFinder().find(toy32, {**cfg, "seed": 2})
    assert not torch.equal(a[0].vector, c[0].vector)
    ws = toy32.mapping(toy32.sample_z(2, 0))
    comp, std = a[0].vector, a[0].provenance["stdev"]
    out = edit_ws(ws, comp, std, 2.0, 1, 3)
    delta = out - ws
    assert torch.allclose(delta[:, 1:3], (comp * std * 2.0).expand(2, 2, -1))
    assert delta[:, 0].abs().max() == 0 and delta[:, 3].abs().max() == 0
    # core edit helper scales GANSpace steps by sigma too
    from large_toolkit.directions import edit_ws as core_edit

    assert torch.allclose(core_edit(ws, a[0], 2.0, [1, 2]), out)
    mean = torch.tensor(a.metadata["mean"])
    centred = center_along(ws[:, 0], comp, mean)
    assert torch.allclose((centred - mean) @ comp, torch.zeros(2), atol=1e-5)
