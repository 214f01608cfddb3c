"""The StyleGAN2 building blocks as plain functions on tensors (no compiled extension).

Written from the published maths (Karras et al. 2020, "Analyzing and Improving the Image
Quality of StyleGAN") and the format notes in ``shared/research/stylegan_formats.md``:

* equalised-learning-rate linear layers: effective ``W * lr/sqrt(in)``, ``b * lr``;
* modulated convolution: ``W'[b,o,i] = W[o,i] * s[b,i]``, demodulated by
  ``rsqrt(sum_{i,kh,kw} W'^2 + 1e-8)``;
* 2x up-sampling conv as NVIDIA does it: transposed conv (stride 2) with the stored weight,
  then the 4x4 FIR ``outer([1,3,3,1])/64`` with gain 4 and one pixel of padding per side;
* skip up-sampling of the RGB image: zero-insert, pad (2,1), FIR with gain 4.

Functions take explicit tensors so the same code serves inference, inversion (gradients
through ``ws``) and the benchmark baseline.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

SQRT2 = math.sqrt(2.0)


def default_fir(device: torch.device | None = None) -> torch.Tensor:
    """NVIDIA's ``resample_filter``: ``outer([1,3,3,1], [1,3,3,1]) / 64`` (sums to 1)."""
    k = torch.tensor([1.0, 3.0, 3.0, 1.0], device=device)
    f = torch.outer(k, k)
    return f / f.sum()


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """``x * rsqrt(mean(x^2) + eps)`` over the feature dim (the mapping's pixel norm)."""
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


def fc(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    weight_gain: float,
    bias_gain: float,
    activation: str = "linear",
) -> torch.Tensor:
    """Equalised-lr fully connected layer; ``lrelu`` layers multiply by sqrt(2) (bias_act's default gain)."""
    w = weight * weight_gain
    if bias is None:
        y = x.matmul(w.t())
    else:
        y = (
            torch.addmm((bias * bias_gain).unsqueeze(0), x, w.t())
            if x.ndim == 2
            else x.matmul(w.t()) + bias * bias_gain
        )
    if activation == "lrelu":
        y = F.leaky_relu(y, 0.2) * SQRT2
    elif activation != "linear":
        raise ValueError(f"unsupported activation {activation!r}")
    return y


def upfirdn2d_up2(x: torch.Tensor, fir: torch.Tensor, pad0: int, pad1: int, gain: float = 4.0) -> torch.Tensor:
    """Zero-insert x2, pad ``(pad0, pad1)`` on both axes, then depthwise FIR with ``gain * fir``.

    Used with pads (2, 1) for the RGB skip path.  The filter is flipped for ``conv2d``
    (true convolution), which matters only for asymmetric filters.
    """
    b, c, h, w = x.shape
    up = x.new_zeros(b, c, h, 2, w, 2)
    up[:, :, :, 0, :, 0] = x
    up = up.reshape(b, c, 2 * h, 2 * w)
    up = F.pad(up, [pad0, pad1, pad0, pad1])
    kernel = (fir * gain).flip([0, 1]).to(x.dtype)[None, None].expand(c, 1, *fir.shape)
    return F.conv2d(up, kernel, groups=c)


def fir_filter(x: torch.Tensor, fir: torch.Tensor, pad: int, gain: float) -> torch.Tensor:
    """Depthwise FIR (true convolution) with symmetric padding, no rate change."""
    c = x.shape[1]
    x = F.pad(x, [pad, pad, pad, pad])
    kernel = (fir * gain).flip([0, 1]).to(x.dtype)[None, None].expand(c, 1, *fir.shape)
    return F.conv2d(x, kernel, groups=c)


def conv_up2(x: torch.Tensor, weight: torch.Tensor, fir: torch.Tensor, groups: int = 1) -> torch.Tensor:
    """NVIDIA's 2x up-sampling 3x3 conv: ``conv_transpose2d(stride 2)`` then FIR (gain 4, pad 1).

    ``weight`` is ``[groups*O, I, k, k]``; conv_transpose wants ``[groups*I, O, k, k]``.  The
    stored weight is used as-is (no flip), as upstream does.
    """
    if x.is_cuda and x.shape[0] == 1:  # grouped/single path: the explicit form (zero-insert, pad 3/2, FIR,
        # flipped conv; equal to ~2e-6) is 3x faster with cuDNN there, conv_transpose is faster for batches
        return F.conv2d(upfirdn2d_up2(x, fir, 3, 2), weight.flip([2, 3]), groups=groups)
    go, i, kh, kw = weight.shape
    o = go // groups
    wt = weight.reshape(groups, o, i, kh, kw).transpose(1, 2).reshape(groups * i, o, kh, kw)
    y = F.conv_transpose2d(x, wt, stride=2, groups=groups)
    return fir_filter(y, fir, pad=1, gain=4.0)


def modulated_conv(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    demodulate: bool,
    up: bool,
    fir: torch.Tensor,
    fused: bool,
) -> torch.Tensor:
    """Modulated (and optionally demodulated) conv, 3x3 with padding 1 or 1x1.

    ``fused`` builds per-sample weights and runs one grouped conv (upstream's inference path);
    otherwise the input is scaled by the styles, convolved with the shared weight and the output
    scaled by the demodulation coefficients (upstream's batched path).  They agree to ~1e-5.
    """
    b, i = styles.shape
    o, _, kh, kw = weight.shape
    pad = kh // 2
    if fused:
        w = weight.unsqueeze(0) * styles.reshape(b, 1, i, 1, 1)
        if demodulate:
            w = w * (w.square().sum(dim=[2, 3, 4], keepdim=True) + 1e-8).rsqrt()
        w = w.reshape(b * o, i, kh, kw)
        xg = x.reshape(1, b * i, *x.shape[2:])
        y = conv_up2(xg, w, fir, groups=b) if up else F.conv2d(xg, w, padding=pad, groups=b)
        return y.reshape(b, o, *y.shape[2:])
    xs = x * styles.reshape(b, i, 1, 1)
    y = conv_up2(xs, weight, fir) if up else F.conv2d(xs, weight, padding=pad)
    if demodulate:
        dcoef = ((weight.unsqueeze(0) * styles.reshape(b, 1, i, 1, 1)).square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()
        y = y * dcoef.reshape(b, o, 1, 1)
    return y


def bias_act_lrelu(x: torch.Tensor, bias: torch.Tensor, clamp: float | None) -> torch.Tensor:
    """``clamp(lrelu(x + b, 0.2) * sqrt(2), +-clamp)`` as NVIDIA's bias_act reference path."""
    y = F.leaky_relu(x + bias.reshape(1, -1, 1, 1), 0.2) * SQRT2
    if clamp is not None:
        y = y.clamp(-clamp, clamp)
    return y
