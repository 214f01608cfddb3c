"""A residual StyleGAN2 discriminator, as functional code over a dict of NVIDIA-named tensors.

Architecture (Karras et al. 2020, config-e/f "resnet" D): ``fromrgb`` 1x1 at the top block, then per
block ``conv0`` 3x3 and ``conv1`` 3x3 with 2x down-sampling (4x4 ``[1,3,3,1]`` blur), plus a 1x1
down-sampled ``skip``, summed with gain sqrt(1/2); the 4x4 epilogue has minibatch-stddev (group 4,
one feature), a 3x3 conv, a fully connected layer and the real/fake output.  All weights use the
equalised learning rate (stored N(0,1), scaled by 1/sqrt(fan_in) at run time).

Class-conditional D (``c_dim > 0``) uses NVIDIA's projection conditioning: a mapping network
(``mapping.embed`` then 8 fully connected layers at learning-rate multiplier 0.01, as stylegan2-ada's
``MappingNetwork(z_dim=0, c_dim, w_dim=cmap_dim)``) turns the one-hot class into ``cmap`` of
``cmap_dim = ch4`` values, ``b4.out`` outputs ``cmap_dim`` values, and the logit is their dot product
with ``cmap`` divided by ``sqrt(cmap_dim)`` (Miyato & Koyama, "cGANs with Projection Discriminator").

An optional 4-way rotation head (``rot``) predicts which of 0/90/180/270 degrees an image was turned
by: the self-supervised auxiliary task of Chen et al., "Self-Supervised GANs via Auxiliary Rotation
Loss" (CVPR 2019), which stabilises training and gives D features that transfer without labels.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from large_stylegan_common import mapping_network

from large_stylegan2 import ops

SQRT_HALF = math.sqrt(0.5)


def channels_for(resolution: int, channel_base: int, channel_max: int) -> dict[int, int]:
    """NVIDIA's channel rule ``min(channel_base // res, channel_max)`` for every block resolution."""
    return {r: min(channel_base // r, channel_max) for r in [2**i for i in range(2, int(math.log2(resolution)) + 1)]}


def init_discriminator(
    resolution: int,
    channel_base: int,
    channel_max: int,
    img_channels: int = 3,
    rotation_head: bool = False,
    seed: int = 0,
    c_dim: int = 0,
) -> dict[str, torch.Tensor]:
    """Fresh D weights (NVIDIA init: weights N(0,1) / lr multiplier, biases 0)."""
    g = torch.Generator().manual_seed(seed)
    ch = channels_for(resolution, channel_base, channel_max)
    p: dict[str, torch.Tensor] = {}

    def conv(name: str, cout: int, cin: int, k: int, bias: bool = True) -> None:
        p[f"{name}.weight"] = torch.randn(cout, cin, k, k, generator=g)
        if bias:
            p[f"{name}.bias"] = torch.zeros(cout)

    conv(f"b{resolution}.fromrgb", ch[resolution], img_channels, 1)
    res = resolution
    while res > 4:
        conv(f"b{res}.conv0", ch[res], ch[res], 3)
        conv(f"b{res}.conv1", ch[res // 2], ch[res], 3)
        conv(f"b{res}.skip", ch[res // 2], ch[res], 1, bias=False)
        res //= 2
    conv("b4.conv", ch[4], ch[4] + 1, 3)
    p["b4.fc.weight"], p["b4.fc.bias"] = torch.randn(ch[4], ch[4] * 16, generator=g), torch.zeros(ch[4])
    cmap_dim = ch[4] if c_dim else 1
    p["b4.out.weight"], p["b4.out.bias"] = torch.randn(cmap_dim, ch[4], generator=g), torch.zeros(cmap_dim)
    if rotation_head:
        p["rot.weight"], p["rot.bias"] = torch.randn(4, ch[4], generator=g), torch.zeros(4)
    if c_dim:
        p["mapping.embed.weight"], p["mapping.embed.bias"] = (
            torch.randn(cmap_dim, c_dim, generator=g),
            torch.zeros(cmap_dim),
        )
        for i in range(D_MAPPING_LAYERS):
            p[f"mapping.fc{i}.weight"] = torch.randn(cmap_dim, cmap_dim, generator=g) / D_MAPPING_LR
            p[f"mapping.fc{i}.bias"] = torch.zeros(cmap_dim)
    return p


D_MAPPING_LAYERS = 8
D_MAPPING_LR = 0.01


def c_dim_of(p: dict[str, torch.Tensor]) -> int:
    """Number of classes of a D (0 = unconditional)."""
    w = p.get("mapping.embed.weight")
    return 0 if w is None else int(w.shape[1])


def class_map(p: dict[str, torch.Tensor], c: torch.Tensor) -> torch.Tensor:
    """One-hot ``[N, c_dim]`` -> ``cmap`` ``[N, cmap_dim]`` (NVIDIA's D mapping network, z_dim = 0)."""
    c = c.to(p["mapping.embed.weight"].dtype)
    return mapping_network(p, None, c, D_MAPPING_LAYERS, D_MAPPING_LR)


def _conv(x: torch.Tensor, p: dict[str, torch.Tensor], name: str, act: bool = True) -> torch.Tensor:
    w = p[f"{name}.weight"]
    gain = 1.0 / math.sqrt(w[0].numel())
    y = F.conv2d(x, w * gain, p.get(f"{name}.bias"), padding=w.shape[-1] // 2)
    return F.leaky_relu(y, 0.2) * ops.SQRT2 if act else y


def _down2(x: torch.Tensor, fir: torch.Tensor) -> torch.Tensor:
    """Blur with the 4x4 FIR then keep every second pixel (NVIDIA's filtered down-sampling)."""
    c = x.shape[1]
    return F.conv2d(F.pad(x, [1, 1, 1, 1]), fir.to(x.dtype)[None, None].expand(c, 1, 4, 4), groups=c, stride=2)


def _mbstd(x: torch.Tensor, group: int = 4) -> torch.Tensor:
    n, c, h, w = x.shape
    g = min(group, n)
    while n % g:
        g -= 1
    y = x.reshape(g, -1, 1, c, h, w)
    y = (y - y.mean(dim=0)).square().mean(dim=0).add(1e-8).sqrt().mean(dim=[2, 3, 4])
    y = y.reshape(-1, 1, 1, 1).repeat(g, 1, h, w)
    return torch.cat([x, y], dim=1)


def features(p: dict[str, torch.Tensor], img: torch.Tensor) -> torch.Tensor:
    """The D trunk: image ``[N, C, R, R]`` -> feature vector ``[N, ch4]`` (before the heads)."""
    fir = ops.default_fir(img.device)
    res = img.shape[-1]
    x = _conv(img, p, f"b{res}.fromrgb")
    while res > 4:
        skip = _conv(_down2(x, fir), p, f"b{res}.skip", act=False)
        x = _conv(x, p, f"b{res}.conv0")
        x = _down2(_conv(x, p, f"b{res}.conv1"), fir)
        x = (skip + x) * SQRT_HALF
        res //= 2
    x = _conv(_mbstd(x), p, "b4.conv")
    w = p["b4.fc.weight"]
    return F.leaky_relu(x.flatten(1) @ (w / math.sqrt(w.shape[1])).T + p["b4.fc.bias"], 0.2) * ops.SQRT2


def _head(p: dict[str, torch.Tensor], name: str, feats: torch.Tensor) -> torch.Tensor:
    w = p[f"{name}.weight"]
    return feats @ (w / math.sqrt(w.shape[1])).T + p[f"{name}.bias"]


def logits(p: dict[str, torch.Tensor], img: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
    """Real/fake logit per image, ``[N]`` (a conditional D needs the one-hot classes ``c``)."""
    out = _head(p, "b4.out", features(p, img))
    if "mapping.embed.weight" not in p:
        return out.squeeze(1)
    if c is None:
        raise ValueError("this discriminator is class-conditional: pass c")
    return (out * class_map(p, c)).sum(dim=1) / math.sqrt(out.shape[1])


def rotation_logits(p: dict[str, torch.Tensor], img: torch.Tensor) -> torch.Tensor:
    """4-way rotation logits per image, ``[N, 4]`` (needs the ``rot`` head)."""
    return _head(p, "rot", features(p, img))


def rotate_batch(img: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Each image turned by a random multiple of 90 degrees; returns images and the labels 0-3."""
    labels = torch.randint(0, 4, (img.shape[0],), generator=gen).to(img.device)
    turned = torch.stack([torch.rot90(img, k, dims=(2, 3)) for k in range(4)])  # [4, N, C, H, W]
    return turned[labels, torch.arange(img.shape[0], device=img.device)], labels


# -- multi-layer activations (feature losses, analysis) ------------------------------------------
#
# Added for the inverters' discriminator-feature loss.  ``features``/``logits`` above are the trainer's
# and stay as they are; ``features_per_block`` can follow either the trainer's operation order or
# NVIDIA stylegan2-ada's, because the two differ in one place and a D must be run the way it was trained:
#
# * trainer:  conv1 = conv3x3(pad 1) + bias -> lrelu*sqrt2 -> blur+subsample
# * nvidia:   conv1 = blur(pad 2) -> conv3x3 stride 2 -> + bias -> lrelu*sqrt2*gain -> clamp
#   (``conv2d_resample``'s down-sampling path; bias and activation come *after* the down-sampling).
#
# NVIDIA also clamps fromrgb/conv0/conv1/b4.conv outputs to +-conv_clamp (times the layer gain) when the
# network was built with ``conv_clamp`` (256 in stylegan2-ada's training configs, None in TF conversions),
# and its minibatch-stddev layer may pool ``num_channels`` > 1 channel groups.  Both are honoured here.

LAYOUTS = ("trainer", "nvidia")


def _clamp(x: torch.Tensor, clamp: float | None) -> torch.Tensor:
    return x.clamp(-clamp, clamp) if clamp is not None else x


def _nv_conv(
    x: torch.Tensor,
    p: dict[str, torch.Tensor],
    name: str,
    fir: torch.Tensor,
    *,
    down: bool = False,
    act: bool = True,
    gain: float = 1.0,
    clamp: float | None = None,
) -> torch.Tensor:
    """NVIDIA ``Conv2dLayer``: weight*1/sqrt(fan_in), optional 2x filtered down-sampling, then bias_act."""
    w = p[f"{name}.weight"]
    w = w * (1.0 / math.sqrt(w[0].numel()))
    k = w.shape[-1]
    if down and k == 1:
        y = F.conv2d(_down2(x, fir), w)  # 1x1: down-sample first, then convolve
    elif down:
        c = x.shape[1]
        blurred = F.conv2d(F.pad(x, [k // 2 + 1] * 4), fir.to(x.dtype)[None, None].expand(c, 1, 4, 4), groups=c)
        y = F.conv2d(blurred, w, stride=2)
    else:
        y = F.conv2d(x, w, padding=k // 2)
    b = p.get(f"{name}.bias")
    if b is not None:
        y = y + b.view(1, -1, 1, 1)
    y = F.leaky_relu(y, 0.2) * (ops.SQRT2 * gain) if act else y * gain
    return _clamp(y, clamp * gain if clamp is not None else None)


def minibatch_std(x: torch.Tensor, group: int = 4, channels: int = 1) -> torch.Tensor:
    """NVIDIA's ``MinibatchStdLayer`` (group ``G``, ``channels`` pooled groups of features).

    NVIDIA asserts the batch divides by ``min(group, N)``; here the group shrinks until it does (the
    trainer's rule), which only changes batches NVIDIA would refuse.  ``group=1`` makes every image
    independent of its batch-mates (its std channel is the constant sqrt(1e-8)).
    """
    n, c, h, w = x.shape
    g = max(1, min(group, n))
    while n % g:
        g -= 1
    y = x.reshape(g, -1, channels, c // channels, h, w)
    y = (y - y.mean(dim=0)).square().mean(dim=0).add(1e-8).sqrt().mean(dim=[2, 3, 4])
    y = y.reshape(-1, channels, 1, 1).repeat(g, 1, h, w)
    return torch.cat([x, y], dim=1)


def block_names(resolution: int) -> list[str]:
    """Feature names ``features_per_block`` returns, shallow to deep: ``b{R}`` .. ``b8``, ``b4.conv``, ``b4.fc``."""
    res = [2**i for i in range(int(math.log2(resolution)), 2, -1)]
    return [f"b{r}" for r in res] + ["b4.conv", "b4.fc"]


def features_per_block(
    p: dict[str, torch.Tensor],
    img: torch.Tensor,
    *,
    layout: str = "trainer",
    conv_clamp: float | None = None,
    mbstd_group: int = 4,
    mbstd_channels: int = 1,
    upto: str | None = None,
) -> dict[str, torch.Tensor]:
    """Activations after every D block (``b{res}`` = output of that block, at res/2), ``b4.conv`` and ``b4.fc``.

    With ``layout='trainer'`` and the defaults, ``b4.fc`` equals :func:`features` exactly.  ``upto``
    stops after the named feature (deep layers cost nothing when only shallow ones are wanted, and
    stopping before ``b4`` keeps minibatch-stddev, which couples images, out of the computation).
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    fir = ops.default_fir(img.device)
    res = img.shape[-1]
    out: dict[str, torch.Tensor] = {}
    nv = layout == "nvidia"
    x = _nv_conv(img, p, f"b{res}.fromrgb", fir, clamp=conv_clamp) if nv else _conv(img, p, f"b{res}.fromrgb")
    while res > 4:
        if nv:
            skip = _nv_conv(x, p, f"b{res}.skip", fir, down=True, act=False, gain=SQRT_HALF)
            x = _nv_conv(x, p, f"b{res}.conv0", fir, clamp=conv_clamp)
            x = skip + _nv_conv(x, p, f"b{res}.conv1", fir, down=True, gain=SQRT_HALF, clamp=conv_clamp)
        else:
            skip = _conv(_down2(x, fir), p, f"b{res}.skip", act=False)
            x = _conv(x, p, f"b{res}.conv0")
            x = (skip + _down2(_conv(x, p, f"b{res}.conv1"), fir)) * SQRT_HALF
        out[f"b{res}"] = x
        if upto == f"b{res}":
            return out
        res //= 2
    x = minibatch_std(x, mbstd_group, mbstd_channels)
    x = _nv_conv(x, p, "b4.conv", fir, clamp=conv_clamp) if nv else _conv(x, p, "b4.conv")
    out["b4.conv"] = x
    if upto == "b4.conv":
        return out
    w = p["b4.fc.weight"]
    out["b4.fc"] = F.leaky_relu(x.flatten(1) @ (w / math.sqrt(w.shape[1])).T + p["b4.fc.bias"], 0.2) * ops.SQRT2
    return out
