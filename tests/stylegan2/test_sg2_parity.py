"""Parity with the official implementations (fixtures made by the upstream code on CPU)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

IMG_ATOL, WS_ATOL = 1e-4, 1e-5
NVIDIA_SOURCES = [
    "sg2_tiny.safetensors",
    "sg2_tiny_stripped.pkl",
    "sg2_tiny_stripped_legacy.pkl",
    "sg2_sg3repo_tiny_stripped.pkl",
    "sg2_tiny_tf_stripped.pkl",
    "rosi_from_sg2_tiny.pt",
]


def _maxerr(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape
    return float((a - b).abs().max())


@pytest.fixture(scope="module")
def sg2_io():
    from safetensors.torch import load_file

    from tests.conftest import reference_dir

    return load_file(reference_dir() / "official" / "sg2_tiny_io.safetensors")


@pytest.mark.parametrize("name", NVIDIA_SOURCES)
def test_nvidia_parity(shared_fixtures: Path, sg2_io, name: str) -> None:
    from large_stylegan2 import load_stylegan2

    G = load_stylegan2(shared_fixtures / "official" / name)
    io = sg2_io
    z = io["z"]
    with torch.no_grad():
        assert _maxerr(G.mapping(z), io["ws_psi1"]) <= WS_ATOL
        assert _maxerr(G.mapping(z, psi=0.7), io["ws_psi07"]) <= WS_ATOL
        assert _maxerr(G.mapping(z, psi=0.7, trunc_cutoff=4), io["ws_psi07_cutoff4"]) <= WS_ATOL
        for fused in (None, True, False):
            G.fused_modconv = fused
            assert _maxerr(G.synthesis(io["ws_psi1"], "const"), io["img_const_psi1"]) <= IMG_ATOL
            assert _maxerr(G.synthesis(io["ws_psi07"], "const"), io["img_const_psi07"]) <= IMG_ATOL
            assert _maxerr(G.synthesis(io["ws_psi1"], "none"), io["img_none_psi1"]) <= IMG_ATOL
        G.fused_modconv = None
        assert _maxerr(G.synthesis(io["ws_psi07"], "none"), io["img_none_psi07"]) <= IMG_ATOL
        assert _maxerr(G.synthesis(io["ws_psi07_cutoff4"]), io["img_const_psi07_cutoff4"]) <= IMG_ATOL
        assert _maxerr(G.synthesis(io["ws_mix"]), io["img_const_mix"]) <= IMG_ATOL
        assert _maxerr(G.generate(z, psi=0.7), io["img_const_psi07"]) <= IMG_ATOL
        styles = G.style_dict(io["ws_psi1"])
    assert [layer.name for layer in G.style_layers] == list(styles)
    assert [f"s.{k}" for k in styles] == sorted(
        (k for k in io if k.startswith("s.")), key=list(f"s.{k}" for k in styles).index
    )
    for layer, s in styles.items():
        assert _maxerr(s, io[f"s.{layer}"]) <= WS_ATOL, layer


def test_conditional_parity(shared_fixtures: Path) -> None:
    from large_stylegan2 import load_stylegan2
    from safetensors.torch import load_file

    io = load_file(shared_fixtures / "official" / "sg2_tiny_cond_io.safetensors")
    G = load_stylegan2(shared_fixtures / "official" / "sg2_tiny_cond.safetensors")
    assert G.c_dim == 4
    with torch.no_grad():
        assert _maxerr(G.mapping(io["z"], io["c"]), io["ws_psi1"]) <= WS_ATOL
        assert _maxerr(G.mapping(io["z"], io["c"], psi=0.7), io["ws_psi07"]) <= WS_ATOL
        assert _maxerr(G.synthesis(io["ws_psi1"]), io["img_const_psi1"]) <= IMG_ATOL
        assert _maxerr(G.synthesis(io["ws_psi07"]), io["img_const_psi07"]) <= IMG_ATOL


def test_rosinality_parity(shared_fixtures: Path) -> None:
    from large_stylegan2 import load_stylegan2
    from safetensors.torch import load_file

    io = load_file(shared_fixtures / "official" / "rosi_tiny_io.safetensors")
    G = load_stylegan2(shared_fixtures / "official" / "rosi_tiny.pt")
    assert [layer.channels for layer in G.style_layers] == [64, 64, 64, 64, 64, 64, 32, 32, 32, 16, 16]
    with torch.no_grad():
        assert _maxerr(G.mapping(io["z"])[:, 0], io["w"]) <= WS_ATOL
        assert _maxerr(G.mapping(io["z"]), io["latents_psi1"]) <= WS_ATOL
        assert _maxerr(G.mapping(io["z"], psi=0.7), io["latents_psi07"]) <= WS_ATOL
        assert _maxerr(G.synthesis(io["latents_psi1"]), io["img_psi1"]) <= IMG_ATOL
        assert _maxerr(G.synthesis(io["latents_psi07"]), io["img_psi07"]) <= IMG_ATOL
        assert _maxerr(G.synthesis(io["latents_psi1"], "none"), io["img_psi1_zero_noise"]) <= IMG_ATOL
        assert _maxerr(G.synthesis(io["latents_psi07"], "none"), io["img_psi07_zero_noise"]) <= IMG_ATOL
        assert _maxerr(G.synthesis(io["latents_mix_inject3"]), io["img_mix_inject3"]) <= IMG_ATOL
        styles = G.style_dict(io["latents_psi1"])
    rosi = [
        "conv1",
        "to_rgb1",
        "convs.0",
        "convs.1",
        "to_rgbs.0",
        "convs.2",
        "convs.3",
        "to_rgbs.1",
        "convs.4",
        "convs.5",
        "to_rgbs.2",
    ]
    for (_, s), name in zip(styles.items(), rosi, strict=True):
        assert _maxerr(s, io[f"s.{name}"]) <= WS_ATOL, name


def test_rosinality_and_nvidia_names_render_the_same(shared_fixtures: Path) -> None:
    from large_stylegan2 import load_stylegan2

    nv = load_stylegan2(shared_fixtures / "official" / "sg2_tiny.safetensors")
    rosi = load_stylegan2(shared_fixtures / "official" / "rosi_from_sg2_tiny.pt")
    assert set(nv.state_tensors()) == set(rosi.state_tensors())
    assert nv.fingerprint() == rosi.fingerprint()
    z = torch.from_numpy(__import__("numpy").random.RandomState(3).randn(4, 64).astype("float32"))
    with torch.no_grad():
        for mode in ("const", "none"):
            assert _maxerr(nv.generate(z, psi=0.6, noise_mode=mode), rosi.generate(z, psi=0.6, noise_mode=mode)) == 0.0


def test_nvidia_to_rosinality_matches_fixture(shared_fixtures: Path) -> None:
    from large_stylegan2.formats import nvidia_to_rosinality
    from safetensors.torch import load_file

    ref = torch.load(shared_fixtures / "official" / "rosi_from_sg2_tiny.pt", weights_only=True)
    ours, latent_avg = nvidia_to_rosinality(load_file(shared_fixtures / "official" / "sg2_tiny.safetensors"))
    assert set(ours) == set(ref["g_ema"])
    for key, value in ref["g_ema"].items():
        assert ours[key].shape == value.shape and torch.allclose(ours[key], value, atol=1e-7), key
    assert torch.equal(latent_avg, ref["latent_avg"])
