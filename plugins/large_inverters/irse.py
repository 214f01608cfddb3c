"""IR-SE-50 backbone with the pSp / e4e style heads, written from the architecture facts.

Module and parameter names follow the published checkpoints exactly
(``input_layer.*``, ``body.{0..23}.res_layer.*``, ``styles.{k}.convs.*``,
``latlayer1/2``) so an official ``encoder.*`` state dict loads with
``strict=True`` and no renaming table can drift out of sync.

pSp (``GradualStyleEncoder``) predicts every W+ row with its own head; e4e
(``Encoder4Editing``) predicts row 0 and adds per-row deltas.  Both share the
same weights layout, so one class with a ``mode`` switch covers both.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

# (in_channels, depth, units) per stage of the 50-layer IR-SE net; the first unit of a stage has stride 2.
STAGES_50: tuple[tuple[int, int, int], ...] = ((64, 64, 3), (64, 128, 4), (128, 256, 14), (256, 512, 3))
# Body indices whose outputs feed the FPN: c1 (128 ch), c2 (256 ch), c3 (512 ch).
TAP_C1, TAP_C2, TAP_C3 = 6, 20, 23
# W+ rows below COARSE read c3; below MIDDLE read p2; the rest read p1.
COARSE, MIDDLE = 3, 7
ENCODER_INPUT = 256


class SEModule(nn.Module):
    """Squeeze-and-excitation gate: channel weights from the pooled map (reduction 16, no biases)."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1, bias=False)
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = F.adaptive_avg_pool2d(x, 1)
        gate = torch.sigmoid(self.fc2(F.relu(self.fc1(gate))))
        return x * gate


class BottleneckIRSE(nn.Module):
    """Pre-activation IR unit: BN -> conv3x3 -> PReLU -> conv3x3 (strided) -> BN -> SE, plus a shortcut.

    The stride sits on the *second* 3x3 conv; the shortcut is a parameter-free
    1x1 max-pool (pure subsampling) when the width is unchanged.
    """

    def __init__(self, in_channels: int, depth: int, stride: int) -> None:
        super().__init__()
        if in_channels == depth:
            self.shortcut_layer: nn.Module = nn.MaxPool2d(1, stride)
        else:
            self.shortcut_layer = nn.Sequential(
                nn.Conv2d(in_channels, depth, 1, stride, bias=False), nn.BatchNorm2d(depth)
            )
        self.res_layer = nn.Sequential(
            nn.BatchNorm2d(in_channels),
            nn.Conv2d(in_channels, depth, 3, 1, 1, bias=False),
            nn.PReLU(depth),
            nn.Conv2d(depth, depth, 3, stride, 1, bias=False),
            nn.BatchNorm2d(depth),
            SEModule(depth),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.res_layer(x) + self.shortcut_layer(x)


class EqualLinear(nn.Module):
    """Linear layer with the equalised-learning-rate scale 1/sqrt(in) applied at run time (lr_mul 1)."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim))
        self.bias = nn.Parameter(torch.zeros(out_dim))
        self.scale = 1.0 / math.sqrt(in_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias)


class GradualStyleBlock(nn.Module):
    """log2(spatial) strided 3x3 convs (LeakyReLU slope 0.01, PyTorch's default) down to 1x1, then EqualLinear."""

    def __init__(self, channels: int, spatial: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for _ in range(int(math.log2(spatial))):
            layers += [nn.Conv2d(channels, channels, 3, 2, 1), nn.LeakyReLU()]
        self.convs = nn.Sequential(*layers)
        self.linear = EqualLinear(channels, channels)
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.convs(x).reshape(-1, self.channels))


def _upsample_add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, size=y.shape[-2:], mode="bilinear", align_corners=True) + y


class IRSEStyleEncoder(nn.Module):
    """IR-SE-50 + FPN + one GradualStyleBlock per W+ row; ``mode`` is ``psp`` or ``e4e``.

    ``forward`` returns codes ``[N, n_styles, 512]`` *without* ``latent_avg``
    (the checkpoint wrapper adds it), matching the upstream encoder module.
    ``stage`` limits e4e to rows 0..stage (progressive training); None = all.
    """

    def __init__(self, n_styles: int = 18, mode: str = "e4e", input_nc: int = 3) -> None:
        super().__init__()
        if mode not in ("psp", "e4e"):
            raise ValueError(f"mode must be 'psp' or 'e4e', got {mode!r}")
        self.mode, self.n_styles = mode, n_styles
        self.input_layer = nn.Sequential(nn.Conv2d(input_nc, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.PReLU(64))
        units: list[nn.Module] = []
        for in_ch, depth, count in STAGES_50:
            units.append(BottleneckIRSE(in_ch, depth, 2))
            units.extend(BottleneckIRSE(depth, depth, 1) for _ in range(count - 1))
        self.body = nn.Sequential(*units)
        self.styles = nn.ModuleList(
            GradualStyleBlock(512, 16 if i < COARSE else 32 if i < MIDDLE else 64) for i in range(n_styles)
        )
        self.latlayer1 = nn.Conv2d(256, 512, 1)
        self.latlayer2 = nn.Conv2d(128, 512, 1)

    def features(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """c1, c2, c3 from the backbone and the FPN maps p2, p1 (for parity debugging)."""
        x = self.input_layer(x)
        taps: dict[str, torch.Tensor] = {}
        for i, unit in enumerate(self.body):
            x = unit(x)
            if i == TAP_C1:
                taps["c1"] = x
            elif i == TAP_C2:
                taps["c2"] = x
            elif i == TAP_C3:
                taps["c3"] = x
        taps["p2"] = _upsample_add(taps["c3"], self.latlayer1(taps["c2"]))
        taps["p1"] = _upsample_add(taps["p2"], self.latlayer2(taps["c1"]))
        return taps

    def forward(self, x: torch.Tensor, stage: int | None = None) -> torch.Tensor:
        return self.heads(self.features(x), stage)

    def heads(self, f: dict[str, torch.Tensor], stage: int | None = None) -> torch.Tensor:
        """W+ codes from precomputed :meth:`features` (lets tests and ReStyle-like loops reuse the backbone)."""
        source = ["c3" if i < COARSE else "p2" if i < MIDDLE else "p1" for i in range(self.n_styles)]
        if self.mode == "psp":
            return torch.stack([head(f[src]) for head, src in zip(self.styles, source, strict=True)], dim=1)
        w0 = self.styles[0](f["c3"])
        last = self.n_styles - 1 if stage is None else min(stage, self.n_styles - 1)
        rows = [w0] + [w0 + self.styles[i](f[source[i]]) if i <= last else w0 for i in range(1, self.n_styles)]
        return torch.stack(rows, dim=1)
