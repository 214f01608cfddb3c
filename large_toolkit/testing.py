"""Helpers for testing large-tk and its plugins without a real checkpoint.

:class:`ToyGenerator` is a small, seeded, fully functional style-based
generator (mapping MLP, per-layer style affines, modulated convolutions) that
implements the :class:`~large_toolkit.interfaces.Generator` interface.  It
lets finders, inverters, analyses and the GUI be tested on any machine in
milliseconds; it is not a StyleGAN and makes no claim to match one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
import torch.nn.functional as F

from large_toolkit.interfaces import StyleAffine, StyleGenerator
from large_toolkit.types import StyleLayer, style_offsets


class ToyGenerator(StyleGenerator):
    """A seeded toy generator: z -> W (2-layer MLP) -> per-layer styles -> modulated convs -> RGB."""

    def __init__(
        self, z_dim: int = 16, w_dim: int = 16, num_ws: int = 4, resolution: int = 16, channels: int = 8, seed: int = 0
    ) -> None:
        if resolution < 4 or resolution & (resolution - 1):
            raise ValueError("resolution must be a power of two >= 4")
        rng = torch.Generator().manual_seed(seed)
        self.z_dim, self.w_dim, self.num_ws, self.resolution, self.c_dim = z_dim, w_dim, num_ws, resolution, 0
        self.img_channels = 3
        self.style_layers = tuple(StyleLayer(f"layer{i}", channels, i, "conv") for i in range(num_ws))
        self._t: dict[str, torch.Tensor] = {
            "map0": torch.randn(w_dim, z_dim, generator=rng) / math.sqrt(z_dim),
            "map1": torch.randn(w_dim, w_dim, generator=rng) / math.sqrt(w_dim),
            "const": torch.randn(channels, 4, 4, generator=rng),
            "torgb": torch.randn(3, channels, generator=rng) / math.sqrt(channels),
        }
        for i in range(num_ws):
            self._t[f"affine{i}.weight"] = torch.randn(channels, w_dim, generator=rng) / math.sqrt(w_dim)
            self._t[f"affine{i}.bias"] = torch.ones(channels)
            self._t[f"conv{i}"] = torch.randn(channels, channels, 3, 3, generator=rng) / math.sqrt(channels * 9)
        with torch.no_grad():
            z = torch.randn(2048, z_dim, generator=rng)
            self._t["w_avg"] = self._map(z).mean(0)

    def _map(self, z: torch.Tensor) -> torch.Tensor:
        z = z * (z.square().mean(1, keepdim=True) + 1e-8).rsqrt()
        h = F.leaky_relu(z @ self._t["map0"].T, 0.2)
        return F.leaky_relu(h @ self._t["map1"].T, 0.2)

    @property
    def w_avg(self) -> torch.Tensor:
        return self._t["w_avg"]

    @property
    def device(self) -> torch.device:
        return self._t["const"].device

    def to(self, device: torch.device | str) -> ToyGenerator:
        self._t = {k: v.to(device) for k, v in self._t.items()}
        return self

    def mapping(
        self, z: torch.Tensor, c: torch.Tensor | None = None, psi: float = 1.0, trunc_cutoff: int | None = None
    ) -> torch.Tensor:
        w = self._map(z.to(self.device, torch.float32))
        ws = w.unsqueeze(1).repeat(1, self.num_ws, 1)
        if psi != 1.0:
            cutoff = self.num_ws if trunc_cutoff is None else trunc_cutoff
            ws[:, :cutoff] = self.w_avg.lerp(ws[:, :cutoff], psi)
        return ws

    def styles(self, ws: torch.Tensor) -> torch.Tensor:
        parts = [
            ws[:, layer.w_index] @ self._t[f"affine{i}.weight"].T + self._t[f"affine{i}.bias"]
            for i, layer in enumerate(self.style_layers)
        ]
        return torch.cat(parts, dim=1)

    def synthesis_from_styles(self, styles: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        spans = style_offsets(self.style_layers)
        x = self._t["const"].unsqueeze(0).repeat(styles.shape[0], 1, 1, 1)
        for i, (a, b) in enumerate(spans):
            if x.shape[-1] < self.resolution:
                x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = x * styles[:, a:b, None, None]
            x = F.leaky_relu(F.conv2d(x, self._t[f"conv{i}"], padding=1), 0.2)
        while x.shape[-1] < self.resolution:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        return torch.tanh(torch.einsum("nchw,oc->nohw", x, self._t["torgb"]))

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        return self.synthesis_from_styles(self.styles(ws), noise_mode)

    def style_affines(self) -> list[StyleAffine]:
        return [
            StyleAffine(layer, self._t[f"affine{i}.weight"], self._t[f"affine{i}.bias"])
            for i, layer in enumerate(self.style_layers)
        ]

    def state_tensors(self) -> Mapping[str, torch.Tensor]:
        return dict(self._t)
