"""What a StyleGAN2 and a StyleGAN3 generator share around their (different) synthesis networks.

Both hold NVIDIA-named weights in one dict ``params``, map z (and a class label) to W with the same
mapping network, truncate towards ``mapping.w_avg``, compute every style as the raw affine output
``A(w)`` of its layer, and save themselves as safetensors with their config as JSON metadata.
:class:`StyleGANGenerator` is that part, so a fix or a speed-up there reaches both families; a
subclass supplies the config, ``style_layers``, ``num_ws``, the synthesis and its describe/export extras.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import torch

from large_stylegan_common.layers import mapping_keys, mapping_network, truncate
from large_toolkit.api import (
    CheckpointError,
    ParamsDict,
    ShapeError,
    StyleAffine,
    StyleGenerator,
    UserInputError,
    style_offsets,
)

C = TypeVar("C", bound="ConfigDict")
F = TypeVar("F", bound=Callable[..., torch.Tensor])
S = TypeVar("S", bound="StyleGANGenerator")

#: ``noise_mode`` values of synthesis (StyleGAN3, which has no noise inputs, accepts and ignores them)
NOISE_MODES = ("const", "random", "none")

#: the artifact format our safetensors carry, per backend (for a pointer to the right ``--backend``)
ARTIFACT_FORMATS = {
    "stylegan2": "large-tk/stylegan2-generator",
    "stylegan3": "large-tk/stylegan3-generator",
}


def full_precision(method: F) -> F:
    """Run a generator method with autocast off: fp32 whatever ``--precision`` is.

    Why: the mapping network and the style affines produce W and S, whose distances LARGE measures; bf16's
    8-bit mantissa would move them (and the fingerprinted artifacts made from them).  Only synthesis runs
    under reduced precision.
    """

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> torch.Tensor:
        device_type = self.device.type
        if device_type not in ("cpu", "cuda") or not torch.is_autocast_enabled(device_type):
            return method(self, *args, **kwargs)
        with torch.autocast(device_type, enabled=False):
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class ConfigDict:
    """JSON round trip for a config dataclass; unknown keys (from a newer writer) are ignored on read."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[C], data: Mapping[str, Any]) -> C:
        known = set(cls.__dataclass_fields__)  # type: ignore[attr-defined]
        return cls(**{k: v for k, v in data.items() if k in known})


def config_from_metadata(raw: Mapping[str, str], backend: str, config_cls: type[C]) -> C | None:
    """The config a :meth:`StyleGANGenerator.save_safetensors` file stores (None for a foreign safetensors file)."""
    from large_toolkit.api import parse_metadata

    meta = parse_metadata(raw)
    if meta is None:
        return None
    expected, found = ARTIFACT_FORMATS[backend], meta.get("format")
    if found != expected:
        for other, fmt in ARTIFACT_FORMATS.items():
            if found == fmt:
                raise CheckpointError(
                    f"this safetensors file holds a {other.replace('stylegan', 'StyleGAN')} generator",
                    hint=f"use --backend {other}",
                )
        raise CheckpointError(f"safetensors file holds {found!r}, expected {expected!r}")
    return config_cls.from_dict(meta.get("config") or {})


