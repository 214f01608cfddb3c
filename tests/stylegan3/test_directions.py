"""SeFa and the StyleSpace / regression plumbing work on a StyleGAN3 generator as on StyleGAN2."""

from __future__ import annotations

import pytest
import torch
from large_stylegan3 import load_stylegan3

from large_toolkit.types import Latents, LatentSpace


@pytest.fixture(scope="module")
def gen():
    from tests.conftest import reference_dir

    return load_stylegan3(reference_dir() / "official" / "sg3t_tiny.safetensors")


def test_registered_backend():
    from large_toolkit.plugins import get_host

    reg = get_host().generator("stylegan3")
    assert reg.plugin == "stylegan3"


def test_sefa_runs_on_stylegan3(gen):
    from large_toolkit.plugins import get_host

    host = get_host()
    if "sefa" not in host.registries["direction_finder"]:
        pytest.skip("the sefa plugin is not installed")
    dirs = host.direction_finder("sefa").create().find(gen, {})
    assert len(dirs) > 0
    d0 = dirs[0]
    assert d0.space is LatentSpace.W and d0.vector.shape == (gen.w_dim,)
    assert abs(float(d0.vector.norm()) - 1.0) < 1e-5
    # moving along the top direction changes the image; the geometry layer is left to its own affine
    ws = gen.mapping(torch.randn(2, gen.z_dim, generator=torch.Generator().manual_seed(0)))
    with torch.no_grad():
        moved = gen.synthesis(ws + 3 * d0.vector.to(ws))
        base = gen.synthesis(ws)
    assert float((moved - base).abs().mean()) > 1e-3


def test_latents_to_styles_and_split(gen):
    ws = gen.mapping(torch.randn(3, gen.z_dim, generator=torch.Generator().manual_seed(1)))
    lat = Latents(ws, LatentSpace.WPLUS).to_styles(gen)
    parts = lat.split_styles()
    assert next(iter(parts)) == "synthesis.input" and parts["synthesis.input"].shape == (3, 4)
    assert lat.tensor.shape == (3, gen.style_dim)


def test_gradients_flow_to_ws(gen):
    """The projector optimises W+ through synthesis: gradients must reach ws."""
    z = torch.randn(1, gen.z_dim, generator=torch.Generator().manual_seed(2))
    ws = gen.mapping(z).detach().requires_grad_(True)
    gen.synthesis(ws).square().mean().backward()
    assert ws.grad is not None and float(ws.grad.abs().sum()) > 0


@pytest.mark.slow
def test_regression_flow_end_to_end(gen, tmp_path, monkeypatch):
    """Images of the SG3 fixture -> optimisation inversion -> SeFa distance -> few-shot fit."""
    import numpy as np

    from large_toolkit.directions import resolve_direction
    from large_toolkit.plugins import get_host
    from large_toolkit.regression.run import regress
    from large_toolkit.types import Latents, LatentSpace

    monkeypatch.setenv("LARGE_TK_CACHE", str(tmp_path))
    torch.set_num_threads(1)
    direction = resolve_direction("sefa:0", gen)
    ws = gen.mapping(gen.sample_z(6, seed=5))
    with torch.no_grad():
        images = gen.synthesis(ws, noise_mode="const")
    inverter = get_host().inverter("optim").create(gen, num_steps=40, seed=0)
    result = inverter.invert(images, gen, LatentSpace.W)
    assert result.latents.space is LatentSpace.W and len(result.latents) == 6
    truth = Latents(ws[:, 0].detach(), LatentSpace.W)
    true_d = (truth.tensor.double() @ direction.vector.double()).numpy()
    labels = true_d * 2 + 1  # an attribute exactly linear in the true distance
    ids = [f"i{i}" for i in range(6)]
    exact = regress(truth, ids, direction, [0, 1], labels[:2], evaluate=False)
    np.testing.assert_allclose(exact.predictions, labels, rtol=1e-6, atol=1e-6)  # two labels calibrate it
    inverted = regress(result.latents, ids, direction, [0, 1, 2, 3, 4, 5], labels)
    assert np.isfinite(inverted.predictions).all() and inverted.protocol is not None
