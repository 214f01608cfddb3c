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


@pytest.mark.parametrize("threshold", [0.0, float("inf")])
def test_single_path_matches_with_every_or_no_layer_prepacked(monkeypatch, threshold):
    from large_stylegan2 import network

    monkeypatch.setattr(network, "PACK_WEIGHT_OVER_INPUT", threshold)
    gen = _generator()
    ws = gen.mapping(torch.randn(1, 64, generator=torch.Generator().manual_seed(0)), psi=0.7)
    with torch.no_grad():
        _, convs = gen._single_constants()
        assert len(convs) == (0 if threshold else 9)  # b4.conv1 + conv0/conv1 of b8..b64
        fast, ref = gen.synthesis(ws), _general(gen, ws)
    assert float((fast - ref).abs().max()) < 1e-4 * max(1.0, float(ref.abs().max()))


@pytest.mark.parametrize("transposed", [False, True])
def test_packed_conv_equals_the_dense_conv(transposed):
    from large_stylegan2.fast_path import PackedConv

    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 32, 8, 8, generator=g).contiguous(memory_format=torch.channels_last)
    shape = (32, 16, 3, 3) if transposed else (16, 32, 3, 3)  # [I, O, k, k] / [O, I, k, k]
    w, b = torch.randn(*shape, generator=g), torch.randn(16, generator=g)
    conv = PackedConv(w, tuple(x.shape), transposed=transposed)
    if transposed:
        ref = torch.nn.functional.conv_transpose2d(x, w, b, stride=2)
    else:
        ref = torch.nn.functional.conv2d(x, w, b, padding=1)
    dense = PackedConv(w, tuple(x.shape), transposed=transposed)
    dense.packed = None  # a build without oneDNN
    for out in (conv(x, b), dense(x, b)):
        assert out.shape == ref.shape
        assert float((out - ref).abs().max()) < 1e-4
    with torch.autocast("cpu", dtype=torch.bfloat16):  # autocast takes the dense conv in bf16
        low = conv(x, b)
    assert low.dtype == torch.bfloat16
    assert float((low.float() - ref).abs().max()) < 0.05 * float(ref.abs().max())
