"""Loaders, format detection, StyleSpace API and the registry factory."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from large_toolkit.errors import CheckpointError, UserInputError


@pytest.fixture(scope="module")
def tiny():
    from large_stylegan2 import load_stylegan2

    from tests.conftest import reference_dir

    path = reference_dir() / "official" / "sg2_tiny.safetensors"

    return load_stylegan2(path)


def test_e4e_style_container_loads_the_decoder(shared_fixtures: Path, tmp_path: Path, tiny) -> None:
    from large_stylegan2 import load_stylegan2

    rosi = torch.load(shared_fixtures / "official" / "rosi_from_sg2_tiny.pt", weights_only=True)
    state = {f"decoder.{k}": v for k, v in rosi["g_ema"].items()}
    state["encoder.input_layer.0.weight"] = torch.zeros(4, 3, 3, 3)
    ckpt = {
        "state_dict": state,
        "opts": {"encoder_type": "Encoder4Editing", "stylegan_size": 32},
        "latent_avg": rosi["latent_avg"].repeat(8, 1),
    }
    path = tmp_path / "e4e.pt"
    torch.save(ckpt, path)
    for G in (load_stylegan2(path), load_stylegan2(ckpt)):
        assert G.fingerprint() == tiny.fingerprint()
        assert G.config.source == "e4e/psp decoder"


def test_official_e4e_sample_without_full_decoder_is_one_line_error(shared_fixtures: Path) -> None:
    from large_stylegan2 import load_stylegan2

    with pytest.raises(CheckpointError) as info:
        load_stylegan2(shared_fixtures / "encoders" / "e4e_container_sample.pt")
    assert "\n" not in info.value.one_line()


def test_from_rosinality_state_dict_and_missing_latent_avg(shared_fixtures: Path, tiny) -> None:
    from large_stylegan2 import StyleGAN2Generator

    rosi = torch.load(shared_fixtures / "official" / "rosi_from_sg2_tiny.pt", weights_only=True)
    G = StyleGAN2Generator.from_rosinality_state_dict(rosi["g_ema"], rosi["latent_avg"])
    assert torch.equal(G.w_avg, tiny.w_avg)
    G2 = StyleGAN2Generator.from_rosinality_state_dict(rosi["g_ema"])  # w_avg estimated from samples
    z = torch.randn(10000, 64, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(G2.w_avg, G2.mapping(z)[:, 0].mean(0), atol=1e-5) and float(G2.w_avg.abs().sum()) > 0
    broken = dict(rosi["g_ema"])
    del broken["convs.1.conv.weight"]
    with pytest.raises(CheckpointError, match=r"convs\.1\.conv\.weight"):
        StyleGAN2Generator.from_rosinality_state_dict(broken, rosi["latent_avg"])


def test_safetensors_round_trip_keeps_config(shared_fixtures: Path, tmp_path: Path) -> None:
    from large_stylegan2 import load_stylegan2

    G = load_stylegan2(shared_fixtures / "official" / "sg2_sg3repo_tiny_stripped.pkl")
    assert G.config.conv_clamp == {"4": 256.0, "8": 256.0, "16": 256.0, "32": 256.0}
    out = G.save_safetensors(tmp_path / "g.safetensors")
    H = load_stylegan2(out)
    assert H.config == G.config and H.fingerprint() == G.fingerprint()
    assert not list(tmp_path.glob(".*.tmp"))


def test_stylegan3_pickle_is_refused_with_a_hint(shared_fixtures: Path) -> None:
    from large_stylegan2 import load_stylegan2

    with pytest.raises(CheckpointError, match="stylegan3"):
        load_stylegan2(shared_fixtures / "official" / "sg3_tiny_stripped.pkl")


def test_wrong_content_is_refused(tmp_path: Path) -> None:
    from large_stylegan2 import load_stylegan2

    path = tmp_path / "other.pt"
    torch.save({"model": {"fc.weight": torch.zeros(2, 2)}}, path)
    with pytest.raises(CheckpointError, match="expected a StyleGAN2"):
        load_stylegan2(path)


def test_stylespace_round_trip_affines_and_gradients(tiny) -> None:
    G = tiny
    z = torch.randn(3, G.z_dim, generator=torch.Generator().manual_seed(0))
    ws = G.mapping(z, psi=0.8)
    s = G.styles(ws)
    assert s.shape == (3, G.style_dim)
    assert torch.equal(G.synthesis_from_styles(s), G.synthesis(ws))
    flat = torch.cat([ws[:, a.layer.w_index] @ a.weight.T + a.bias for a in G.style_affines()], dim=1)
    assert torch.allclose(flat, s, atol=1e-6)
    ws = ws.detach().requires_grad_(True)
    G.synthesis(ws, noise_mode="none").square().mean().backward()
    assert ws.grad is not None and float(ws.grad.abs().sum()) > 0
    a, b = G.synthesis(ws[:1], noise_mode="random"), G.synthesis(ws[:1], noise_mode="random")
    assert not torch.equal(a, b)
    with pytest.raises(UserInputError):
        G.synthesis(ws, noise_mode="bogus")


@pytest.mark.parametrize("resolution", [256, 1024])
def test_style_layout_for_any_resolution(resolution: int) -> None:
    from large_stylegan2.network import StyleGAN2Config, _layer_names

    layers = _layer_names(StyleGAN2Config(512, 512, 0, resolution))
    n = int(math.log2(resolution))
    assert len(layers) == 3 * (n - 2) + 2  # 26 at 1024
    assert [idx for *_, idx in layers][:5] == [0, 1, 1, 2, 3]
    assert max(idx for *_, idx in layers) == 2 * n - 3


def test_factory_without_checkpoint_loads_the_bundled_demo() -> None:
    from large_stylegan2.demo import DEMO_GENERATOR

    from large_toolkit.plugins import load_generator

    gen = load_generator("stylegan2", None, "cpu")
    assert (gen.resolution, gen.num_ws, gen.w_dim) == (32, 8, 64)
    assert gen.fingerprint() == load_generator("stylegan2", str(DEMO_GENERATOR), "cpu").fingerprint()
    img = gen.synthesis(gen.mapping(gen.sample_z(2, seed=0), psi=0.7))
    assert img.shape == (2, 3, 32, 32) and float(img.abs().max()) < 3


def test_registered_and_hook_module_is_light() -> None:
    import subprocess
    import sys

    code = "import sys, large_stylegan2; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
    from large_toolkit.plugins import get_host

    assert get_host().generator("stylegan2").plugin == "stylegan2"


@pytest.mark.slow
def test_full_size_config_f_renders_on_cpu() -> None:
    """A random-weight 1024 px config-f generator builds and renders one image (about 2 s on CPU)."""
    from large_stylegan2 import StyleGAN2Generator

    G = StyleGAN2Generator.random(1024)
    assert G.num_ws == 18 and len(G.style_layers) == 26 and G.style_dim == 9088
    assert sum(t.numel() for k, t in G.params.items() if "noise_const" not in k and "resample_filter" not in k) > 30e6
    with torch.no_grad():
        img = G.generate(torch.randn(1, 512), psi=0.7)
    assert img.shape == (1, 3, 1024, 1024) and torch.isfinite(img).all()
