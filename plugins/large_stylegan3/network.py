"""A pure-PyTorch StyleGAN3 generator (configs T and R) that reproduces NVIDIA's outputs from their weights.

Weights live in one dict named exactly like NVIDIA's ``G_ema.state_dict()`` (``mapping.fc0.weight``,
``synthesis.input.freqs``, ``synthesis.L5_84_512.up_filter`` ...), so loaders only rename/read and the
maths lives here, in :mod:`large_stylegan3.ops` and, for the mapping network, truncation and styles
StyleGAN2 shares, in :mod:`large_stylegan_common`.  Sizes, sampling rates, up/down factors and
paddings are recomputed from the config with the upstream schedule (research notes 4.2-4.4) and
checked against the layer names found in the weights; the designed FIR filters are taken from the
stored buffers (only designed when absent), so R's radial filters are bit-identical to the file.

StyleSpace layout (``style_layers``; S is their concatenation in this order)::

    synthesis.input      4 channels  kind "input"  w_index 0    raw affine output t = (cos, sin, tx, ty)
                                                                  before normalisation (the geometry styles)
    synthesis.L0_...     in_ch       kind "conv"   w_index 1
    ...
    synthesis.L13_...    in_ch       kind "conv"   w_index 14
    synthesis.L14_...    in_ch       kind "torgb"  w_index 15

Every entry is the raw affine output ``A(w)`` of that layer (ToRGB's ``1/sqrt(in_ch)`` weight gain is
applied inside synthesis, not stored in S), matching the reference fixtures' ``s.<layer>`` tensors.
``noise_mode`` is accepted for interface compatibility and ignored: StyleGAN3 has no noise inputs.

The user transform (``gen_images.py --translate/--rotate``) is *not* a weight: a checkpoint's stored
``synthesis.input.transform`` is reset to the identity on load, and :meth:`StyleGAN3Generator.set_input_transform`
sets the matrix used by synthesis (stored inverted, as upstream expects).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from large_stylegan_common import (
    ConfigDict,
    StyleGANGenerator,
    full_precision,
    random_mapping_state,
    random_modulated_layer,
)

from large_stylegan3 import ops
from large_toolkit.api import Capability, CheckpointError, ShapeError, StyleLayer, UserInputError, style_offsets

LAYER_RE = re.compile(r"^synthesis\.L(\d+)_(\d+)_(\d+)\.weight$")

#: NVIDIA ``Generator`` / ``SynthesisNetwork`` kwargs that map 1:1 onto :class:`StyleGAN3Config` fields
#: (the mapping's depth and ``conv_clamp`` live elsewhere upstream: ``mapping_kwargs``, the layers' state).
INIT_KWARG_FIELDS = (
    "z_dim",
    "w_dim",
    "c_dim",
    "img_resolution",
    "img_channels",
    "channel_base",
    "channel_max",
    "num_layers",
    "num_critical",
    "first_cutoff",
    "first_stopband",
    "last_stopband_rel",
    "margin_size",
    "output_scale",
    "num_fp16_res",
    "conv_kernel",
    "use_radial_filters",
    "filter_size",
    "lrelu_upsampling",
    "magnitude_ema_beta",
)


@dataclass
class StyleGAN3Config(ConfigDict):
    """Hyper-parameters of a StyleGAN3 generator; names follow NVIDIA's constructor kwargs.

    Defaults are the upstream ones, so a pickle's ``init_kwargs`` (which omit defaults) map directly.
    ``conv_clamp`` None disables clamping (upstream default 256).  ``magnitude_ema_beta`` and
    ``num_fp16_res`` only matter for training / CUDA fp16 and are kept as metadata.
    """

    z_dim: int
    w_dim: int
    img_resolution: int
    c_dim: int = 0
    img_channels: int = 3
    mapping_layers: int = 2
    channel_base: int = 32768
    channel_max: int = 512
    num_layers: int = 14
    num_critical: int = 2
    first_cutoff: float = 2.0
    first_stopband: float = 2**2.1
    last_stopband_rel: float = 2**0.3
    margin_size: int = 10
    output_scale: float = 0.25
    num_fp16_res: int = 4
    conv_kernel: int = 3
    use_radial_filters: bool = False
    filter_size: int = 6
    lrelu_upsampling: int = 2
    conv_clamp: float | None = 256.0
    magnitude_ema_beta: float = 0.999
    source: str = ""

    def init_kwargs(self) -> dict[str, Any]:
        """The NVIDIA ``Generator(**kwargs)`` equivalent (for provenance and interchange)."""
        kwargs = {name: getattr(self, name) for name in INIT_KWARG_FIELDS}
        kwargs.update(mapping_kwargs={"num_layers": self.mapping_layers}, conv_clamp=self.conv_clamp)
        return kwargs

    @property
    def config_name(self) -> str:
        return "R" if self.conv_kernel == 1 and self.use_radial_filters else "T" if self.conv_kernel == 3 else "custom"


@dataclass(frozen=True)
class LayerSpec:
    """Geometry of one ``SynthesisLayer`` as the upstream constructor derives it (notes 4.2-4.4)."""

    index: int
    name: str  # L{i}_{size}_{channels}, without the "synthesis." prefix
    in_channels: int
    out_channels: int
    in_size: int
    out_size: int
    in_sampling_rate: float
    out_sampling_rate: float
    tmp_sampling_rate: float
    in_cutoff: float
    out_cutoff: float
    in_half_width: float
    out_half_width: float
    up: int
    down: int
    up_taps: int
    down_taps: int
    down_radial: bool
    padding: tuple[int, int, int, int]
    is_torgb: bool
    is_critical: bool


@dataclass(frozen=True)
class InputSpec:
    """``SynthesisInput`` geometry: always 36x36 at sampling rate 16 with the default schedule."""

    channels: int
    size: int
    sampling_rate: float
    bandwidth: float


def schedule(config: StyleGAN3Config, channels: list[int] | None = None) -> tuple[InputSpec, list[LayerSpec]]:
    """The per-layer cutoffs, sampling rates, sizes, channels, factors and paddings.

    ``channels`` (length ``num_layers + 1``) overrides the ``channel_base``/``channel_max`` formula, so a
    state dict without its kwargs still gets its own channel counts (read from the weight shapes).
    """
    n, res = config.num_layers, config.img_resolution
    last_cutoff = res / 2
    last_stopband = last_cutoff * config.last_stopband_rel
    exps = np.minimum(np.arange(n + 1) / (n - config.num_critical), 1)
    cutoffs = config.first_cutoff * (last_cutoff / config.first_cutoff) ** exps
    stopbands = config.first_stopband * (last_stopband / config.first_stopband) ** exps
    rates = np.exp2(np.ceil(np.log2(np.minimum(stopbands * 2, res))))
    half_widths = np.maximum(stopbands, rates / 2) - cutoffs
    sizes = rates + config.margin_size * 2
    sizes[-2:] = res
    if channels is None:
        ch = np.rint(np.minimum((config.channel_base / 2) / cutoffs, config.channel_max)).astype(int).tolist()
        ch[-1] = config.img_channels
    else:
        ch = [int(c) for c in channels]
    inp = InputSpec(int(ch[0]), int(sizes[0]), float(rates[0]), float(cutoffs[0]))
    layers = []
    for i in range(n + 1):
        prev = max(i - 1, 0)
        torgb = i == n
        k = 1 if torgb else config.conv_kernel
        critical = i >= n - config.num_critical
        in_rate, out_rate = float(rates[prev]), float(rates[i])
        tmp_rate = max(in_rate, out_rate) * (1 if torgb else config.lrelu_upsampling)
        up = round(tmp_rate / in_rate)
        down = round(tmp_rate / out_rate)
        up_taps = config.filter_size * up if up > 1 and not torgb else 1
        down_taps = config.filter_size * down if down > 1 and not torgb else 1
        in_size, out_size = int(sizes[prev]), int(sizes[i])
        pad_total = (out_size - 1) * down + 1 - (in_size + k - 1) * up + up_taps + down_taps - 2
        pad_lo = (pad_total + up) // 2
        pad_hi = pad_total - pad_lo
        layers.append(
            LayerSpec(
                index=i,
                name=f"L{i}_{out_size}_{ch[i]}",
                in_channels=int(ch[prev]),
                out_channels=int(ch[i]),
                in_size=in_size,
                out_size=out_size,
                in_sampling_rate=in_rate,
                out_sampling_rate=out_rate,
                tmp_sampling_rate=tmp_rate,
                in_cutoff=float(cutoffs[prev]),
                out_cutoff=float(cutoffs[i]),
                in_half_width=float(half_widths[prev]),
                out_half_width=float(half_widths[i]),
                up=up,
                down=down,
                up_taps=up_taps,
                down_taps=down_taps,
                down_radial=bool(config.use_radial_filters and not critical),
                padding=(pad_lo, pad_hi, pad_lo, pad_hi),
                is_torgb=torgb,
                is_critical=critical,
            )
        )
    return inp, layers


def layer_names_in(state: Mapping[str, Any]) -> list[tuple[int, int, int]]:
    """``(index, size, channels)`` of every ``synthesis.L{i}_{size}_{ch}`` layer in a state dict, by index."""
    found = []
    for key in state:
        m = LAYER_RE.match(key)
        if m:
            found.append((int(m.group(1)), int(m.group(2)), int(m.group(3))))
    return sorted(found)


def infer_config(state: Mapping[str, torch.Tensor], **overrides: Any) -> StyleGAN3Config:
    """Derive a config from NVIDIA-named tensor shapes; ``overrides`` (e.g. pickle kwargs) win."""
    layers = layer_names_in(state)
    if not layers or "synthesis.input.freqs" not in state or "mapping.fc0.weight" not in state:
        found = ", ".join(sorted(state)[:4]) or "nothing"
        raise CheckpointError(
            "not a StyleGAN3 generator state: expected mapping.fc0.weight, synthesis.input.freqs and "
            f"synthesis.L<i>_<size>_<ch>.* layers, found {found}"
        )
    if [i for i, _, _ in layers] != list(range(len(layers))):
        raise CheckpointError(f"StyleGAN3 layers are not numbered 0..N: found indices {[i for i, _, _ in layers]}")
    mapping_layers = len([k for k in state if re.fullmatch(r"mapping\.fc\d+\.weight", k)])
    c_dim = int(state["mapping.embed.weight"].shape[1]) if "mapping.embed.weight" in state else 0
    w_dim = int(state[f"mapping.fc{mapping_layers - 1}.weight"].shape[0])
    z_dim = int(state["mapping.fc0.weight"].shape[1]) - (w_dim if c_dim else 0)
    last = layers[-1]
    first_w = state[f"synthesis.L0_{layers[0][1]}_{layers[0][2]}.weight"]
    radial = any(k.endswith(".down_filter") and v is not None and v.ndim == 2 for k, v in state.items())
    values: dict[str, Any] = {
        "z_dim": z_dim,
        "w_dim": w_dim,
        "c_dim": c_dim,
        "img_resolution": last[1],
        "img_channels": last[2],
        "mapping_layers": mapping_layers,
        "num_layers": len(layers) - 1,
        "conv_kernel": int(first_w.shape[-1]),
        "use_radial_filters": radial,
    }
    values.update({k: v for k, v in overrides.items() if v is not None or k == "conv_clamp"})
    return StyleGAN3Config(**values)


def released_config(resolution: int, cfg: str = "T", **fields: Any) -> StyleGAN3Config:
    """The settings NVIDIA's released StyleGAN3-T/-R models were trained with (``train.py --cfg stylegan3-t/-r``).

    Channels: ``--cbase`` 16384 up to 256 px and 32768 above, doubled for R, ``--cmax`` 512 (R: 1024);
    R has 1x1 convolutions and radial down filters.  ``fields`` set the rest (``z_dim``/``w_dim`` default 512).
    """
    cfg = cfg.upper()
    if cfg not in ("T", "R"):
        raise UserInputError(f"unknown StyleGAN3 config {cfg!r}", hint="use T or R")
    radial = cfg == "R"
    return StyleGAN3Config(
        img_resolution=resolution,
        channel_base=(16384 if resolution <= 256 else 32768) * (2 if radial else 1),
        channel_max=1024 if radial else 512,
        conv_kernel=1 if radial else 3,
        use_radial_filters=radial,
        **{"z_dim": 512, "w_dim": 512, **fields},
    )


def make_transform(translate: tuple[float, float] = (0.0, 0.0), angle: float = 0.0) -> torch.Tensor:
    """``gen_images.py``'s matrix: rotation by ``angle`` degrees and translation, in image-width units."""
    s, c = math.sin(angle / 360 * 2 * math.pi), math.cos(angle / 360 * 2 * math.pi)
    return torch.tensor([[c, s, translate[0]], [-s, c, translate[1]], [0.0, 0.0, 1.0]], dtype=torch.float64)


