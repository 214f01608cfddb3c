"""A pure-PyTorch StyleGAN2 generator that reproduces NVIDIA's outputs from their weights.

Weights are held in one dict with exactly the names of NVIDIA's ``G_ema.state_dict()``
(``mapping.fc0.weight``, ``synthesis.b8.conv0.affine.bias``...), so every checkpoint format is
a renaming problem (see :mod:`large_stylegan2.formats`) and the maths lives here only (the mapping
network, truncation and styles, which StyleGAN3 shares, in :mod:`large_stylegan_common`).

StyleSpace layout (``style_layers``), for any resolution R with blocks ``b4 ... bR``::

    synthesis.b4.conv1, synthesis.b4.torgb,
    synthesis.b8.conv0, synthesis.b8.conv1, synthesis.b8.torgb, ...
    synthesis.bR.conv0, synthesis.bR.conv1, synthesis.bR.torgb

(the order the layers run).  Each entry of S is the raw affine output ``A(w)`` of that layer,
``w`` being the W+ row ``StyleLayer.w_index``: b4.conv1 row 0, b4.torgb row 1, and for
``b(2^k)``: conv0 row 2k-5, conv1 row 2k-4, torgb row 2k-3.  ToRGB's extra ``1/sqrt(in)``
weight gain is applied inside synthesis, not stored in S (as in StyleSpace analyses and the
reference fixtures).  With architecture ``orig`` or ``resnet`` only the last block has a ToRGB
(NVIDIA's ``SynthesisBlock``: ``resnet`` adds, from b8 on, a bias-free 1x1 ``skip`` conv of the
block input, upsampled with the block's FIR, and sums it with the conv path, both scaled by
sqrt(1/2); conv1's clamp is scaled by sqrt(1/2) too, the skip conv is never clamped).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from large_stylegan_common import (
    NOISE_MODES,
    ConfigDict,
    StyleGANGenerator,
    full_precision,
    random_mapping_state,
    random_modulated_layer,
)

from large_stylegan2 import ops
from large_stylegan2.fast_path import PackedConv
from large_toolkit.api import (
    Capability,
    CheckpointError,
    ShapeError,
    StyleLayer,
    UserInputError,
    style_offsets,
    use_channels_last,
)

ARCHITECTURES = ("skip", "orig", "resnet")
SQRT_HALF = math.sqrt(0.5)
# Single-image CPU path: a layer modulates its activations and keeps its weight pre-packed (fast_path) when
# the weight has at least this many times the elements of its input; below, folding the style into the
# weight is cheaper (bench/generator_speed.py --reference measures both sides).
PACK_WEIGHT_OVER_INPUT = 0.25


@dataclass
class StyleGAN2Config(ConfigDict):
    """Hyper-parameters that tensor shapes alone do not reveal (the rest is read from shapes).

    ``conv_clamp`` maps a block resolution (as a string, JSON-friendly) to the clamp of its
    layers; absent means no clamp.  ``mapping_lr`` is the mapping's lr multiplier (0.01 in
    every released model), ``architecture`` is ``skip`` (released models), ``orig`` or ``resnet``.
    """

    z_dim: int
    w_dim: int
    c_dim: int
    img_resolution: int
    img_channels: int = 3
    mapping_layers: int = 8
    mapping_lr: float = 0.01
    mapping_activation: str = "lrelu"
    architecture: str = "skip"
    conv_clamp: dict[str, float] = field(default_factory=dict)
    source: str = ""

    def clamp_for(self, res: int) -> float | None:
        value = self.conv_clamp.get(str(res))
        return None if value is None else float(value)

    @property
    def block_resolutions(self) -> list[int]:
        return [2**i for i in range(2, int(math.log2(self.img_resolution)) + 1)]


def infer_config(state: Mapping[str, torch.Tensor], **overrides: Any) -> StyleGAN2Config:
    """Derive dimensions from NVIDIA-named tensor shapes; ``overrides`` supply the rest."""
    if "synthesis.b4.const" not in state or "mapping.fc0.weight" not in state:
        found = ", ".join(sorted(state)[:4]) or "nothing"
        raise CheckpointError(
            "not a StyleGAN2 generator state: expected keys mapping.fc0.weight and synthesis.b4.const, found " + found
        )
    blocks = sorted(
        {int(k.split(".")[1][1:]) for k in state if k.startswith("synthesis.b") and k.split(".")[1][1:].isdigit()}
    )
    resolution = blocks[-1]
    if blocks != [2**i for i in range(2, int(math.log2(resolution)) + 1)]:
        raise CheckpointError(f"StyleGAN2 synthesis blocks are not b4..b{resolution} in powers of two: found {blocks}")
    mapping_layers = len([k for k in state if k.startswith("mapping.fc") and k.endswith(".weight")])
    c_dim, embed = 0, 0
    if "mapping.embed.weight" in state:
        embed, c_dim = state["mapping.embed.weight"].shape
    fc0_in = int(state["mapping.fc0.weight"].shape[1])
    w_dim = int(state[f"mapping.fc{mapping_layers - 1}.weight"].shape[0])
    img_channels = int(state[f"synthesis.b{resolution}.torgb.weight"].shape[0])
    if any(k.startswith("synthesis.b") and k.endswith(".skip.weight") for k in state):
        architecture = "resnet"
    else:
        architecture = "skip" if "synthesis.b4.torgb.weight" in state or resolution == 4 else "orig"
    values: dict[str, Any] = {
        "z_dim": fc0_in - int(embed),
        "w_dim": w_dim,
        "c_dim": int(c_dim),
        "img_resolution": resolution,
        "img_channels": img_channels,
        "mapping_layers": mapping_layers,
        "architecture": architecture,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return StyleGAN2Config(**values)


def _layer_names(config: StyleGAN2Config) -> list[tuple[str, str, int, int]]:
    """``(name, kind, block_res, w_index)`` for every style layer, in execution order."""
    out: list[tuple[str, str, int, int]] = []
    last = config.img_resolution
    for res in config.block_resolutions:
        k = int(math.log2(res))
        if res == 4:
            out.append(("synthesis.b4.conv1", "conv", 4, 0))
        else:
            out.append((f"synthesis.b{res}.conv0", "conv", res, 2 * k - 5))
            out.append((f"synthesis.b{res}.conv1", "conv", res, 2 * k - 4))
        if config.architecture == "skip" or res == last:
            out.append((f"synthesis.b{res}.torgb", "torgb", res, 2 * k - 3))
    return out


class StyleGAN2Generator(StyleGANGenerator):
    """StyleGAN2 (config-f and ADA variants) behind the toolkit's :class:`Generator` interface.

    Build it with :func:`large_stylegan2.load_stylegan2`, :meth:`from_state_dict` (NVIDIA names),
    :meth:`from_rosinality_state_dict` or :meth:`random`.  ``fused_modconv``: ``None`` picks the
    grouped-conv path for batch 1 and the batched path otherwise (both match upstream to ~1e-5).
    """

    capabilities = Capability.STYLE | {Capability.EXPORT}
    config_class, config_from_state = StyleGAN2Config, staticmethod(infer_config)
    backend = "stylegan2"
    config: StyleGAN2Config
    fused_modconv: bool | None = None

    # -- construction ------------------------------------------------------------------------------

    def _complete(self, params: dict[str, torch.Tensor]) -> None:
        config = self.config
        self._layers = _layer_names(config)
        if config.architecture not in ARCHITECTURES:
            raise CheckpointError(
                f"unknown StyleGAN2 architecture {config.architecture!r}", hint=f"expected one of {ARCHITECTURES}"
            )
        self.num_ws = 2 * int(math.log2(self.resolution)) - 2  # the same for every architecture
        self._fill_defaults(params)
        self._check(params)
        self.style_layers = tuple(
            StyleLayer(name, int(params[f"{name}.affine.weight"].shape[0]), idx, kind)
            for name, kind, _, idx in self._layers
        )

    def _fill_defaults(self, params: dict[str, torch.Tensor]) -> None:
        """Add buffers that some formats omit (FIR filters; w_avg becomes the mean of 10k samples)."""
        fir = ops.default_fir()
        for res in self.config.block_resolutions:
            params.setdefault(f"synthesis.b{res}.resample_filter", fir.clone())
            if f"synthesis.b{res}.skip.weight" in params:
                params.setdefault(f"synthesis.b{res}.skip.resample_filter", fir.clone())
            for conv in ("conv0", "conv1"):
                if f"synthesis.b{res}.{conv}.weight" in params:
                    params.setdefault(f"synthesis.b{res}.{conv}.resample_filter", fir.clone())

    def _check(self, params: Mapping[str, torch.Tensor]) -> None:
        required = [*self._mapping_keys(), "synthesis.b4.const"]
        for name, kind, _, _ in self._layers:
            required += [f"{name}.{p}" for p in ("weight", "bias", "affine.weight", "affine.bias")]
            if kind == "conv":
                required += [f"{name}.noise_strength", f"{name}.noise_const"]
        if self.config.architecture == "resnet":
            required += [f"synthesis.b{res}.skip.weight" for res in self.config.block_resolutions[1:]]
        missing = [k for k in required if k not in params]
        if missing:
            raise CheckpointError(
                f"StyleGAN2 weights incomplete: {len(missing)} tensor(s) missing, e.g. {', '.join(missing[:3])}",
                hint="the checkpoint is truncated or not a StyleGAN2 generator",
            )
        self._check_w_avg(params)
        for name, _, _, _ in self._layers:
            aw, w = params[f"{name}.affine.weight"], params[f"{name}.weight"]
            if aw.shape[1] != self.w_dim or aw.shape[0] != w.shape[1]:
                raise CheckpointError(
                    f"{name}: affine {list(aw.shape)} does not fit w_dim {self.w_dim} and conv weight {list(w.shape)}"
                )

    @classmethod
    def from_rosinality_state_dict(
        cls,
        state: Mapping[str, torch.Tensor],
        latent_avg: torch.Tensor | None = None,
        device: str | torch.device = "cpu",
    ) -> StyleGAN2Generator:
        """From a rosinality ``Generator.state_dict()`` (``g_ema``; e4e/pSp ``decoder.*`` with the prefix removed).

        ``latent_avg`` (``[w_dim]``, ``[1, w_dim]`` or ``[num_ws, w_dim]``) becomes ``w_avg``; when
        absent, ``w_avg`` is estimated as the mean of 10,000 mapped samples (seed 0).
        """
        from large_stylegan2.formats import rosinality_to_nvidia

        nv, estimate = rosinality_to_nvidia(state, latent_avg)
        gen = cls(nv, infer_config(nv, source="rosinality"), device)
        if estimate:
            gen.estimate_w_avg()
        return gen

    @classmethod
    def random(
        cls,
        resolution: int = 1024,
        z_dim: int = 512,
        w_dim: int = 512,
        channel_base: int = 32768,
        channel_max: int = 512,
        mapping_layers: int = 8,
        c_dim: int = 0,
        seed: int = 0,
        device: str | torch.device = "cpu",
    ) -> StyleGAN2Generator:
        """Random weights in NVIDIA's shapes (config-f by default): tests and benchmarks, not images."""
        g = torch.Generator().manual_seed(seed)
        ch = {r: min(channel_base // r, channel_max) for r in [2**i for i in range(2, int(math.log2(resolution)) + 1)]}
        sd = random_mapping_state(g, z_dim, w_dim, c_dim, mapping_layers)
        sd["synthesis.b4.const"] = torch.randn(ch[4], 4, 4, generator=g)
        cfg = StyleGAN2Config(z_dim, w_dim, c_dim, resolution, 3, mapping_layers, source="random")
        for name, kind, res, _ in _layer_names(cfg):
            cin = ch[res // 2] if name.endswith("conv0") else ch[res]
            cout, k = (3, 1) if kind == "torgb" else (ch[res], 3)
            sd.update(random_modulated_layer(g, name, cout, cin, k, w_dim))
            if kind == "conv":
                sd[f"{name}.noise_strength"] = torch.zeros(())
                sd[f"{name}.noise_const"] = torch.randn(res, res, generator=g)
        return cls(sd, cfg, device)

    # -- Generator interface ----------------------------------------------------------------------

    def _mapping_settings(self) -> tuple[float, str]:
        return self.config.mapping_lr, self.config.mapping_activation

    @full_precision
    def styles(self, ws: torch.Tensor) -> torch.Tensor:
        ws = self._check_ws(ws)
        gain, p = 1.0 / math.sqrt(self.w_dim), self.params
        # == style_affines()' (W * gain) w + b, with the gain on the product: no weight-sized temporary per call
        return torch.cat(
            [
                torch.addmm(p[f"{s.name}.affine.bias"], ws[:, s.w_index], p[f"{s.name}.affine.weight"].t(), alpha=gain)
                for s in self.style_layers
            ],
            dim=1,
        )

    def synthesis_from_styles(self, styles: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        if noise_mode not in NOISE_MODES:
            raise UserInputError(f"unknown noise mode {noise_mode!r}", hint="use const, random or none")
        if styles.ndim != 2 or styles.shape[1] != self.style_dim:
            raise ShapeError(f"styles: expected shape [N, {self.style_dim}], got {list(styles.shape)}")
        styles = styles.to(self.device, torch.float32)
        per_layer = {
            layer.name: styles[:, a:b]
            for layer, (a, b) in zip(self.style_layers, style_offsets(self.style_layers), strict=True)
        }
        p, n = self.params, styles.shape[0]
        if self._use_single_path(styles):
            return self._synthesis_single(per_layer, noise_mode)
        if self.fused_modconv is None and n > 1 and styles.device.type == "cpu" and self.resolution >= 128:
            # On CPU, large batched activations thrash the caches: one image at a time is faster (bench/).
            return torch.cat([self.synthesis_from_styles(styles[i : i + 1], noise_mode) for i in range(n)])
        fused = (n == 1) if self.fused_modconv is None else self.fused_modconv
        x = p["synthesis.b4.const"].unsqueeze(0).expand(n, -1, -1, -1)
        if use_channels_last(x.device.type):  # cuDNN's NHWC convs; the layout carries through every layer
            x = x.contiguous(memory_format=torch.channels_last)
        img: torch.Tensor | None = None
        for res in self.config.block_resolutions:
            clamp = self.config.clamp_for(res)
            if res > 4 and self.config.architecture == "resnet":
                skip = self._resnet_skip(x, res)
                x = self._conv_layer(x, f"synthesis.b{res}.conv0", per_layer, True, noise_mode, clamp, fused)
                # conv1 with gain sqrt(1/2) and clamp * sqrt(1/2) == sqrt(1/2) * (conv1 with gain 1, clamp)
                x = self._conv_layer(x, f"synthesis.b{res}.conv1", per_layer, False, noise_mode, clamp, fused)
                x = skip + x * SQRT_HALF
            else:
                if res > 4:
                    x = self._conv_layer(x, f"synthesis.b{res}.conv0", per_layer, True, noise_mode, clamp, fused)
                x = self._conv_layer(x, f"synthesis.b{res}.conv1", per_layer, False, noise_mode, clamp, fused)
            name = f"synthesis.b{res}.torgb"
            if name in per_layer:
                if img is not None:
                    img = ops.upfirdn2d_up2(img, p[f"synthesis.b{res}.resample_filter"], 2, 1)
                w = p[f"{name}.weight"]
                s = per_layer[name] * (1.0 / math.sqrt(w.shape[1]))
                y = ops.modulated_conv(
                    x, w, s, demodulate=False, up=False, fir=p[f"synthesis.b{res}.resample_filter"], fused=fused
                )
                y = y + p[f"{name}.bias"].reshape(1, -1, 1, 1)
                if clamp is not None:
                    y = y.clamp(-clamp, clamp)
                img = y if img is None else img + y
        assert img is not None
        return img.contiguous()

    def _use_single_path(self, styles: torch.Tensor) -> bool:
        """The folded channels-last path: one image on CPU, default settings, nothing to differentiate."""
        if styles.shape[0] != 1 or styles.device.type != "cpu" or self.fused_modconv is not None:
            return False
        if self.config.architecture == "resnet":  # its 1x1 skip convs only exist in the general path
            return False
        needs_grad = styles.requires_grad or any(t.requires_grad for t in self.params.values())
        return not (torch.is_grad_enabled() and needs_grad)

    def _single_constants(self) -> tuple[dict[str, torch.Tensor], dict[str, PackedConv]]:
        """Weight-derived tensors and pre-packed convs of the single-image path.

        Rebuilt when a parameter changes (tracked by tensor version).
        """
        key = tuple((k, id(t), t._version) for k, t in self.params.items())
        cached = getattr(self, "_single_cache", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        p, out, convs = self.params, {}, {}
        cl = torch.channels_last
        for name, kind, res, _ in self._layers:
            w = p[f"{name}.weight"]
            if kind == "torgb":
                out[f"{name}.weight"] = w * (1.0 / math.sqrt(w.shape[1]))
                continue
            out[f"{name}.weight_sq"] = w.square().sum(dim=[2, 3])
            out[f"{name}.bias"] = p[f"{name}.bias"] * ops.SQRT2
            noise = p[f"{name}.noise_const"] * (p[f"{name}.noise_strength"] * ops.SQRT2)
            out[f"{name}.noise"] = noise.reshape(1, 1, *noise.shape).contiguous(memory_format=cl)
            up = name.endswith("conv0")
            side = res // 2 if up else res
            if w.numel() >= PACK_WEIGHT_OVER_INPUT * w.shape[1] * side * side:
                shape = (1, w.shape[1], side, side)
                convs[name] = PackedConv(w.transpose(0, 1) if up else w, shape, transposed=up)
            elif up:
                out[f"{name}.weight_t"] = w.transpose(0, 1).contiguous()
            if up:
                fir = (p[f"{name}.resample_filter"] * 4.0).flip([0, 1])
                out[f"{name}.fir"] = fir[None, None].repeat(w.shape[0], 1, 1, 1)
            if res > 4 and f"synthesis.b{res}.torgb.weight" in p:
                fir = p[f"synthesis.b{res}.resample_filter"] * 4.0
                out[f"synthesis.b{res}.skip_fir"] = fir[None, None].repeat(self.img_channels, 1, 1, 1)
        self._single_cache = (key, (out, convs))
        return out, convs

    def _synthesis_single(self, per_layer: Mapping[str, torch.Tensor], noise_mode: str) -> torch.Tensor:
        """One image with :mod:`ops`' single-image kernels (same numbers as the batched path to ~1e-6)."""
        p, (k, convs) = self.params, self._single_constants()
        x = p["synthesis.b4.const"].unsqueeze(0).contiguous(memory_format=torch.channels_last)
        img: torch.Tensor | None = None
        for res in self.config.block_resolutions:
            clamp = self.config.clamp_for(res)
            for conv in ("conv0", "conv1") if res > 4 else ("conv1",):
                name = f"synthesis.b{res}.{conv}"
                s = per_layer[name][0]
                if conv == "conv0":
                    weight_t = convs.get(name) or k[f"{name}.weight_t"]
                    x = ops.modulated_conv_up2_single(
                        x, weight_t, k[f"{name}.weight_sq"], s, ops.SQRT2, k[f"{name}.fir"], k[f"{name}.bias"]
                    )
                else:
                    weight = convs.get(name) or p[f"{name}.weight"]
                    x = ops.modulated_conv_single(x, weight, k[f"{name}.weight_sq"], s, ops.SQRT2, k[f"{name}.bias"])
                if noise_mode == "const":
                    x.add_(k[f"{name}.noise"])
                elif noise_mode == "random":
                    x.add_(torch.randn(1, 1, *x.shape[2:]) * (p[f"{name}.noise_strength"] * ops.SQRT2))
                x = torch.nn.functional.leaky_relu_(x, 0.2)
                if clamp is not None:
                    x.clamp_(-clamp, clamp)
            name = f"synthesis.b{res}.torgb"
            if name in per_layer:
                y = ops.torgb_single(x, k[f"{name}.weight"], per_layer[name][0], p[f"{name}.bias"])
                if clamp is not None:
                    y = y.clamp(-clamp, clamp)
                img = y if img is None else ops.upsample2_skip(img, k[f"synthesis.b{res}.skip_fir"]).add_(y)
        assert img is not None
        return img.contiguous()

    def _resnet_skip(self, x: torch.Tensor, res: int) -> torch.Tensor:
        """NVIDIA's ``skip`` Conv2dLayer (1x1, no bias, linear, up 2): conv, then FIR upsampling, gain sqrt(1/2)."""
        p = self.params
        w = p[f"synthesis.b{res}.skip.weight"]
        y = torch.nn.functional.conv2d(x, w * (1.0 / math.sqrt(w.shape[1])))
        return ops.upfirdn2d_up2(y, p[f"synthesis.b{res}.skip.resample_filter"], 2, 1) * SQRT_HALF

    def _conv_layer(
        self,
        x: torch.Tensor,
        name: str,
        styles: Mapping[str, torch.Tensor],
        up: bool,
        noise_mode: str,
        clamp: float | None,
        fused: bool,
    ) -> torch.Tensor:
        p = self.params
        y = ops.modulated_conv(
            x, p[f"{name}.weight"], styles[name], demodulate=True, up=up, fir=p[f"{name}.resample_filter"], fused=fused
        )
        if noise_mode == "const":
            y = y + p[f"{name}.noise_const"] * p[f"{name}.noise_strength"]
        elif noise_mode == "random":
            noise = torch.randn(y.shape[0], 1, y.shape[2], y.shape[3], device=y.device, dtype=y.dtype)
            y = y + noise * p[f"{name}.noise_strength"]
        return ops.bias_act_lrelu(y, p[f"{name}.bias"], clamp)

    # -- conveniences ---------------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        cfg = self.config
        return {
            **super().describe(),
            "architecture": cfg.architecture,
            "conv_clamp": cfg.conv_clamp,
            "mapping_layers": cfg.mapping_layers,
        }
