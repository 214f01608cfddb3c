"""The code StyleGAN2, StyleGAN3 and the StyleGAN2 discriminator share (``large_stylegan_common``)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from large_stylegan2 import StyleGAN2Generator, load_stylegan2
from large_stylegan3 import StyleGAN3Generator, load_stylegan3
from large_stylegan_common import fc, mapping_network, random_mapping_state, truncate

from large_toolkit.errors import CheckpointError


def _sg2() -> StyleGAN2Generator:
    return StyleGAN2Generator.random(resolution=8, z_dim=16, w_dim=16, channel_base=64, channel_max=16, c_dim=3)


def _sg3() -> StyleGAN3Generator:
    return StyleGAN3Generator.random(resolution=16, z_dim=16, w_dim=16, channel_base=256, channel_max=16, c_dim=3)


def test_fc_is_nvidias_equalised_lr_layer() -> None:
    g = torch.Generator().manual_seed(0)
    x, w, b = torch.randn(5, 12, generator=g), torch.randn(7, 12, generator=g), torch.randn(7, generator=g)
    eff_w, eff_b = w * (0.01 / math.sqrt(12)), b * 0.01
    torch.testing.assert_close(fc(x, w, b, 0.01), x @ eff_w.T + eff_b)
    torch.testing.assert_close(fc(x, w, b, 0.01, "lrelu"), F.leaky_relu(x @ eff_w.T + eff_b, 0.2) * math.sqrt(2))
    with pytest.raises(ValueError, match="unsupported activation"):
        fc(x, w, b, 1.0, "swish")


def test_truncate_moves_only_the_rows_before_the_cutoff() -> None:
    ws, w_avg = torch.randn(2, 6, 4), torch.randn(4)
    assert truncate(ws, w_avg, 1.0) is ws
    out = truncate(ws, w_avg, 0.5, cutoff=2)
    torch.testing.assert_close(out[:, :2], w_avg + 0.5 * (ws[:, :2] - w_avg))
    assert torch.equal(out[:, 2:], ws[:, 2:])
    torch.testing.assert_close(truncate(ws, w_avg, 0.0), w_avg.expand_as(ws))


@pytest.mark.parametrize("make", [_sg2, _sg3])
def test_both_families_map_with_the_one_mapping_network(make) -> None:
    G = make()
    z, c = G.sample_z(4, seed=1), torch.eye(3)[[0, 1, 2, 0]]
    expected = mapping_network(G.params, z, c, G.config.mapping_layers)
    assert torch.equal(G.mapping(z, c)[:, 0], expected)
    assert torch.equal(G.mapping(z, c)[:, -1], expected)


def test_discriminator_class_map_is_nvidias_mapping_network_without_z() -> None:
    from large_stylegan2.trainer import discriminator as D

    # NVIDIA's MappingNetwork(z_dim=0, c_dim=3, w_dim=16, num_layers=8), randomly initialised
    p = random_mapping_state(torch.Generator().manual_seed(0), 0, 16, 3, D.D_MAPPING_LAYERS)
    c = torch.eye(3)
    x = c @ (p["mapping.embed.weight"] / math.sqrt(3)).T + p["mapping.embed.bias"]  # lr 1, linear
    x = x * (x.square().mean(1, keepdim=True) + 1e-8).rsqrt()
    for i in range(D.D_MAPPING_LAYERS):
        w, b = p[f"mapping.fc{i}.weight"] * (0.01 / math.sqrt(16)), p[f"mapping.fc{i}.bias"] * 0.01
        x = F.leaky_relu(x @ w.T + b, 0.2) * math.sqrt(2)
    torch.testing.assert_close(D.class_map(p, c), x)


@pytest.mark.parametrize("make", [_sg2, _sg3])
def test_estimate_w_avg_is_the_seeded_class_balanced_mean(make) -> None:
    G = make()
    before = G.fingerprint()
    G.estimate_w_avg(n=30, seed=4)
    z = torch.randn(30, G.z_dim, generator=torch.Generator().manual_seed(4))
    c = F.one_hot(torch.arange(30) % 3, 3).float()
    torch.testing.assert_close(G.w_avg, G.mapping(z, c)[:, 0].mean(0))
    assert G.fingerprint() != before  # the cached fingerprint follows the new w_avg


def test_a_safetensors_export_names_the_backend_that_reads_it(tmp_path: Path) -> None:
    G2, G3 = _sg2(), _sg3()
    sg2, sg3 = G2.save_safetensors(tmp_path / "g2.safetensors"), G3.save_safetensors(tmp_path / "g3.safetensors")
    with pytest.raises(CheckpointError, match="StyleGAN3 generator") as err:
        load_stylegan2(sg3)
    assert err.value.hint == "use --backend stylegan3"
    with pytest.raises(CheckpointError, match="StyleGAN2 generator") as err:
        load_stylegan3(sg2)
    assert err.value.hint == "use --backend stylegan2"
    assert load_stylegan2(sg2).fingerprint() == G2.fingerprint()
    assert load_stylegan3(sg3).fingerprint() == G3.fingerprint()


def test_stylegan3_generate_accepts_noise_mode_like_stylegan2() -> None:
    G = _sg3()
    z = G.sample_z(2, seed=0)
    assert torch.equal(
        G.generate(z, torch.eye(3)[:2], psi=0.7, noise_mode="random"), G.generate(z, torch.eye(3)[:2], psi=0.7)
    )
