"""The single-image CPU path (folded modulation, channels-last) equals the general path to 1e-4."""

from __future__ import annotations

import pytest
import torch
from large_stylegan2 import StyleGAN2Generator


def _generator() -> StyleGAN2Generator:
    gen = StyleGAN2Generator.random(64, z_dim=64, w_dim=64, channel_base=2048, channel_max=128, seed=3)
    gen.config.conv_clamp = {str(r): 2.0 for r in (32, 64)}  # exercise the clamp where values exceed it
    for name in gen.params:
        if name.endswith("noise_strength"):
            gen.params[name] = torch.tensor(0.3)
    return gen


def _general(gen: StyleGAN2Generator, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
    gen.fused_modconv = True  # forces the grouped-conv path NVIDIA uses for inference
    try:
        return gen.synthesis(ws, noise_mode)
    finally:
        gen.fused_modconv = None


@pytest.mark.parametrize("noise_mode", ["const", "none"])
def test_single_path_matches_general_path(noise_mode):
    gen = _generator()
    ws = gen.mapping(torch.randn(1, 64, generator=torch.Generator().manual_seed(0)), psi=0.7)
    with torch.no_grad():
        assert gen._use_single_path(gen.styles(ws))
        fast, ref = gen.synthesis(ws, noise_mode), _general(gen, ws, noise_mode)
    assert fast.is_contiguous() and fast.shape == ref.shape
    assert float((fast - ref).abs().max()) < 1e-4 * max(1.0, float(ref.abs().max()))
    gen.config.conv_clamp = {}
    with torch.no_grad():
        assert float((gen.synthesis(ws, noise_mode) - fast).abs().max()) > 1e-3  # the clamp was active


def test_batched_cpu_generation_uses_it_per_image_and_matches():
    gen = StyleGAN2Generator.random(128, z_dim=64, w_dim=64, channel_base=2048, channel_max=64, seed=1)
    ws = gen.mapping(torch.randn(3, 64, generator=torch.Generator().manual_seed(0)))
    with torch.no_grad():
        fast = gen.synthesis(ws)
        gen.fused_modconv = False
        ref = gen.synthesis(ws)
    assert float((fast - ref).abs().max()) < 1e-4


def test_weight_edits_invalidate_the_cached_constants():
    gen = _generator()
    ws = gen.mapping(torch.randn(1, 64, generator=torch.Generator().manual_seed(0)))
    with torch.no_grad():
        before = gen.synthesis(ws)
        gen.params["synthesis.b64.conv1.bias"].add_(0.5)  # in place: same tensor, new version
        after, ref = gen.synthesis(ws), _general(gen, ws)
    assert float((after - before).abs().max()) > 1e-3
    assert float((after - ref).abs().max()) < 1e-4


def test_gradients_take_the_general_path():
    gen = _generator()
    ws = gen.mapping(torch.randn(1, 64, generator=torch.Generator().manual_seed(0))).requires_grad_(True)
    assert not gen._use_single_path(gen.styles(ws))
    gen.synthesis(ws).square().mean().backward()
    assert ws.grad is not None and torch.isfinite(ws.grad).all()
