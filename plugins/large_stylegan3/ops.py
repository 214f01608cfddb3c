"""StyleGAN3 numeric kernels: the alias-free filtered leaky ReLU (fast and reference) and filter design.

Why two filtered-lReLU paths: the upstream CPU fallback (and the obvious way to write it) zero-inserts
the signal before the up-sampling FIR, so ``up - 1`` of every ``up`` multiplies hit zeros, and it
computes every full-rate output of the down-sampling FIR only to throw ``down**2 - 1`` of every
``down**2`` away.  :func:`filtered_lrelu` avoids both:

* up-sampling is *polyphase*: a strided transposed convolution of the undilated input, which only
  multiplies real samples (each output phase sees every ``up``-th tap), then a shift/crop;
* 1-D (separable) filters run as two 1-D passes (x then y) instead of one 2-D FIR;
* down-sampling is a *strided* convolution, so only the samples that are kept are computed; the
  R config's 2-D radial down filter runs as one strided 2-D convolution.

Every FIR is a depthwise (``groups=C``) convolution, on CPU in channels-last layout, which oneDNN
runs fastest (single-channel ``[N*C, 1, H, W]`` convolutions and polyphase banks with an interleave
were measured slower).  :func:`filtered_lrelu_reference` is the
straightforward dense form (explicit zero insertion, full 2-D FIR, stride after filtering); it is
kept for the parity tests and ``bench/stylegan3_speed.py``.

Both follow the maths in ``shared/research/stylegan_formats.md`` section 4.7: bias, up-FIR with gain
``up**2``, leaky ReLU times gain, clamp, down-FIR, keep every ``down``-th sample from 0.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

SQRT2 = math.sqrt(2.0)


# -- 1-D / 2-D FIR helpers ---------------------------------------------------------------------------


def _up_axis(x: torch.Tensor, f: torch.Tensor, up: int, pad_lo: int, pad_hi: int, axis: int) -> torch.Tensor:
    """Polyphase up-sampling of ``x`` ``[N, C, H, W]`` along ``axis`` (-1: W, -2: H) by ``up`` with FIR ``f``.

    "Zero-insert, pad by (pad_lo, pad_hi), convolve with f" equals a strided transposed convolution
    (which only multiplies real samples: each output phase sees every ``up``-th tap) followed by a
    shift/crop: ``y[n] = ct[n + T - 1 - pad_lo]`` with ``ct = conv_transpose(x, f, stride=up)``.
    """
    c, length, taps = x.shape[1], x.shape[axis], int(f.shape[0])
    n_out = length * up + pad_lo + pad_hi - taps + 1
    ct_len = (length - 1) * up + taps
    shift = taps - 1 - pad_lo
    if axis == -1:
        weight, stride = f.reshape(1, 1, 1, taps).expand(c, 1, 1, taps), (1, up)
    else:
        weight, stride = f.reshape(1, 1, taps, 1).expand(c, 1, taps, 1), (up, 1)
    y = F.conv_transpose2d(x, weight.contiguous(), stride=stride, groups=c)
    lo, hi = -shift, n_out + shift - ct_len
    if lo or hi:
        y = F.pad(y, [lo, hi, 0, 0] if axis == -1 else [0, 0, lo, hi])
    return y


def filtered_lrelu(
    x: torch.Tensor,
    bias: torch.Tensor | None,
    up_filter: torch.Tensor | None,
    down_filter: torch.Tensor | None,
    up: int,
    down: int,
    padding: tuple[int, int, int, int],
    gain: float = SQRT2,
    slope: float = 0.2,
    clamp: float | None = None,
) -> torch.Tensor:
    """Fast alias-free activation (polyphase up, separable passes, strided down); see module docstring.

    ``x`` ``[N, C, H, W]``; ``padding`` ``(x_lo, x_hi, y_lo, y_hi)`` at the up-sampled rate (negative crops);
    filters are 1-D (separable, ``[T]``) or 2-D (``[T, T]``), ``None`` meaning "no filter" (identity).
    Same numbers as :func:`filtered_lrelu_reference` up to float rounding.
    """
    c = x.shape[1]
    if x.device.type == "cpu":  # oneDNN's depthwise kernels are ~25% faster on NHWC (measured, 2 cores)
        x = x.contiguous(memory_format=torch.channels_last)
    if bias is not None:
        x = x + bias.reshape(1, -1, 1, 1).to(x.dtype)
    px0, px1, py0, py1 = padding
    if up_filter is None:
        if up != 1:
            raise ValueError("up-sampling needs an up filter")
        y = F.pad(x, [px0, px1, py0, py1])
    elif up_filter.ndim == 1:
        fu = up_filter.to(x.dtype) * up  # sqrt(gain = up**2) per axis
        y = _up_axis(x, fu, up, px0, px1, -1)
        y = _up_axis(y, fu, up, py0, py1, -2)
    else:  # a 2-D up filter (no released config has one): dense reference form
        return filtered_lrelu_reference(x, None, up_filter, down_filter, up, down, padding, gain, slope, clamp)
    if slope == 1.0:
        y = y * gain if gain != 1.0 else y
    else:
        y = F.leaky_relu(y, slope)
        if gain != 1.0:
            y = y.mul_(gain)
    if clamp is not None:
        y = y.clamp_(-clamp, clamp)
    if down_filter is None:
        if down != 1:
            y = y[:, :, ::down, ::down]
        return y
    if down_filter.ndim == 1:
        gd = down_filter.flip(0).to(y.dtype)  # conv2d correlates; flip for a true convolution
        t = gd.shape[0]
        y = F.conv2d(y, gd.reshape(1, 1, 1, t).expand(c, 1, 1, t).contiguous(), stride=(1, down), groups=c)
        return F.conv2d(y, gd.reshape(1, 1, t, 1).expand(c, 1, t, 1).contiguous(), stride=(down, 1), groups=c)
    gd = down_filter.flip(0, 1).to(y.dtype)
    t = gd.shape[0]
    return F.conv2d(y, gd.reshape(1, 1, t, t).expand(c, 1, t, t).contiguous(), stride=down, groups=c)


def _upfirdn2d_dense(
    x: torch.Tensor,
    f: torch.Tensor | None,
    up: int,
    down: int,
    padding: tuple[int, int, int, int],
    gain: float,
    separable: bool = False,
) -> torch.Tensor:
    """Reference upfirdn: zero-insert, pad/crop, depthwise FIR at the full rate, then subsample.

    ``separable=False`` applies a 1-D filter as its full 2-D outer product (the dense baseline);
    ``True`` runs it as two 1-D passes, like NVIDIA's ``_upfirdn2d_ref`` CPU fallback.
    """
    n, c, h, w = x.shape
    if up > 1:
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)
    px0, px1, py0, py1 = padding
    x = F.pad(x, [px0, px1, py0, py1])
    if f is not None and f.ndim == 1 and separable:
        g = (f * math.sqrt(gain)).flip(0).to(x.dtype)
        t = g.shape[0]
        x = F.conv2d(x, g.reshape(1, 1, 1, t).repeat(c, 1, 1, 1), groups=c)
        x = F.conv2d(x, g.reshape(1, 1, t, 1).repeat(c, 1, 1, 1), groups=c)
    elif f is not None:
        f2 = f if f.ndim == 2 else torch.outer(f, f)  # a separable filter applied as its full 2-D kernel
        f2 = (f2 * gain).flip(0, 1).to(x.dtype)
        x = F.conv2d(x, f2[None, None].repeat(c, 1, 1, 1), groups=c)
    if down > 1:
        x = x[:, :, ::down, ::down]
    return x


def filtered_lrelu_reference(
    x: torch.Tensor,
    bias: torch.Tensor | None,
    up_filter: torch.Tensor | None,
    down_filter: torch.Tensor | None,
    up: int,
    down: int,
    padding: tuple[int, int, int, int],
    gain: float = SQRT2,
    slope: float = 0.2,
    clamp: float | None = None,
    separable: bool = False,
) -> torch.Tensor:
    """Straightforward filtered leaky ReLU: explicit zero insertion, full-rate FIRs, subsample after filtering.

    ``separable=False`` (default) is the dense 2-D baseline; ``True`` mirrors the upstream CPU fallback.
    """
    if bias is not None:
        x = x + bias.reshape(1, -1, 1, 1).to(x.dtype)
    x = _upfirdn2d_dense(x, up_filter, up, 1, padding, float(up * up), separable)
    x = F.leaky_relu(x, slope) * gain
    if clamp is not None:
        x = x.clamp(-clamp, clamp)
    return _upfirdn2d_dense(x, down_filter, 1, down, (0, 0, 0, 0), 1.0, separable)


# -- filter design (only used when a checkpoint lacks the stored buffers) -----------------------------


def _kaiser_beta(numtaps: int, width: float, fs: float) -> float:
    atten = 2.285 * (numtaps - 1) * math.pi * (width / (fs / 2)) + 7.95
    if atten > 50:
        return 0.1102 * (atten - 8.7)
    if atten > 21:
        return 0.5842 * (atten - 21) ** 0.4 + 0.07886 * (atten - 21)
    return 0.0


def _kaiser_window(numtaps: int, beta: float) -> np.ndarray:
    k = np.arange(numtaps, dtype=np.float64)
    arg = beta * np.sqrt(np.clip(1 - (2 * k / (numtaps - 1) - 1) ** 2, 0, None))
    return np.i0(arg) / np.i0(beta)


def design_lowpass_filter(
    numtaps: int, cutoff: float, width: float, fs: float, radial: bool = False
) -> torch.Tensor | None:
    """Kaiser-window low-pass FIR (scipy ``firwin`` with ``width``), or the 2-D radial (jinc) variant.

    Returns ``None`` for ``numtaps == 1`` (no filter), as the upstream layers do.  Checkpoints store
    the designed filters; this reproduces them (to ~1e-8 in fp32) for files that omit them.
    """
    if numtaps == 1:
        return None
    beta = _kaiser_beta(numtaps, width, fs)
    window = _kaiser_window(numtaps, beta)
    if not radial:
        nyq = fs / 2
        m = np.arange(numtaps) - (numtaps - 1) / 2
        h = (cutoff / nyq) * np.sinc((cutoff / nyq) * m) * window
        return torch.as_tensor(h / h.sum(), dtype=torch.float32)
    from scipy.special import j1  # scipy ships with scikit-learn, a core dependency

    xk = (np.arange(numtaps) - (numtaps - 1) / 2) / fs
    r = np.hypot(*np.meshgrid(xk, xk))
    with np.errstate(invalid="ignore", divide="ignore"):
        f = j1(2 * np.pi * cutoff * r) / (np.pi * r)
    f = np.where(r == 0, cutoff, f)  # J1(z) ~ z/2, so J1(2 pi c r)/(pi r) -> c at r = 0 (odd tap counts only)
    f = f * np.outer(window, window)
    return torch.as_tensor(f / f.sum(), dtype=torch.float32)