class StyleGAN3Generator(StyleGANGenerator):
    """StyleGAN3 (configs T and R, any resolution) behind the toolkit's :class:`Generator` interface.

    Build it with :func:`large_stylegan3.load_stylegan3`, :meth:`from_state_dict` or :meth:`random`.
    ``reference_ops=True`` swaps in the dense reference filtered-lReLU (benchmarks, cross-checks).
    """

    # StyleGAN3 has no noise inputs; its input layer takes a translate/rotate transform.
    capabilities = (Capability.STYLE - {Capability.NOISE}) | {Capability.INPUT_TRANSFORM, Capability.EXPORT}
    config_class, config_from_state = StyleGAN3Config, staticmethod(infer_config)
    backend = "stylegan3"
    config: StyleGAN3Config
    reference_ops = False

    # -- construction ------------------------------------------------------------------------------

    def _complete(self, params: dict[str, torch.Tensor]) -> None:
        config = self.config
        self.num_ws = config.num_layers + 2
        found = layer_names_in(params)
        channels = [c for _, _, c in found] if len(found) == config.num_layers + 1 else None
        self.input_spec, self.layers = schedule(config, channels)
        self._check_and_fill(params)
        # The stored transform is user state (gen_images writes it); the weights carry the identity.
        params["synthesis.input.transform"] = torch.eye(3)
        self._transform: torch.Tensor = torch.eye(3)  # the user transform (moved by to())
        in_layer = StyleLayer("synthesis.input", 4, 0, "input")
        self.style_layers = (
            in_layer,
            *(
                StyleLayer(
                    f"synthesis.{spec.name}", spec.in_channels, spec.index + 1, "torgb" if spec.is_torgb else "conv"
                )
                for spec in self.layers
            ),
        )

    def _check_and_fill(self, params: dict[str, torch.Tensor]) -> None:
        cfg = self.config
        required = self._mapping_keys()
        required += [f"synthesis.input.{p}" for p in ("weight", "affine.weight", "affine.bias", "freqs", "phases")]
        for spec in self.layers:
            required += [f"synthesis.{spec.name}.{p}" for p in ("weight", "bias", "affine.weight", "affine.bias")]
        missing = [k for k in required if k not in params]
        if missing:
            names = ", ".join(f"L{s.index}_{s.out_size}_{s.out_channels}" for s in self.layers[:3])
            raise CheckpointError(
                f"StyleGAN3 weights incomplete: {len(missing)} tensor(s) missing, e.g. {', '.join(missing[:3])}",
                hint=f"the schedule for this config names layers {names}...; the file is truncated, "
                "or its schedule settings (num_layers, margin_size, ...) differ from the defaults",
            )
        for spec in self.layers:
            p = f"synthesis.{spec.name}"
            w = params[f"{p}.weight"]
            k = cfg.conv_kernel if not spec.is_torgb else 1
            if tuple(w.shape) != (spec.out_channels, spec.in_channels, k, k):
                raise CheckpointError(
                    f"{p}.weight: expected [{spec.out_channels}, {spec.in_channels}, {k}, {k}], got {list(w.shape)}"
                )
            aw = params[f"{p}.affine.weight"]
            if tuple(aw.shape) != (spec.in_channels, self.w_dim):
                raise CheckpointError(
                    f"{p}.affine.weight: expected [{spec.in_channels}, {self.w_dim}], got {list(aw.shape)}"
                )
            params.setdefault(f"{p}.magnitude_ema", torch.ones(()))
            if f"{p}.up_filter" not in params:
                f = ops.design_lowpass_filter(
                    spec.up_taps, spec.in_cutoff, spec.in_half_width * 2, spec.tmp_sampling_rate
                )
                if f is not None:
                    params[f"{p}.up_filter"] = f
            if f"{p}.down_filter" not in params:
                f = ops.design_lowpass_filter(
                    spec.down_taps, spec.out_cutoff, spec.out_half_width * 2, spec.tmp_sampling_rate, spec.down_radial
                )
                if f is not None:
                    params[f"{p}.down_filter"] = f
            for which, taps in (("up_filter", spec.up_taps), ("down_filter", spec.down_taps)):
                f = params.get(f"{p}.{which}")
                if (f is None) != (taps == 1) or (f is not None and f.shape[0] != taps):
                    got = None if f is None else list(f.shape)
                    raise CheckpointError(f"{p}.{which}: expected {taps} taps, got {got}")
        self._check_w_avg(params)

    @classmethod
    def random(
        cls,
        resolution: int = 256,
        cfg: str = "T",
        z_dim: int = 512,
        w_dim: int = 512,
        channel_base: int | None = None,
        channel_max: int | None = None,
        c_dim: int = 0,
        seed: int = 0,
        device: str | torch.device = "cpu",
    ) -> StyleGAN3Generator:
        """Random weights in NVIDIA's shapes (``cfg`` T or R, released channel settings by default).

        For tests and benchmarks, not images: filters are designed, everything else is Gaussian.
        """
        config = released_config(resolution, cfg, z_dim=z_dim, w_dim=w_dim, c_dim=c_dim, source="random")
        config.channel_base = channel_base or config.channel_base
        config.channel_max = channel_max or config.channel_max
        inp, layers = schedule(config)
        g = torch.Generator().manual_seed(seed)
        sd = random_mapping_state(g, z_dim, w_dim, c_dim, config.mapping_layers)
        freqs = torch.randn(inp.channels, 2, generator=g)
        radii = freqs.square().sum(dim=1, keepdim=True).sqrt()
        sd["synthesis.input.freqs"] = freqs / (radii * radii.square().exp().pow(0.25)) * inp.bandwidth
        sd["synthesis.input.phases"] = torch.rand(inp.channels, generator=g) - 0.5
        sd["synthesis.input.weight"] = torch.randn(inp.channels, inp.channels, generator=g)
        sd["synthesis.input.affine.weight"] = torch.randn(4, w_dim, generator=g) * 0.1
        sd["synthesis.input.affine.bias"] = torch.tensor([1.0, 0.0, 0.0, 0.0])
        for spec in layers:
            k = 1 if spec.is_torgb else config.conv_kernel
            p = f"synthesis.{spec.name}"
            sd.update(random_modulated_layer(g, p, spec.out_channels, spec.in_channels, k, w_dim))
            sd[f"{p}.magnitude_ema"] = torch.ones(())
        return cls(sd, config, device)

    # -- Generator interface ----------------------------------------------------------------------

    def to(self, device: torch.device | str) -> StyleGAN3Generator:
        super().to(device)
        self._transform = self._transform.to(device)
        return self

    @full_precision
    def styles(self, ws: torch.Tensor) -> torch.Tensor:
        ws = self._check_ws(ws)
        return torch.cat([ws[:, a.layer.w_index].matmul(a.weight.t()) + a.bias for a in self.style_affines()], dim=1)

    def synthesis_from_styles(self, styles: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        styles = self._check_styles(styles, noise_mode)
        spans = style_offsets(self.style_layers)
        a, b = spans[0]
        x = self.input_features(styles[:, a:b])
        for spec, (a, b) in zip(self.layers, spans[1:], strict=True):
            x = self.layer_forward(spec, x, styles[:, a:b])
        return x * self.config.output_scale

    # -- the two building blocks (public for tests and per-layer analyses) ------------------------------

    def input_features(self, t: torch.Tensor) -> torch.Tensor:
        """``SynthesisInput``: Fourier features rotated/translated by the geometry styles ``t`` ``[N, 4]``."""
        p, spec = self.params, self.input_spec
        t = t / t[:, :2].norm(dim=1, keepdim=True)
        n = t.shape[0]
        eye = torch.eye(3, device=t.device, dtype=t.dtype)
        m_r = eye.repeat(n, 1, 1)
        m_r[:, 0, 0], m_r[:, 0, 1], m_r[:, 1, 0], m_r[:, 1, 1] = t[:, 0], -t[:, 1], t[:, 1], t[:, 0]
        m_t = eye.repeat(n, 1, 1)
        m_t[:, 0, 2], m_t[:, 1, 2] = -t[:, 2], -t[:, 3]
        transform = m_r @ m_t @ self._transform.to(t.dtype).unsqueeze(0)
        freqs, phases = p["synthesis.input.freqs"], p["synthesis.input.phases"]
        phases = phases.unsqueeze(0) + (freqs.unsqueeze(0) @ transform[:, :2, 2:]).squeeze(2)  # [N, C]
        freqs = freqs.unsqueeze(0) @ transform[:, :2, :2]  # [N, C, 2]
        amp = (1 - (freqs.norm(dim=2) - spec.bandwidth) / (spec.sampling_rate / 2 - spec.bandwidth)).clamp(0, 1)
        coords = (torch.arange(spec.size, device=t.device, dtype=t.dtype) + 0.5 - spec.size / 2) / spec.sampling_rate
        gy, gx = torch.meshgrid(coords, coords, indexing="ij")
        grid = torch.stack([gx, gy], dim=-1)  # [H, W, 2], x first (affine_grid convention)
        x = torch.einsum("hwk,nck->nhwc", grid, freqs) + phases[:, None, None, :]
        x = torch.sin(x * (2 * math.pi)) * amp[:, None, None, :]
        weight = p["synthesis.input.weight"]
        x = x @ (weight / math.sqrt(spec.channels)).t()
        return x.permute(0, 3, 1, 2).contiguous()

    def layer_forward(self, spec: LayerSpec, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """One ``SynthesisLayer``: modulated conv (demod except ToRGB, input gain) + filtered leaky ReLU."""
        p = self.params
        name = f"synthesis.{spec.name}"
        w = p[f"{name}.weight"]
        k = w.shape[-1]
        if spec.is_torgb:
            s = s * (1.0 / math.sqrt(w.shape[1] * k * k))
        out_scale = p[f"{name}.magnitude_ema"].rsqrt().expand(s.shape[0], w.shape[0])
        if not spec.is_torgb:
            wsq = w.square().sum(dim=(2, 3))  # [O, I]
            out_scale = out_scale * (s.square() @ wsq.t() + 1e-8).rsqrt()
        # Non-fused form: scale inputs by s, one shared conv for the batch, scale outputs by demod * gain.
        x = x * s[:, :, None, None].to(x.dtype)
        x = torch.einsum("oi,nihw->nohw", w[:, :, 0, 0], x) if k == 1 else F.conv2d(x, w, padding=k - 1)
        x = x * out_scale[:, :, None, None]
        fl = ops.filtered_lrelu_reference if self.reference_ops else ops.filtered_lrelu
        gain, slope = (1.0, 1.0) if spec.is_torgb else (math.sqrt(2.0), 0.2)
        return fl(
            x,
            p[f"{name}.bias"],
            p.get(f"{name}.up_filter"),
            p.get(f"{name}.down_filter"),
            spec.up,
            spec.down,
            spec.padding,
            gain,
            slope,
            self.config.conv_clamp,
        )

    # -- user transform ---------------------------------------------------------------------------------

    def set_input_transform(self, translate: tuple[float, float] = (0.0, 0.0), rotate: float = 0.0) -> None:
        """Translate (image-width units; +x right, +y down) and rotate (degrees, counter-clockwise) the output.

        Same convention as NVIDIA ``gen_images.py --translate X,Y --rotate DEG``: the input layer gets
        ``inv(make_transform(translate, rotate))``.  ``(0, 0), 0`` restores the identity.
        """
        m = torch.linalg.inv(make_transform((float(translate[0]), float(translate[1])), float(rotate)))
        self._transform = m.to(torch.float32).to(self.device)

    @property
    def input_transform(self) -> torch.Tensor:
        """The ``[3, 3]`` matrix the input layer uses (upstream's ``synthesis.input.transform``; inverse form)."""
        return self._transform

    @input_transform.setter
    def input_transform(self, matrix: torch.Tensor) -> None:
        matrix = torch.as_tensor(matrix, dtype=torch.float32)
        if matrix.shape != (3, 3):
            raise ShapeError(f"input transform: expected shape [3, 3], got {list(matrix.shape)}")
        self._transform = matrix.to(self.device)

    # -- conveniences ---------------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        cfg = self.config
        return {
            **super().describe(),
            "config": cfg.config_name,
            "conv_kernel": cfg.conv_kernel,
            "radial_filters": cfg.use_radial_filters,
            "layers": [spec.name for spec in self.layers],
        }

    def _export_metadata(self) -> dict[str, Any]:
        return {"init_kwargs": self.config.init_kwargs()}
