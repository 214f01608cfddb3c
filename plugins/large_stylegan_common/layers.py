"""The mapping network's maths, shared by StyleGAN2, StyleGAN3 and the StyleGAN2 discriminator.

(Also the random init both families give their weights for tests and benchmarks.)

NVIDIA's ``MappingNetwork`` is the same in stylegan2-ada-pytorch and stylegan3 (and the class-conditioning
mapping of the StyleGAN2 discriminator is one with ``z_dim = 0``): normalise z, embed and normalise c,
concatenate, then ``num_layers`` equalised-lr fully connected layers.  It lives here once so the three
agree by construction, with the upstream rounding (see :func:`fc`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
import torch.nn.functional as F

SQRT2 = math.sqrt(2.0)


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """``x * rsqrt(mean(x^2) + eps)`` over the feature dim (the mapping's pixel norm)."""
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


def fc(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, lr_mul: float = 1.0, activation: str = "linear"
) -> torch.Tensor:
    """NVIDIA ``FullyConnectedLayer``: stored weights are raw, effective ``W * lr_mul/sqrt(in)``, ``b * lr_mul``.

    As upstream, a linear layer's bias rides on ``addmm`` and an ``lrelu`` layer adds it before the
    activation (``bias_act``, gain sqrt(2)), so outputs round like the original's.
    """
    w = weight * (lr_mul / math.sqrt(weight.shape[1]))
    if bias is not None and activation == "linear" and x.ndim == 2:
        return torch.addmm((bias * lr_mul).unsqueeze(0), x, w.t())
    y = x.matmul(w.t())
    if bias is not None:
        y = y + bias * lr_mul
    if activation == "lrelu":
        y = F.leaky_relu(y, 0.2) * SQRT2
    elif activation != "linear":
        raise ValueError(f"unsupported activation {activation!r}")
    return y


def mapping_network(
    params: Mapping[str, torch.Tensor],
    z: torch.Tensor | None,
    c: torch.Tensor | None,
    num_layers: int,
    lr_mul: float = 0.01,
    activation: str = "lrelu",
) -> torch.Tensor:
    """NVIDIA ``MappingNetwork`` forward (without truncation) over ``mapping.*``-named weights.

    ``z`` is None for ``z_dim = 0`` (the discriminator's class mapping); ``c`` is None for an
    unconditional network.  The embedding is a linear layer at learning rate 1.
    """
    x = normalize_2nd_moment(z) if z is not None else None
    if c is not None:
        y = normalize_2nd_moment(fc(c, params["mapping.embed.weight"], params["mapping.embed.bias"]))
        x = y if x is None else torch.cat([x, y], dim=1)
    if x is None:
        raise ValueError("a mapping network needs z, c or both")
    for i in range(num_layers):
        x = fc(x, params[f"mapping.fc{i}.weight"], params[f"mapping.fc{i}.bias"], lr_mul, activation)
    return x


def mapping_keys(num_layers: int, c_dim: int) -> list[str]:
    """The tensors a mapping network of this shape stores (``w_avg`` included)."""
    keys = ["mapping.w_avg"]
    keys += [f"mapping.fc{i}.{p}" for i in range(num_layers) for p in ("weight", "bias")]
    if c_dim:
        keys += ["mapping.embed.weight", "mapping.embed.bias"]
    return keys


def random_mapping_state(
    g: torch.Generator, z_dim: int, w_dim: int, c_dim: int, num_layers: int
) -> dict[str, torch.Tensor]:
    """Mapping weights in NVIDIA's shapes and init (raw N(0, 1) / lr_mul 0.01), ``w_avg`` zero: tests, benchmarks."""
    sd: dict[str, torch.Tensor] = {"mapping.w_avg": torch.zeros(w_dim)}
    fin = z_dim + (w_dim if c_dim else 0)
    if c_dim:
        sd["mapping.embed.weight"] = torch.randn(w_dim, c_dim, generator=g)
        sd["mapping.embed.bias"] = torch.zeros(w_dim)
    for i in range(num_layers):
        sd[f"mapping.fc{i}.weight"] = torch.randn(w_dim, fin, generator=g) / 0.01
        sd[f"mapping.fc{i}.bias"] = torch.zeros(w_dim)
        fin = w_dim
    return sd


def random_modulated_layer(
    g: torch.Generator, name: str, out_channels: int, in_channels: int, kernel: int, w_dim: int
) -> dict[str, torch.Tensor]:
    """A modulated conv layer's weights in NVIDIA's shapes and init: raw N(0, 1) weight, zero bias, and a style
    affine with N(0, 1) weight and bias 1 (so an untrained style is about 1)."""
    return {
        f"{name}.weight": torch.randn(out_channels, in_channels, kernel, kernel, generator=g),
        f"{name}.bias": torch.zeros(out_channels),
        f"{name}.affine.weight": torch.randn(in_channels, w_dim, generator=g),
        f"{name}.affine.bias": torch.ones(in_channels),
    }


def truncate(ws: torch.Tensor, w_avg: torch.Tensor, psi: float, cutoff: int | None = None) -> torch.Tensor:
    """The truncation trick on ``ws`` ``[N, num_ws, w_dim]``: the first ``cutoff`` rows move ``psi`` of the way
    from ``w_avg`` (all rows when ``cutoff`` is None), as NVIDIA's ``truncation_psi``/``truncation_cutoff``."""
    if psi == 1.0:
        return ws
    num_ws = ws.shape[1]
    cut = num_ws if cutoff is None else max(0, min(int(cutoff), num_ws))
    return torch.cat([w_avg.lerp(ws[:, :cut], float(psi)), ws[:, cut:]], dim=1)