class StyleGANGenerator(ParamsDict, StyleGenerator):
    """The mapping, truncation, style and export members NVIDIA's StyleGAN2 and StyleGAN3 have in common.

    Subclasses set ``backend``, ``config_class`` and ``config_from_state``, and implement :meth:`_complete` (set
    ``num_ws`` and ``style_layers``, check and complete the weights), :meth:`styles` and
    :meth:`synthesis_from_styles`.
    """

    backend: ClassVar[str]
    config_class: ClassVar[type[ConfigDict]]
    #: the backend's ``infer_config(state, **overrides)``: a config from NVIDIA-named tensor shapes
    config_from_state: ClassVar[Callable[..., Any]]
    config: Any  # the backend's config dataclass (a ConfigDict with z_dim, w_dim, c_dim, mapping_layers...)

    def __init__(self, state: Mapping[str, torch.Tensor], config: Any, device: str | torch.device = "cpu") -> None:
        self.config = config
        self.z_dim, self.w_dim, self.c_dim = config.z_dim, config.w_dim, config.c_dim
        self.resolution, self.img_channels = config.img_resolution, config.img_channels
        # float32 and contiguous: fp16 blocks of --nhwc pickles are stored channels-last; the maths must
        # not depend on strides.  None entries (absent optional buffers in some pickles) are dropped.
        params = {k: v.detach().to(torch.float32).contiguous() for k, v in state.items() if v is not None}
        self._complete(params)
        self.params = params
        self.to(device)

    def _complete(self, params: dict[str, torch.Tensor]) -> None:
        """Set ``num_ws`` and ``style_layers`` from the config, then check ``params`` and add missing buffers."""
        raise NotImplementedError

    @classmethod
    def from_state_dict(
        cls: type[S],
        state: Mapping[str, torch.Tensor],
        config: Any = None,
        device: str | torch.device = "cpu",
        **overrides: Any,
    ) -> S:
        """From NVIDIA-named tensors (``G_ema.state_dict()``); settings not given are inferred from them or default."""
        return cls(state, config or cls.config_from_state(state, **overrides), device)

    @classmethod
    def from_export(
        cls: type[S], tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str], device: str | torch.device
    ) -> S | None:
        """From a safetensors file we wrote (:meth:`save_safetensors`); None for another writer's file."""
        config = config_from_metadata(metadata, cls.backend, cls.config_class)
        return None if config is None else cls(tensors, config, device)

    def _mapping_keys(self) -> list[str]:
        return mapping_keys(self.config.mapping_layers, self.c_dim)

    def _check_w_avg(self, params: Mapping[str, torch.Tensor]) -> None:
        if params["mapping.w_avg"].shape != (self.w_dim,):
            got = list(params["mapping.w_avg"].shape)
            raise CheckpointError(f"mapping.w_avg: expected shape [{self.w_dim}], got {got}")

    def _mapping_settings(self) -> tuple[float, str]:
        """``(lr multiplier, activation)`` of the mapping layers: every released model has 0.01 and lrelu."""
        return 0.01, "lrelu"

    # -- z -> W -> S ----------------------------------------------------------------------------------

    @property
    def w_avg(self) -> torch.Tensor:
        return self.params["mapping.w_avg"]

    @full_precision
    def _map(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        if self.c_dim and c is None:
            raise UserInputError(f"this generator is class-conditional (c_dim={self.c_dim})", hint="pass a class label")
        lr_mul, activation = self._mapping_settings()
        z_in = z.to(self.device, torch.float32) if self.z_dim else None
        c_in = c.to(self.device, torch.float32) if self.c_dim and c is not None else None
        return mapping_network(self.params, z_in, c_in, self.config.mapping_layers, lr_mul, activation)

    def mapping(
        self, z: torch.Tensor, c: torch.Tensor | None = None, psi: float = 1.0, trunc_cutoff: int | None = None
    ) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ShapeError(f"z: expected shape [N, {self.z_dim}], got {list(z.shape)}")
        ws = self._map(z, c).float().unsqueeze(1).repeat(1, self.num_ws, 1)  # fp32 W under autocast too
        return truncate(ws, self.w_avg, psi, trunc_cutoff)

    def estimate_w_avg(self, n: int = 10000, seed: int = 0) -> None:
        """Set ``w_avg`` to the mean W of ``n`` seeded samples (for checkpoints that lack it).

        A conditional generator averages over the classes in turn (sample ``i`` gets class ``i % c_dim``).
        """
        z = torch.randn(n, self.z_dim, generator=torch.Generator().manual_seed(seed)).to(self.device)
        c = None
        if self.c_dim:
            c = torch.nn.functional.one_hot(torch.arange(n) % self.c_dim, self.c_dim).float().to(self.device)
        with torch.no_grad():
            self.params["mapping.w_avg"] = self._map(z, c).mean(0)
        self._fingerprint_cache = None

    def _check_ws(self, ws: torch.Tensor) -> torch.Tensor:
        """A W code ``[N, w_dim]`` tiled to W+, or a W+ code ``[N, num_ws, w_dim]``; fp32 on this device."""
        if ws.ndim == 2 and ws.shape[1] == self.w_dim:
            ws = ws.unsqueeze(1).repeat(1, self.num_ws, 1)
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ShapeError(f"ws: expected shape [N, {self.num_ws}, {self.w_dim}], got {list(ws.shape)}")
        return ws.to(self.device, torch.float32)

    def _check_styles(self, styles: torch.Tensor, noise_mode: str) -> torch.Tensor:
        """Validate synthesis_from_styles' arguments; flat S ``[N, style_dim]`` as fp32 on this device."""
        if noise_mode not in NOISE_MODES:
            raise UserInputError(f"unknown noise mode {noise_mode!r}", hint="use const, random or none")
        if styles.ndim != 2 or styles.shape[1] != self.style_dim:
            raise ShapeError(f"styles: expected shape [N, {self.style_dim}], got {list(styles.shape)}")
        return styles.to(self.device, torch.float32)

    def style_affines(self) -> list[StyleAffine]:
        gain = 1.0 / math.sqrt(self.w_dim)
        return [
            StyleAffine(
                layer, self.params[f"{layer.name}.affine.weight"] * gain, self.params[f"{layer.name}.affine.bias"]
            )
            for layer in self.style_layers
        ]

    def style_dict(self, ws: torch.Tensor) -> dict[str, torch.Tensor]:
        """S as ``{layer name: [N, channels]}`` (the reference fixtures' ``s.<layer>`` tensors)."""
        flat = self.styles(ws)
        spans = style_offsets(self.style_layers)
        return {layer.name: flat[:, a:b] for layer, (a, b) in zip(self.style_layers, spans, strict=True)}

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        return self.synthesis_from_styles(self.styles(ws), noise_mode)

    def generate(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        psi: float = 1.0,
        trunc_cutoff: int | None = None,
        noise_mode: str = "const",
    ) -> torch.Tensor:
        """z -> image, like NVIDIA's ``G(z, c, truncation_psi, truncation_cutoff, noise_mode)``."""
        return self.synthesis(self.mapping(z, c, psi, trunc_cutoff), noise_mode)

    def describe(self) -> dict[str, Any]:
        """The base summary plus the backend and where the weights came from (``config.source``)."""
        return {**super().describe(), "backend": self.backend, "source": self.config.source}

    # -- export ---------------------------------------------------------------------------------------

    def _export_metadata(self) -> dict[str, Any]:
        """Metadata beyond the format, the config and the fingerprint (e.g. NVIDIA init kwargs)."""
        return {}

    def save_safetensors(self, path: str | os.PathLike[str]) -> Path:
        """Write NVIDIA-named tensors + the config as JSON metadata (atomically); reloads bit-exactly."""
        from large_toolkit.api import save_tensors

        meta = {
            "format": ARTIFACT_FORMATS[self.backend],
            "config": self.config.to_dict(),
            **self._export_metadata(),
            "fingerprint": self.fingerprint(),
        }
        return save_tensors(path, self.params, meta)
