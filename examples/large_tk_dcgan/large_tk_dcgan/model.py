"""A DCGAN-style generator (Radford et al., 2016) behind large-tk's base ``Generator`` contract.

``z ~ N(0, I)`` (``z_dim``) -> linear -> ``[C0, 4, 4]`` -> three (nearest x2 upsample, 3x3 conv, bias,
leaky ReLU) blocks -> 1x1 conv to RGB -> tanh, 32 px.  One code per image and no mapping network, so
it declares no style capability: W is z itself, truncation, W+ and StyleSpace are refused by the core.
The weights are a safetensors file whose metadata holds ``format`` and the JSON ``config``.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from large_toolkit.api import Capability, CheckpointError, Generator, ParamsDict

FORMAT = "large-tk-dcgan"


@dataclass(frozen=True)
class DCGANConfig:
    z_dim: int = 32
    base_channels: int = 64
    resolution: int = 32
    img_channels: int = 3

    def widths(self) -> list[int]:
        """Channels at 4, 8, 16, 32 px: halved per block."""
        blocks = (self.resolution // 4).bit_length() - 1
        return [max(self.base_channels >> i, 8) for i in range(blocks + 1)]


def init_state(config: DCGANConfig, seed: int) -> dict[str, torch.Tensor]:
    """He-normal weights from ``seed`` (so activations neither vanish nor explode), zero biases."""
    rng = torch.Generator().manual_seed(seed)
    widths = config.widths()
    state = {
        "fc.weight": torch.randn(widths[0] * 16, config.z_dim, generator=rng) * (2.0 / config.z_dim) ** 0.5,
        "fc.bias": torch.zeros(widths[0] * 16),
    }
    for i, (cin, cout) in enumerate(itertools.pairwise(widths)):
        state[f"block{i}.weight"] = torch.randn(cout, cin, 3, 3, generator=rng) * (2.0 / (cin * 9)) ** 0.5
        state[f"block{i}.bias"] = torch.zeros(cout)
    state["to_rgb.weight"] = torch.randn(config.img_channels, widths[-1], 1, 1, generator=rng) / widths[-1] ** 0.5
    state["to_rgb.bias"] = torch.zeros(config.img_channels)
    return state


class DCGANGenerator(ParamsDict, Generator):
    """The base contract (``decode``; ``device``, ``to``, ``state_tensors`` from ``params``) plus ``export``."""

    capabilities = frozenset({Capability.EXPORT})  # save_safetensors: `large-tk convert` works

    def __init__(self, state: Mapping[str, torch.Tensor], config: DCGANConfig, device: str | torch.device = "cpu"):
        self.config = config
        self.z_dim, self.resolution, self.img_channels = config.z_dim, config.resolution, config.img_channels
        expected = init_state(config, 0)
        for name, tensor in expected.items():
            if name not in state or tuple(state[name].shape) != tuple(tensor.shape):
                got = "missing" if name not in state else list(state[name].shape)
                raise CheckpointError(f"DCGAN weight {name}: expected {list(tensor.shape)}, got {got}")
        self.params = {k: state[k].detach().to(device, torch.float32) for k in expected}

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        p, widths = self.params, self.config.widths()
        x = F.linear(codes.to(self.device, torch.float32), p["fc.weight"], p["fc.bias"])
        x = F.leaky_relu(x.view(-1, widths[0], 4, 4), 0.2)
        for i in range(len(widths) - 1):
            x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = F.leaky_relu(F.conv2d(x, p[f"block{i}.weight"], p[f"block{i}.bias"], padding=1), 0.2)
        return torch.tanh(F.conv2d(x, p["to_rgb.weight"], p["to_rgb.bias"]))

    def save_safetensors(self, path: str | os.PathLike[str]) -> None:
        """Write the weights with ``format`` and ``config`` metadata (what :func:`load_dcgan` reads)."""
        from safetensors.torch import save_file

        tensors = {k: v.detach().cpu().contiguous() for k, v in self.params.items()}
        tmp = f"{os.fspath(path)}.tmp"
        save_file(tensors, tmp, metadata={"format": FORMAT, "config": json.dumps(asdict(self.config))})
        os.replace(tmp, path)


def load_dcgan(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> DCGANGenerator:
    """Read one of our safetensors files; anything else is refused with one line."""
    from safetensors import safe_open

    try:
        with safe_open(os.fspath(path), framework="pt") as handle:
            meta = handle.metadata() or {}
            state = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118 (safe_open has no __iter__)
    except FileNotFoundError:
        raise CheckpointError(f"DCGAN checkpoint not found: {path}") from None
    except Exception as exc:
        raise CheckpointError(f"{path} is not a safetensors file ({exc})") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a DCGAN checkpoint", hint="its metadata must say format=large-tk-dcgan")
    config = DCGANConfig(**json.loads(meta.get("config", "{}")))
    return DCGANGenerator(state, config, device)
