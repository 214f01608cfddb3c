"""ReStyle refinement on a tiny synthetic 6-channel pSp checkpoint (rule-seeded weights, 2 styles)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch
from large_inverters.encoders import _pool_to_encoder, load_style_encoder, to_encoder_input
from large_inverters.factories import make_psp
from large_inverters.irse import IRSEStyleEncoder

from large_toolkit.errors import UserInputError
from large_toolkit.testing import ToyGenerator


def _rule_tensor(name: str, shape: tuple[int, ...], bn: set[str]) -> torch.Tensor:
    """The fixture rule of encoders/make_weights.py in the shipped fixtures: a function of name and shape only."""
    module, leaf = name.rsplit(".", 1)
    if leaf == "num_batches_tracked":
        return torch.zeros(shape, dtype=torch.int64)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    if module in bn and leaf == "weight":
        v = rng.uniform(0.5, 1.5, shape)
    elif module in bn and leaf == "running_var":
        v = rng.uniform(0.5, 2.0, shape)
    elif leaf in ("bias", "running_mean"):
        v = 0.2 * rng.standard_normal(shape)
    elif len(shape) == 1:
        v = rng.uniform(0.0, 0.5, shape)
    elif len(shape) == 2:
        v = rng.standard_normal(shape)
    else:
        v = rng.standard_normal(shape) / np.sqrt(shape[1] * shape[2] * shape[3])
    return torch.from_numpy(v.astype(np.float32))


@pytest.fixture(scope="module")
def restyle_ckpt(tmp_path_factory):
    """output_size 4 -> 2 styles; input_nc 6 as in ReStyle.  Heads are scaled down so steps stay modest."""
    shapes = {k: tuple(v.shape) for k, v in IRSEStyleEncoder(2, "psp", 6).state_dict().items()}
    bn = {k.rsplit(".", 1)[0] for k in shapes if k.endswith("running_var")}
    state = {f"encoder.{k}": _rule_tensor(k, s, bn) for k, s in shapes.items()}
    for k in [k for k in state if k.endswith("linear.weight")]:
        state[k] = state[k] * 0.05
    latent_avg = 0.5 * torch.from_numpy(np.random.default_rng(7).standard_normal((2, 512)).astype(np.float32))
    path = tmp_path_factory.mktemp("restyle") / "restyle_psp.pt"
    opts = {"encoder_type": "GradualStyleEncoder", "output_size": 4, "device": "cuda:0"}
    torch.save({"state_dict": state, "opts": opts, "latent_avg": latent_avg}, path)
    return path


@pytest.mark.slow
def test_restyle_runs_k_steps_each_fed_the_last_reconstruction(restyle_ckpt):
    g = ToyGenerator(z_dim=16, w_dim=512, num_ws=2, resolution=16, seed=2)
    inv = make_psp(g, checkpoint=str(restyle_ckpt), restyle_steps="3")
    images = g.synthesis(g.mapping(g.sample_z(1, 4)))
    seen: list[torch.Tensor] = []
    hook = inv.net.input_layer.register_forward_pre_hook(lambda _m, args: seen.append(args[0].detach().clone()))
    try:
        steps = inv.restyle(images, g, 3)
        result = inv.invert(images, g)
    finally:
        hook.remove()
    assert len(steps) == 3 and len(seen) == 6  # 3 from restyle(), 3 from invert()
    expected_prev = [inv.latent_avg.expand(1, -1, -1), *steps[:-1]]
    for step_input, prev in zip(seen[:3], expected_prev, strict=True):
        assert step_input.shape == (1, 6, 256, 256)
        torch.testing.assert_close(step_input[:, :3], to_encoder_input(images))
        recon = _pool_to_encoder(g.synthesis(prev, noise_mode="const"))
        torch.testing.assert_close(step_input[:, 3:], recon, rtol=0, atol=1e-6)
    assert not torch.equal(steps[0], steps[1]) and not torch.equal(steps[1], steps[2])
    assert torch.equal(result.latents.tensor, steps[-1])  # invert() is the same, deterministic computation
    assert result.info["restyle_steps"] == 3


def test_restyle_option_errors(restyle_ckpt, tmp_path):
    with pytest.raises(UserInputError, match="needs restyle_steps"):
        load_style_encoder(str(restyle_ckpt), "psp")
    with pytest.raises(UserInputError, match="not a valid int"):
        make_psp(None, checkpoint=str(restyle_ckpt), restyle_steps="many")
    with pytest.raises(UserInputError, match=">= 0"):
        make_psp(None, checkpoint=str(restyle_ckpt), restyle_steps=-2)
    three = tmp_path / "plain.pt"
    state = {"encoder.input_layer.0.weight": torch.zeros(64, 3, 3, 3)}
    torch.save({"state_dict": state, "opts": {"encoder_type": "GradualStyleEncoder", "output_size": 4}}, three)
    with pytest.raises(UserInputError, match="6 channels"):
        make_psp(None, checkpoint=str(three), restyle_steps=2)
