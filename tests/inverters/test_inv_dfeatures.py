"""Discriminator-feature loss: D from NVIDIA pickles / our training state, NVIDIA op order, projection."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from large_inverters.dfeatures import DiscriminatorFeatureLoss, load_discriminator
from large_inverters.factories import make_projector
from large_inverters.projector import Projector, ProjectorConfig
from large_stylegan2 import ops
from large_stylegan2.trainer import discriminator as D

from large_toolkit.errors import CheckpointError, UserInputError
from large_toolkit.types import LatentSpace


@pytest.fixture
def official(shared_fixtures):
    return shared_fixtures / "official"


def test_d_weights_from_nvidia_pickles(official):
    w = load_discriminator(official / "sg2_tiny_stripped.pkl")
    assert (w.layout, w.resolution, w.conv_clamp, w.mbstd_group, w.mbstd_channels) == ("nvidia", 32, None, 4, 1)
    assert "b32.fromrgb.weight" in w.params and "b4.out.weight" in w.params
    assert not any(k.endswith("resample_filter") for k in w.params)
    assert w.layer_names() == ["b32", "b16", "b8", "b4.conv", "b4.fc"]
    # The stylegan3 repo's snapshot was built with conv_clamp=256 (read from the pickled module state).
    assert load_discriminator(official / "sg2_sg3repo_tiny_stripped.pkl").conv_clamp == 256.0
    feats = D.features_per_block(w.params, torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(0)))
    assert {k: tuple(v.shape) for k, v in feats.items()} == {
        "b32": (4, 16, 16, 16),
        "b16": (4, 16, 8, 8),
        "b8": (4, 16, 4, 4),
        "b4.conv": (4, 16, 4, 4),
        "b4.fc": (4, 16),
    }


def test_files_without_a_usable_d_fail_in_one_line(official, tmp_path):
    with pytest.raises(CheckpointError, match="TF-era"):
        load_discriminator(official / "sg2_tiny_tf_stripped.pkl")
    with pytest.raises(CheckpointError, match="no D"):
        load_discriminator(official / "sg2_tiny.safetensors")
    with pytest.raises(UserInputError, match="not found"):
        load_discriminator(tmp_path / "missing.pkl")


def test_nvidia_down_conv_equals_the_generic_resample_path():
    """conv1 (3x3, down 2) = NVIDIA's generic path: conv with padding 2, 4x4 blur, keep every 2nd pixel, bias_act."""
    g = torch.Generator().manual_seed(1)
    p = {"c.weight": torch.randn(5, 4, 3, 3, generator=g), "c.bias": torch.randn(5, generator=g)}
    x = torch.randn(2, 4, 8, 8, generator=g)
    fir = ops.default_fir()
    got = D._nv_conv(x, p, "c", fir, down=True, gain=math.sqrt(0.5), clamp=0.7)
    y = F.conv2d(x, p["c.weight"] / math.sqrt(36), padding=2)
    y = F.conv2d(y, fir.expand(5, 1, 4, 4), groups=5)[..., ::2, ::2]
    want = (F.leaky_relu(y + p["c.bias"].view(1, -1, 1, 1), 0.2) * math.sqrt(2) * math.sqrt(0.5)).clamp(
        -0.7 * 0.5**0.5, 0.7 * 0.5**0.5
    )
    torch.testing.assert_close(got, want, rtol=0, atol=1e-5)


def test_trainer_state_d_and_trainer_layout(tmp_path):
    from safetensors.torch import save_file

    p = D.init_discriminator(16, 128, 16, rotation_head=True, seed=3)
    x = torch.randn(3, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    per_block = D.features_per_block(p, x)  # trainer layout: same trunk as features()
    assert torch.equal(per_block["b4.fc"], D.features(p, x))
    save_file(
        {f"D.{k}": v for k, v in p.items()} | {"G.x": torch.zeros(1)}, str(tmp_path / "training-state.safetensors")
    )
    w = load_discriminator(tmp_path / "training-state.safetensors")
    assert (w.layout, w.resolution) == ("trainer", 16) and "rot.weight" in w.params
    loss = DiscriminatorFeatureLoss(w)
    assert loss.layers == ["b16", "b8"]
    d = loss(x, x.flip(0))
    assert d.shape == (3,) and float(d[1]) == 0.0 and float(d[0]) > 0
    # Per-image: an image's loss does not depend on its batch-mates, even with the b4 (mbstd) layers.
    deep = DiscriminatorFeatureLoss(w, ["b4.fc", "b8"], norm="l1")
    torch.testing.assert_close(deep(x, x.flip(0))[:1], deep(x[:1], x[2:3]), rtol=0, atol=1e-6)


def _fixture_g(official):
    from large_stylegan2 import load_stylegan2

    return load_stylegan2(official / "sg2_tiny.safetensors")


@pytest.mark.slow
def test_d_weight_projection_decreases_and_is_deterministic(official):
    g = _fixture_g(official)
    with torch.no_grad():
        images = g.synthesis(g.mapping(g.sample_z(2, 5)))
    pkl = str(official / "sg2_tiny_stripped.pkl")
    opts = {"num_steps": "40", "seed": "1", "mse_weight": "0", "lpips_weight": "0", "d_weight": "1.0"}
    proj = make_projector(g, discriminator=pkl, **opts)
    assert isinstance(proj, Projector) and proj.dloss is not None
    dloss = proj.dloss
    with torch.no_grad():
        start = dloss(g.synthesis(g.w_avg.expand(2, g.num_ws, -1)), images)
    first = proj.invert(images, g, LatentSpace.WPLUS)
    assert (first.losses < 0.5 * start).all(), (first.losses, start)
    again = make_projector(g, discriminator=pkl, **opts).invert(images, g, LatentSpace.WPLUS)
    assert torch.equal(first.latents.tensor, again.latents.tensor)
    assert torch.equal(first.losses, again.losses)
    plain = make_projector(g, **{k: v for k, v in opts.items() if k != "d_weight"})
    assert plain.fingerprint() != proj.fingerprint()


@pytest.mark.parametrize(
    ("opts", "error", "match"),
    [
        ({"d_weight": "0.5"}, UserInputError, "discriminator"),
        ({"d_weight": "lots", "discriminator": "x.pkl"}, UserInputError, "not a valid float"),
        ({"d_weight": "1", "d_layers": "b64", "discriminator": "PKL"}, UserInputError, "unknown discriminator layer"),
        ({"d_weight": "1", "d_norm": "l3", "discriminator": "PKL"}, UserInputError, "d_norm"),
        ({"d_wieght": "1"}, UserInputError, "unknown option"),
    ],
)
def test_bad_projector_d_options(official, opts, error, match):
    opts = {k: (str(official / "sg2_tiny_stripped.pkl") if v == "PKL" else v) for k, v in opts.items()}
    with pytest.raises(error, match=match):
        make_projector(None, **opts)
    with pytest.raises(UserInputError, match="needs a discriminator"):
        Projector(ProjectorConfig(d_weight=1.0))
