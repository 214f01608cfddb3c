"""Discriminator-feature reconstruction loss: the checkpoint's own D as a perceptual metric.

Why: LPIPS needs VGG weights the user must supply, but every NVIDIA training snapshot
(``network-snapshot-*.pkl``) and our own trainer's ``training-state.safetensors`` already hold the
discriminator trained on exactly the images being inverted.  Its intermediate activations are a
domain-specific perceptual space that costs nothing to obtain and works fully offline.

Sources, read through the restricted readers only (nothing from a pickle is executed):

* NVIDIA stylegan2-ada / stylegan3 network pickles: ``D`` next to ``G_ema``, a ``Discriminator``
  with resnet blocks (``b{res}.fromrgb/conv0/conv1/skip``, ``b4.conv/fc/out``).  ``conv_clamp`` and the
  minibatch-stddev settings are read from the pickled module state; the NVIDIA operation order is used.
* Our trainer's ``training-state.safetensors``: the ``D.*`` tensors, run in the trainer's order.

Differences from running NVIDIA's module, by design:

* Always float32: NVIDIA runs the top ``num_fp16_res`` blocks in fp16 (with the clamp as overflow
  guard); fp32 differs by fp16 rounding only.
* Only the resnet architecture (the default of every published SG2-ADA/SG3 config) is accepted.
* Conditional D (``c_dim`` > 0): the trunk used here never sees the label (NVIDIA only projects the
  final ``out`` onto the label embedding), so the features are those of the trained network.
* ``b4.conv`` / ``b4.fc`` sit after minibatch-stddev, which mixes the images of a group.  For a loss they
  are computed with group size 1 so each image's loss depends on that image alone (batch-size-invariant
  projection and per-image early stopping); the std channel is then a constant, unlike in training.
  The default layers are therefore the block outputs above 4x4, which contain no cross-image term.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from large_toolkit.api import CheckpointError, UserInputError

NORMS = ("l2", "l1")


@dataclass
class DiscriminatorWeights:
    """D tensors plus the settings needed to run them as they were trained."""

    params: dict[str, torch.Tensor]
    layout: str  # "nvidia" or "trainer"
    resolution: int
    conv_clamp: float | None = None
    mbstd_group: int = 4
    mbstd_channels: int = 1
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def layer_names(self) -> list[str]:
        from large_stylegan2 import discriminator_block_names

        return discriminator_block_names(self.resolution)

    def digest(self) -> str:
        """Content hash (tensors + settings), so resumable jobs notice a different D."""
        h = hashlib.sha256(f"{self.layout},{self.conv_clamp},{self.mbstd_group},{self.mbstd_channels}".encode())
        for k in sorted(self.params):
            h.update(k.encode())
            h.update(self.params[k].detach().cpu().contiguous().numpy().tobytes())
        return h.hexdigest()[:16]


def _trunk_params(state: dict[str, Any], where: str) -> dict[str, torch.Tensor]:
    """Float tensors of the D trunk and heads; drops ``resample_filter`` buffers after checking them."""
    from large_stylegan2 import default_fir

    fir = default_fir()
    out: dict[str, torch.Tensor] = {}
    for k, v in state.items():
        if not isinstance(v, torch.Tensor):
            continue
        if k.endswith("resample_filter"):
            if v.shape != fir.shape or not torch.allclose(v.float(), fir, atol=1e-6):
                raise CheckpointError(f"{where}: {k} is not the [1,3,3,1] filter every resnet D uses")
            continue
        out[k] = v.detach().to("cpu", torch.float32)
    return out


def _resolution_of(params: dict[str, torch.Tensor], where: str) -> int:
    tops = [int(k[1:].split(".")[0]) for k in params if k.startswith("b") and k.endswith(".fromrgb.weight")]
    if len(tops) != 1:
        raise CheckpointError(
            f"{where}: expected exactly one fromrgb layer (resnet D), found {len(tops)}",
            hint="only architecture='resnet' discriminators are supported",
        )
    return tops[0]


def _from_record(record: Any, where: str) -> DiscriminatorWeights:
    from large_toolkit.api import persistent_state_dict

    if getattr(record, "class_name", "") != "Discriminator":
        kind = getattr(record, "class_name", type(record).__name__)
        raise CheckpointError(f"{where}: 'D' is a {kind}, not a Discriminator")
    params = _trunk_params(persistent_state_dict(record), where)
    res = _resolution_of(params, where)
    top = record.submodule(f"b{res}")
    arch = top.attr("architecture") if top is not None else None
    if arch != "resnet":
        raise CheckpointError(f"{where}: D architecture is {arch!r}", hint="only architecture='resnet' is supported")
    conv = record.submodule(f"b{res}.conv0")
    clamp = conv.attr("conv_clamp") if conv is not None else record.init_kwargs.get("conv_clamp")
    mbstd = record.submodule("b4.mbstd")
    group = mbstd.attr("group_size") if mbstd is not None else None
    channels = mbstd.attr("num_channels") if mbstd is not None else 1
    params = {k: v for k, v in params.items() if not k.startswith("mapping.")}
    return DiscriminatorWeights(
        params,
        "nvidia",
        res,
        float(clamp) if clamp is not None else None,
        int(group) if group is not None else 1 << 30,  # None = whole batch in NVIDIA's layer
        int(channels or 1),
        where,
        {"c_dim": record.init_kwargs.get("c_dim", 0), "num_fp16_res": record.init_kwargs.get("num_fp16_res", 0)},
    )


def load_discriminator(path: str | os.PathLike[str]) -> DiscriminatorWeights:
    """D from an NVIDIA network pickle or from our trainer's ``training-state.safetensors``."""
    from large_toolkit.api import read_checkpoint, sniff_format

    where = str(path)
    if not os.path.isfile(where):
        raise UserInputError(f"discriminator file not found: {where}")
    if sniff_format(where) == "safetensors":
        from large_toolkit.api import read_safetensors

        tensors, _meta = read_safetensors(where)
        state = {k[2:]: v for k, v in tensors.items() if k.startswith("D.")}
        if not state:
            raise CheckpointError(f"{where} holds no D.* tensors", hint="pass a training-state.safetensors or a .pkl")
        params = _trunk_params(state, where)
        return DiscriminatorWeights(params, "trainer", _resolution_of(params, where), source=where)
    data = read_checkpoint(where)
    if isinstance(data, tuple):
        raise CheckpointError(
            f"{where} is a TF-era (G, D, Gs) pickle", hint="convert it with stylegan2-ada-pytorch's legacy.py first"
        )
    if not isinstance(data, dict) or "D" not in data:
        raise CheckpointError(
            f"{where} has no discriminator ('D' entry)",
            hint="use a full training snapshot (network-snapshot-*.pkl), not a G-only export or TF pickle",
        )
    return _from_record(data["D"], where)


