"""The StyleGAN2 building blocks as plain functions on tensors (no compiled extension).

Written from the published maths (Karras et al. 2020, "Analyzing and Improving the Image
Quality of StyleGAN") and the format notes in ``shared/research/stylegan_formats.md``:

* modulated convolution: ``W'[b,o,i] = W[o,i] * s[b,i]``, demodulated by
  ``rsqrt(sum_{i,kh,kw} W'^2 + 1e-8)``;
* 2x up-sampling conv as NVIDIA does it: transposed conv (stride 2) with the stored weight,
  then the 4x4 FIR ``outer([1,3,3,1])/64`` with gain 4 and one pixel of padding per side;
* skip up-sampling of the RGB image: zero-insert, pad (2,1), FIR with gain 4.

The mapping network's layers are shared with StyleGAN3 (:mod:`large_stylegan_common.layers`).
Functions take explicit tensors so the same code serves inference, inversion (gradients
through ``ws``) and the benchmark baseline.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from large_stylegan2.fast_path import PackedConv

SQRT2 = math.sqrt(2.0)


def default_fir(device: torch.device | None = None) -> torch.Tensor:
    """NVIDIA's ``resample_filter``: ``outer([1,3,3,1], [1,3,3,1]) / 64`` (sums to 1)."""
    k = torch.tensor([1.0, 3.0, 3.0, 1.0], device=device)
    f = torch.outer(k, k)
    return f / f.sum()


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


# -- single-image CPU path -------------------------------------------------------------------------------
# Why: at batch 1 the modulation can be folded into the weight (a plain conv, no grouped one), every
# activation can stay channels-last (oneDNN's native layout: no reorders around each conv), and the
# epilogue shrinks to an in-place noise add and an in-place leaky ReLU: the demodulation and lrelu gain
# sqrt(2) go into the weight (lrelu is positively homogeneous), the bias into the conv / FIR conv.
# bench/generator_speed.py --reference measured where the time went (oneDNN reorders, fresh full-size
# temporaries for each elementwise op, the zero-inserted RGB skip up-sampling).


def demod_coefficients(styles: torch.Tensor, weight_sq: torch.Tensor) -> torch.Tensor:
    """``rsqrt(sum_{i,kh,kw} (W[o,i] s[i])^2 + 1e-8)`` from ``weight_sq = sum_{kh,kw} W^2`` ``[O, I]``.

    No weight-sized work per call: ``weight_sq`` is computed once per generator.
    """
    return (styles.square().matmul(weight_sq.t()) + 1e-8).rsqrt()


def modulated_conv_single(
    x: torch.Tensor,
    weight: torch.Tensor | PackedConv,
    weight_sq: torch.Tensor,
    style: torch.Tensor,
    out_scale: float,
    bias: torch.Tensor | None,
) -> torch.Tensor:
    """One image: ``conv(x, W * s * demod * out_scale) + bias``, same padding (``x`` ``[1, I, H, W]``).

    With a :class:`PackedConv` the activations are modulated instead (``conv(x * s, W) * d + bias``,
    upstream's non-fused formula) so its weight stays constant and pre-packed; the bias rides on the conv
    as ``bias / d`` (``d > 0``) so that the one output scaling pass yields ``conv * d + bias``.
    """
    d = demod_coefficients(style.unsqueeze(0), weight_sq)[0] * out_scale
    if isinstance(weight, PackedConv):
        y = weight(x * style.reshape(1, -1, 1, 1), None if bias is None else bias / d)
        return y.mul_(d.reshape(1, -1, 1, 1))
    w = weight * (d.unsqueeze(1) * style.unsqueeze(0)).reshape(*weight.shape[:2], 1, 1)
    return F.conv2d(x, w, bias, padding=weight.shape[-1] // 2)


def modulated_conv_up2_single(
    x: torch.Tensor,
    weight_t: torch.Tensor | PackedConv,
    weight_sq: torch.Tensor,
    style: torch.Tensor,
    out_scale: float,
    fir_kernel: torch.Tensor,
    bias: torch.Tensor | None,
) -> torch.Tensor:
    """One image, NVIDIA's up-sampling conv (transposed conv stride 2, then FIR gain 4, pad 1), demodulated.

    ``weight_t`` is the stored weight as ``[I, O, k, k]`` (conv_transpose layout, no flip, as upstream);
    ``fir_kernel`` the depthwise ``[O, 1, 4, 4]`` FIR, already flipped and times 4.  The bias rides on the
    FIR conv (it is added after the FIR upstream too).  With a :class:`PackedConv` the activations are
    modulated and the demodulation scales the FIR kernel: the FIR is depthwise and linear, so
    ``FIR(y) * d == FIR_{k * d}(y)`` per channel and the demodulation costs nothing at full resolution.
    """
    d = demod_coefficients(style.unsqueeze(0), weight_sq)[0] * out_scale
    if isinstance(weight_t, PackedConv):
        y = weight_t(x * style.reshape(1, -1, 1, 1))
        return F.conv2d(y, fir_kernel * d.reshape(-1, 1, 1, 1), bias, padding=1, groups=fir_kernel.shape[0])
    w = weight_t * (style.unsqueeze(1) * d.unsqueeze(0)).reshape(*weight_t.shape[:2], 1, 1)
    y = F.conv_transpose2d(x, w, stride=2)
    return F.conv2d(y, fir_kernel, bias, padding=1, groups=fir_kernel.shape[0])


def torgb_single(x: torch.Tensor, weight: torch.Tensor, style: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """One image, modulated 1x1 conv without demodulation, as a GEMM over channels-last pixels."""
    _, c, h, w = x.shape
    pixels = x.permute(0, 2, 3, 1).reshape(h * w, c)  # a view when x is channels-last
    y = torch.addmm(bias.unsqueeze(0), pixels, (weight[:, :, 0, 0] * style.unsqueeze(0)).t())
    return y.reshape(1, h, w, -1).permute(0, 3, 1, 2)


def upsample2_skip(img: torch.Tensor, fir_kernel: torch.Tensor) -> torch.Tensor:
    """``upfirdn2d_up2(img, fir, 2, 1)`` (gain 4) polyphase: transposed conv stride 2 touches only real samples.

    ``fir_kernel`` is the depthwise ``[C, 1, 4, 4]`` FIR times 4 (not flipped: conv_transpose is a true
    convolution).  Zero-insert + pad (2, 1) + 4-tap FIR == conv_transpose output shifted by one.
    """
    c, h, w = img.shape[1:]
    y = F.conv_transpose2d(img, fir_kernel, stride=2, groups=c)
    return y[:, :, 1 : 2 * h + 1, 1 : 2 * w + 1]
