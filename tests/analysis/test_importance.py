"""Gradient layer importance (parity with the released per-pair algorithm) and per-layer linearity."""

import numpy as np
import pytest
import torch

from large_toolkit.analysis.importance import gradient_importance, layer_linearity, save_importance
from large_toolkit.errors import UserInputError
from large_toolkit.testing import ToyGenerator
from large_toolkit.types import Direction, LatentSpace

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _released_loop(g, n, rs, es, max_step, psi, seed):
    """The released script's per-pair loop, written from the notes (one pair per backward, |grad| summed)."""
    rng = torch.Generator().manual_seed(seed)
    z_rand = torch.randn(2, rs, g.z_dim, generator=rng)
    z_edit = torch.randn(es, g.z_dim, generator=rng)
    steps = (0.5 + 0.5 * torch.rand(2, es, generator=rng, dtype=torch.float64)) * max_step

    def grad(a, b):
        a = a.clone().requires_grad_(True)
        render = lambda x: g.synthesis(g.w_avg.lerp(x, psi))  # noqa: E731
        torch.nn.L1Loss()(render(a), render(b).detach()).backward()
        return a.grad.abs().double()[0]

    R = sum(grad(g.mapping(z_rand[0, i : i + 1]), g.mapping(z_rand[1, i : i + 1])) for i in range(rs))
    E = 0
    for i in range(es):
        w = g.mapping(z_edit[i : i + 1])[:, 0]
        wp = w - (w @ n) * n
        a = (wp + float(steps[0, i]) * n).unsqueeze(1).repeat(1, g.num_ws, 1)
        b = (wp - float(steps[1, i]) * n).unsqueeze(1).repeat(1, g.num_ws, 1)
        E = E + grad(a, b)
    grads = (E / es / (R / rs)).numpy()
    return grads.mean(1) / grads.sum()


def test_toy_matches_released_loop_and_is_batch_invariant(tmp_path):
    g = ToyGenerator(seed=3)
    n = torch.nn.functional.normalize(torch.randn(g.w_dim, generator=torch.Generator().manual_seed(1)), dim=0)
    d = Direction(n, LatentSpace.W, "toy")
    res = gradient_importance(g, d, random_samples=6, edit_samples=6, seed=8, batch_size=4)
    ref = _released_loop(g, n, 6, 6, 5.0, 0.5, 8)
    assert np.allclose(res.layer_weights, ref, rtol=1e-5)
    assert res.layer_weights.sum() == pytest.approx(1.0 / g.w_dim)  # released normalisation
    assert res.channel_weights.shape == (g.num_ws, g.w_dim) and res.channel_weights.sum() == pytest.approx(1.0)
    other = gradient_importance(g, d, random_samples=6, edit_samples=6, seed=8, batch_size=1)
    assert np.allclose(other.layer_weights, res.layer_weights, rtol=1e-5)
    assert not np.allclose(
        gradient_importance(g, d, random_samples=6, edit_samples=6, seed=9).layer_weights, res.layer_weights
    )
    paths = save_importance(res, tmp_path)
    assert np.allclose(np.loadtxt(paths[0]), res.layer_weights)
    s = gradient_importance(g, d, space="s", random_samples=3, edit_samples=3)
    assert s.layer_weights.shape == (len(g.style_layers),) and s.channel_weights.shape == (g.style_dim,)


def test_demo_generator_importance():
    from large_toolkit.directions import resolve_direction
    from large_toolkit.plugins import load_generator

    g = load_generator("stylegan2", None, device="cpu")
    d = resolve_direction("sefa:3", g, use_cache=False)
    res = gradient_importance(g, d, random_samples=4, edit_samples=4)
    assert res.layer_weights.shape == (g.num_ws,) and np.isfinite(res.layer_weights).all()
    assert res.layer_weights.sum() == pytest.approx(1.0 / g.w_dim)
    assert (res.layer_weights > 0).all()


def test_layer_linearity_matches_pearson():
    rng = np.random.default_rng(0)
    y = rng.normal(size=200)
    per = np.stack([y + rng.normal(0, s, 200) for s in (0.1, 1.0, 10.0)], axis=1)
    lin = layer_linearity(per, y)
    for j in range(3):
        assert lin["r2"][j] == pytest.approx(np.corrcoef(per[:, j], y)[0, 1] ** 2)
    assert lin["r2"][0] > 0.98 > lin["r2"][1] > lin["r2"][2]


def test_layer_linearity_errors_name_the_fix():
    per = np.ones((4, 3))
    with pytest.raises(UserInputError, match="at least 3 labels") as e:
        layer_linearity(per[:2], np.arange(2.0))
    assert "label more" in str(e.value.hint)
    with pytest.raises(UserInputError, match="all 4 labels are 2, so per-layer R² is undefined") as e:
        layer_linearity(per, np.full(4, 2.0))
    assert "different values" in str(e.value.hint)