class DiscriminatorFeatureLoss:
    """Per-image distance between D activations of two image batches (sum over layers of mean |.|^p)."""

    def __init__(
        self, weights: DiscriminatorWeights, layers: list[str] | None = None, norm: str = "l2", device: str = "cpu"
    ) -> None:
        if norm not in NORMS:
            raise UserInputError(f"unknown d_norm {norm!r}", hint=f"use one of {', '.join(NORMS)}")
        names = weights.layer_names()
        chosen = layers or [n for n in names if not n.startswith("b4")]
        bad = [n for n in chosen if n not in names]
        if bad:
            raise UserInputError(f"unknown discriminator layer(s) {bad}", hint=f"choose from {', '.join(names)}")
        self.weights = weights
        self.layers = [n for n in names if n in chosen]  # shallow-to-deep order, duplicates dropped
        self.norm = norm
        self.params = {k: v.to(device) for k, v in weights.params.items()}

    def features(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Activations of the chosen layers for [-1,1] images, resized (area/bilinear) to D's resolution."""
        from large_stylegan2 import discriminator_features_per_block as features_per_block

        res = self.weights.resolution
        if images.shape[-1] > res:
            images = F.interpolate(images, size=(res, res), mode="area")
        elif images.shape[-1] < res:
            images = F.interpolate(images, size=(res, res), mode="bilinear", align_corners=False)
        w = self.weights
        feats = features_per_block(
            self.params,
            images,
            layout=w.layout,
            conv_clamp=w.conv_clamp,
            mbstd_group=1,
            mbstd_channels=w.mbstd_channels,
            upto=self.layers[-1],
        )
        return {k: feats[k] for k in self.layers}

    def distance(self, synth: torch.Tensor, target_feats: dict[str, torch.Tensor]) -> torch.Tensor:
        """Per-image loss ``[N]`` of ``synth`` against precomputed target features."""
        total = torch.zeros(synth.shape[0], dtype=synth.dtype, device=synth.device)
        for name, fs in self.features(synth).items():
            diff = fs - target_feats[name]
            term = diff.square() if self.norm == "l2" else diff.abs()
            total = total + term.flatten(1).mean(1)
        return total

    def __call__(self, synth: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            tf = self.features(target)
        return self.distance(synth, tf)
