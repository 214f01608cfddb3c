"""The fast filtered leaky ReLU equals the dense reference on every layer geometry StyleGAN3 uses."""

from __future__ import annotations

import pytest
import torch
from large_stylegan3 import ops
from large_stylegan3.network import StyleGAN3Config, released_config, schedule

GEOMETRIES = [  # (in size incl. conv growth, up, padding, up taps, down filter shape)
    (38, 2, (9, 8, 9, 8), 12, (12,)),  # T same-rate
    (38, 4, (-6, -9, -6, -9), 24, (12,)),  # T rate-doubling
    (54, 2, (-11, -12, -11, -12), 12, (12,)),  # T L13 crop
    (36, 2, (11, 10, 11, 10), 12, (12, 12)),  # R same-rate, radial down
    (36, 4, (-2, -5, -2, -5), 24, (12, 12)),  # R rate-doubling, radial down
    (33, 2, (9, 8, 7, 10), 12, (12,)),  # odd size, asymmetric pads
]


@pytest.mark.parametrize(("size", "up", "pad", "up_taps", "down_shape"), GEOMETRIES)
def test_fast_matches_reference(size, up, pad, up_taps, down_shape):
    g = torch.Generator().manual_seed(size + up)
    x = torch.randn(2, 5, size, size, generator=g)
    bias = torch.randn(5, generator=g)
    fu = torch.rand(up_taps, generator=g)
    fu = fu / fu.sum()
    fd = torch.rand(*down_shape, generator=g)
    fd = fd / fd.sum()
    fast = ops.filtered_lrelu(x, bias, fu, fd, up, 2, pad, clamp=1.5)
    ref = ops.filtered_lrelu_reference(x, bias, fu, fd, up, 2, pad, clamp=1.5)
    sep = ops.filtered_lrelu_reference(x, bias, fu, fd, up, 2, pad, clamp=1.5, separable=True)
    assert fast.shape == ref.shape
    assert float((fast - ref).abs().max()) < 1e-5
    assert float((sep - ref).abs().max()) < 1e-5


def test_torgb_path_is_linear_and_clamped():
    x = torch.randn(1, 3, 8, 8) * 1000
    y = ops.filtered_lrelu(x, torch.zeros(3), None, None, 1, 1, (0, 0, 0, 0), gain=1.0, slope=1.0, clamp=256.0)
    assert torch.equal(y, x.clamp(-256, 256))


def test_schedule_matches_research_notes():
    t1024 = StyleGAN3Config(z_dim=512, w_dim=512, img_resolution=1024)
    _, layers = schedule(t1024)
    assert [s.name for s in layers] == [
        "L0_36_512",
        "L1_36_512",
        "L2_52_512",
        "L3_52_512",
        "L4_84_512",
        "L5_148_512",
        "L6_148_512",
        "L7_276_323",
        "L8_276_203",
        "L9_532_128",
        "L10_1044_81",
        "L11_1044_51",
        "L12_1044_32",
        "L13_1024_32",
        "L14_1024_3",
    ]
    assert released_config(1024, "T") == t1024
    r = released_config(1024, "R")
    assert (r.channel_base, r.channel_max, r.conv_kernel, r.use_radial_filters) == (65536, 1024, 1, True)
    _, rl = schedule(r)
    assert rl[0].padding[:2] == (11, 10) and rl[13].padding[:2] == (-9, -10) and rl[14].padding == (0, 0, 0, 0)
    assert [s.down_radial for s in rl] == [True] * 12 + [False] * 3
    assert layers[4].padding[:2] == (-6, -9) and layers[13].padding[:2] == (-11, -12)
