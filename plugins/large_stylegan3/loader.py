"""Load StyleGAN3 checkpoints (NVIDIA pickles, safetensors, state dicts) through the core's safe reader.

Accepted (what the file holds decides, not its extension):

* NVIDIA network pickle from the stylegan3 repo -- a dict with ``G_ema`` (read by
  :func:`large_toolkit.io.checkpoint.read_checkpoint`'s restricted unpickler: no code runs);
* safetensors with NVIDIA names -- ours carry the config (and NVIDIA init kwargs) as JSON metadata,
  others (e.g. a plain ``G_ema.state_dict()`` dump) are inferred from shapes and layer names;
* a ``torch.save`` (``weights_only``) of an NVIDIA-named state dict, or such a dict in memory.

StyleGAN2 and StyleGAN3 pickles share class names (``Generator``, ``MappingNetwork``...), so the
architecture is recognised from structure (:func:`is_stylegan3_state`), and a StyleGAN2 file is
refused with a pointer to ``--backend stylegan2``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from large_stylegan_common import checkpoint_mapping, describe_object, g_ema_record, load_generator, safetensors_parts

from large_stylegan3 import is_stylegan3_state
from large_stylegan3.network import (
    INIT_KWARG_FIELDS,
    StyleGAN3Config,
    StyleGAN3Generator,
    infer_config,
)
from large_toolkit.api import CheckpointError, PersistentRecord, TFNetworkStub


def _plain(value: Any) -> Any:
    """numpy scalars (pickled layer attributes) -> Python numbers."""
    if hasattr(value, "item") and not isinstance(value, torch.Tensor):
        try:
            return value.item()
        except (ValueError, AttributeError):
            return value
    return value


def _refuse_stylegan2(source: str) -> CheckpointError:
    return CheckpointError(f"{source}: this is a StyleGAN2 generator, not StyleGAN3", hint="use --backend stylegan2")


def config_from_record(record: PersistentRecord, state: Mapping[str, torch.Tensor]) -> StyleGAN3Config:
    """Config from a pickled ``G_ema``: its init kwargs, then the synthesis/layer attributes for the rest.

    The module attributes are authoritative where kwargs were left to (repo-specific) defaults,
    e.g. ``conv_clamp`` lives only in the layers' state.
    """
    kwargs: dict[str, Any] = {}
    top = {k: _plain(v) for k, v in record.init_kwargs.items()}
    synth = record.submodule("synthesis")
    if synth is not None:
        kwargs.update({k: _plain(v) for k, v in synth.init_kwargs.items() if k in INIT_KWARG_FIELDS})
        for name in ("num_layers", "num_critical", "margin_size", "output_scale", "num_fp16_res"):
            if synth.attr(name) is not None:
                kwargs[name] = _plain(synth.attr(name))
    kwargs.update({k: v for k, v in top.items() if k in INIT_KWARG_FIELDS})
    mapping_kwargs = top.get("mapping_kwargs") or {}
    if "num_layers" in mapping_kwargs:
        kwargs["mapping_layers"] = int(_plain(mapping_kwargs["num_layers"]))
    if "conv_clamp" in top:
        kwargs["conv_clamp"] = top["conv_clamp"]
    elif synth is not None:
        names = synth.attr("layer_names") or []
        layer = synth.submodule(names[0]) if names else None
        if layer is not None and "conv_clamp" in layer.state:
            kwargs["conv_clamp"] = _plain(layer.attr("conv_clamp"))
    if kwargs.get("conv_clamp") is not None:
        kwargs["conv_clamp"] = float(kwargs["conv_clamp"])
    kwargs["source"] = "nvidia-pickle"
    return infer_config(state, **kwargs)


def check_record_geometry(gen: StyleGAN3Generator, record: PersistentRecord) -> None:
    """Compare the recomputed schedule with the sizes/factors/paddings the pickle recorded per layer."""
    synth = record.submodule("synthesis")
    if synth is None:
        return
    for spec in gen.layers:
        layer = synth.submodule(spec.name)
        if layer is None:
            continue
        expected = {
            "up_factor": spec.up,
            "down_factor": spec.down,
            "padding": list(spec.padding),
            "up_taps": spec.up_taps,
            "down_taps": spec.down_taps,
        }
        for key, want in expected.items():
            got = layer.attr(key)
            if got is None:
                continue
            got = [int(_plain(v)) for v in got] if isinstance(got, (list, tuple)) else int(_plain(got))
            if got != want:
                raise CheckpointError(
                    f"StyleGAN3 layer {spec.name}: the pickle records {key}={got}, the schedule gives {want}",
                    hint="this network uses non-default schedule settings that large-tk does not reproduce",
                )


def generator_from_object(obj: Any, device: str = "cpu", name: str = "checkpoint") -> StyleGAN3Generator:
    """Build the generator from what :func:`read_checkpoint` returned (or a state dict)."""
    if isinstance(obj, tuple) and obj and all(isinstance(o, TFNetworkStub) for o in obj):
        raise _refuse_stylegan2(name)
    obj = checkpoint_mapping(obj, name, "StyleGAN3")
    record = g_ema_record(obj, name)
    if record is not None:
        state = record.state_dict()
        if not is_stylegan3_state(state):
            if any(k.startswith("synthesis.b") for k in state):
                raise _refuse_stylegan2(name)
            raise CheckpointError(f"{name}: G_ema is not a StyleGAN3 generator ({len(state)} tensors)")
        gen = StyleGAN3Generator(state, config_from_record(record, state), device)
        check_record_geometry(gen, record)
        return gen
    parts = safetensors_parts(obj)
    if parts is not None:
        gen = StyleGAN3Generator.from_export(*parts, device)
        return gen if gen is not None else _from_state(parts[0], device, f"{name} (safetensors)")
    for key in ("g_ema", "state_dict"):
        if key in obj and isinstance(obj[key], Mapping):
            return _from_state(obj[key], device, name)
    return _from_state(obj, device, name)


def _from_state(state: Mapping[str, Any], device: str, source: str) -> StyleGAN3Generator:
    tensors = {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}
    if not is_stylegan3_state(tensors):
        if "synthesis.b4.const" in tensors or "style.1.weight" in tensors:
            raise _refuse_stylegan2(source)
        raise CheckpointError(
            f"{source}: expected a StyleGAN3 generator state (synthesis.input.freqs, synthesis.L<i>_<size>_<ch>.*), "
            f"found {describe_object(state)}"
        )
    config = infer_config(tensors, source=source.split(" ")[-1].strip("()") or "state dict")
    return StyleGAN3Generator(tensors, config, device)


def load_stylegan3(
    source: str | os.PathLike[str] | Mapping[str, Any], device: str | torch.device = "cpu"
) -> StyleGAN3Generator:
    """Public entry point: a checkpoint path, or an already-read checkpoint object / state dict -> generator.

    Nothing from the file is executed (pickles go through the restricted reader).  The checkpoint's
    ``synthesis.input.transform`` is reset to the identity; set a user transform with
    :meth:`StyleGAN3Generator.set_input_transform`.  Errors are :class:`~large_toolkit.errors.CheckpointError`.
    """
    return load_generator(source, device, generator_from_object)


def save_safetensors(generator: StyleGAN3Generator, path: str | os.PathLike[str]) -> Path:
    """Write a StyleGAN3 generator as safetensors (NVIDIA names + JSON config/init kwargs); see the method."""
    return generator.save_safetensors(path)


__all__ = ["StyleGAN3Config", "StyleGAN3Generator", "generator_from_object", "load_stylegan3", "save_safetensors"]
