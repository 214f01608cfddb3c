"""``Runner(precision=...)``: bf16 autocast on CPU, fp16/bf16 on CUDA, checked against the fp32 reference.

Stated tolerance, as max |Δ| relative to the fp32 image's max |value|: bf16 (8-bit mantissa) within 3 %
for StyleGAN2 and 8 % for StyleGAN3 (measured 1.4-1.6 % and 2.9-4.1 % on these nets: StyleGAN3's 15 layers
of up/down FIRs accumulate more rounding); fp16 on CUDA within 1 %.
"""

from __future__ import annotations

import pytest
import torch
from large_stylegan2 import StyleGAN2Generator
from large_stylegan3.network import StyleGAN3Generator

from large_toolkit.errors import UserInputError
from large_toolkit.runner import Runner


def _generators(device: str) -> list:
    sg2 = StyleGAN2Generator.random(32, z_dim=64, w_dim=64, channel_base=1024, channel_max=64, device=device)
    sg3 = StyleGAN3Generator.random(resolution=16, cfg="T", z_dim=32, w_dim=32, channel_base=256, channel_max=32)
    return [sg2, sg3.to(device)]


def _images(gen, precision: str, device: str, z: torch.Tensor) -> torch.Tensor:
    runner = Runner(device=device, batch_size=3, precision=precision, show_progress=False)
    return runner.map(lambda t: gen.synthesis(gen.mapping(t, psi=0.7)), z)


@pytest.mark.parametrize("batch", [1, pytest.param(5, marks=pytest.mark.slow)])
def test_bf16_autocast_on_cpu_is_close_to_fp32(batch):
    for gen in _generators("cpu"):
        z = torch.randn(batch, gen.z_dim, generator=torch.Generator().manual_seed(0))
        ref = _images(gen, "fp32", "cpu", z)
        low = _images(gen, "bf16", "cpu", z)
        assert low.dtype == torch.float32 and low.shape == ref.shape
        err = float((low - ref).abs().max() / ref.abs().max())
        assert 0 < err < (0.03 if isinstance(gen, StyleGAN2Generator) else 0.08), (
            err
        )  # bf16 really ran (not bit-equal) and stays close


def test_autocast_context_uses_the_requested_dtype_on_cpu():
    with Runner(device="cpu", precision="bf16", show_progress=False).autocast():
        y = torch.randn(4, 8) @ torch.randn(8, 2)
    assert y.dtype == torch.bfloat16
    with Runner(device="cpu", precision="fp32", show_progress=False).autocast():
        assert (torch.randn(4, 8) @ torch.randn(8, 2)).dtype == torch.float32


def test_fp16_on_cpu_is_refused_with_a_hint():
    with pytest.raises(UserInputError, match="fp16 needs a CUDA device") as info:
        Runner(device="cpu", precision="fp16")
    assert "bf16" in (info.value.hint or "")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_reduced_precision_on_cuda_is_close_to_fp32(precision):
    for gen in _generators("cuda"):
        z = torch.randn(4, gen.z_dim, generator=torch.Generator().manual_seed(0))
        ref = _images(gen, "fp32", "cuda", z)
        low = _images(gen, precision, "cuda", z)
        tol = 0.01 if precision == "fp16" else 0.03 if isinstance(gen, StyleGAN2Generator) else 0.08
        assert float((low - ref).abs().max() / ref.abs().max()) < tol
