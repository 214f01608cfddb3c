"""Load any StyleGAN2 checkpoint, format auto-detected, through the core's restricted reader.

Accepted (what the file holds decides, not its extension):

* NVIDIA network pickle -- dict with ``G_ema`` (stylegan2-ada-pytorch, stylegan3-repo SG2);
* TF-era NVIDIA pickle -- tuple ``(G, D, Gs)`` of ``dnnlib.tflib`` networks (``Gs`` is used);
* rosinality ``.pt`` -- ``{'g_ema': state_dict, 'latent_avg': ...}``, a bare ``g_ema`` state dict, or a
  ``train.py`` checkpoint ``{g, d, g_ema, g_optim, d_optim, args, ada_aug_p}`` (``args`` is read as
  inert data).  Without ``latent_avg`` (every ``train.py`` file), truncation (``--psi`` < 1) uses
  ``w_avg`` = the mean W of 10,000 mapped ``z ~ N(0, I)`` drawn from ``torch.Generator`` seed 0:
  deterministic, where rosinality's ``generate.py`` averages ``mean_latent(4096)`` unseeded samples;
* e4e / pSp / ReStyle ``.pt`` -- ``{'state_dict': {'decoder.*', ...}, 'latent_avg', 'opts'}``;
* a ``torch.save`` of NVIDIA-named ``G_ema.state_dict()``;
* safetensors with NVIDIA names (ours carry the config as JSON metadata; others are inferred).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch
from large_stylegan_common import (
    checkpoint_mapping,
    describe_object,
    g_ema_record,
    load_generator,
    safetensors_parts,
    strip_prefix,
)

from large_stylegan2.network import StyleGAN2Config, StyleGAN2Generator, infer_config
from large_toolkit.api import CheckpointError, TFNetworkStub


def _from_state_mapping(state: Mapping[str, Any], latent_avg: Any, device: str, source: str) -> StyleGAN2Generator:
    """A bare generator state dict in either naming."""
    tensors = {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}
    if "style.1.weight" in tensors:
        gen = StyleGAN2Generator.from_rosinality_state_dict(tensors, latent_avg, device)
        gen.config.source = source
        return gen
    if "mapping.fc0.weight" in tensors:
        if any(k.startswith("synthesis.input.") for k in tensors):
            raise CheckpointError("this is a StyleGAN3 generator, not StyleGAN2", hint="use --backend stylegan3")
        if "mapping.w_avg" not in tensors and latent_avg is not None:
            from large_stylegan2.formats import _w_avg_from

            w_avg = _w_avg_from(latent_avg, int(tensors["mapping.fc0.weight"].shape[0]))
            assert w_avg is not None
            tensors["mapping.w_avg"] = w_avg
        return StyleGAN2Generator.from_state_dict(tensors, device=device, source=source)
    raise CheckpointError(
        f"{source}: expected a StyleGAN2 generator state (NVIDIA mapping.fc0.* or rosinality style.1.*), "
        f"found {describe_object(state)}"
    )


def generator_from_object(obj: Any, device: str = "cpu", name: str = "checkpoint") -> StyleGAN2Generator:
    """Build the generator from what :func:`read_checkpoint` returned (auto-detecting the layout)."""
    if isinstance(obj, tuple) and len(obj) == 3 and all(isinstance(o, TFNetworkStub) for o in obj):
        from large_stylegan2.formats import tf_networks_to_state

        state, overrides = tf_networks_to_state(obj[2])
        return StyleGAN2Generator(state, infer_config(state, **overrides), device)
    obj = checkpoint_mapping(obj, name, "StyleGAN2")
    record = g_ema_record(obj, name)
    if record is not None:
        from large_stylegan2.formats import nvidia_record_to_state

        state, overrides = nvidia_record_to_state(record)
        return StyleGAN2Generator(state, infer_config(state, **overrides), device)
    parts = safetensors_parts(obj)
    if parts is not None:
        gen = StyleGAN2Generator.from_export(*parts, device)
        return gen if gen is not None else _from_state_mapping(parts[0], None, device, "safetensors")
    if "g_ema" in obj:
        return _from_state_mapping(obj["g_ema"], obj.get("latent_avg"), device, "rosinality")
    if "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        decoder = strip_prefix(obj["state_dict"], "decoder.")
        if not decoder:
            raise CheckpointError(f"{name}: an encoder checkpoint without decoder.* weights, so no generator to load")
        return _from_state_mapping(decoder, obj.get("latent_avg"), device, "e4e/psp decoder")
    return _from_state_mapping(obj, obj.get("latent_avg"), device, "state dict")


def load_stylegan2(
    source: str | os.PathLike[str] | Mapping[str, Any], device: str | torch.device = "cpu"
) -> StyleGAN2Generator:
    """Public entry point: a checkpoint path, or an already-read object/state dict -> generator.

    ``source`` may be a path (any format in this module's docstring), a state dict in NVIDIA or
    rosinality naming, or a checkpoint dict such as an e4e ``{'state_dict', 'latent_avg', 'opts'}``.
    Nothing from the file is executed.  Errors are :class:`~large_toolkit.errors.CheckpointError`.
    """
    return load_generator(source, device, generator_from_object)


__all__ = ["StyleGAN2Config", "StyleGAN2Generator", "generator_from_object", "load_stylegan2"]
