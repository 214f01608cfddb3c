"""Renaming every StyleGAN2 checkpoint layout to NVIDIA's ``G_ema.state_dict()`` names.

The maths is identical across stylegan2-ada-pytorch, the stylegan3 repo, rosinality and TF
(``shared/research/stylegan_formats.md`` sections 1.6, 5.3); only names and layouts differ:

* rosinality: conv weights carry a leading 1, ``noise.weight`` is ``[1]``, ToRGB bias
  ``[1,3,1,1]``, noise buffers are ``noises.noise_j`` in conv order, FIR kernels are 4x the filter;
* TF: conv weights ``[kh,kw,in,out]``, dense ``[in,out]``, ``mod_bias`` stored minus 1,
  ``Conv0_up`` kernels spatially flipped, ``dlatent_avg`` in the top network.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from large_toolkit.api import CheckpointError, PersistentRecord, TFNetworkStub


def _conv_order(resolution: int) -> list[str]:
    """NVIDIA conv layer names in rosinality's ``convs``/``noises`` order."""
    names = ["synthesis.b4.conv1"]
    for k in range(3, int(math.log2(resolution)) + 1):
        names += [f"synthesis.b{2**k}.conv0", f"synthesis.b{2**k}.conv1"]
    return names


def _layer_pairs(resolution: int) -> list[tuple[str, str]]:
    """``(rosinality module, NVIDIA layer)`` for every modulated layer, in rosinality's order."""
    pairs = [("conv1", "synthesis.b4.conv1"), ("to_rgb1", "synthesis.b4.torgb")]
    for k in range(int(math.log2(resolution)) - 2):
        res = 2 ** (k + 3)
        pairs += [
            (f"convs.{2 * k}", f"synthesis.b{res}.conv0"),
            (f"convs.{2 * k + 1}", f"synthesis.b{res}.conv1"),
            (f"to_rgbs.{k}", f"synthesis.b{res}.torgb"),
        ]
    return pairs


def _w_avg_from(latent_avg: torch.Tensor | None, w_dim: int) -> torch.Tensor | None:
    if latent_avg is None:
        return None
    t = torch.as_tensor(latent_avg).detach().float()
    if t.shape[-1] != w_dim:
        raise CheckpointError(f"latent_avg: expected last dim {w_dim}, got shape {list(t.shape)}")
    rows = t.reshape(-1, w_dim)  # [S], [1,S] and e4e's repeated [num_ws,S] all reduce to [S]
    return rows[0].clone() if bool((rows == rows[:1]).all()) else rows.mean(0)


def rosinality_to_nvidia(
    state: Mapping[str, torch.Tensor], latent_avg: torch.Tensor | None
) -> tuple[dict[str, torch.Tensor], bool]:
    """rosinality ``Generator.state_dict()`` -> NVIDIA names; returns ``(state, w_avg_needs_estimate)``."""
    if "input.input" not in state or "style.1.weight" not in state:
        found = ", ".join(sorted(state)[:4]) or "nothing"
        raise CheckpointError(
            f"not a rosinality StyleGAN2 generator: expected style.1.weight and input.input, found {found}"
        )
    n_mlp = len([k for k in state if re.fullmatch(r"style\.\d+\.weight", k)])
    n_rgbs = len([k for k in state if re.fullmatch(r"to_rgbs\.\d+\.conv\.weight", k)])
    resolution = 2 ** (n_rgbs + 2)
    out: dict[str, torch.Tensor] = {}
    used: set[str] = set()

    def take(key: str) -> torch.Tensor:
        if key not in state:
            raise CheckpointError(
                f"rosinality checkpoint incomplete: missing {key}", hint="the file is truncated or not a g_ema"
            )
        used.add(key)
        return state[key].detach().float()

    for i in range(n_mlp):
        out[f"mapping.fc{i}.weight"] = take(f"style.{i + 1}.weight")
        out[f"mapping.fc{i}.bias"] = take(f"style.{i + 1}.bias")
    out["synthesis.b4.const"] = take("input.input")[0]
    for rosi, nv in _layer_pairs(resolution):
        out[f"{nv}.weight"] = take(f"{rosi}.conv.weight")[0]
        out[f"{nv}.affine.weight"] = take(f"{rosi}.conv.modulation.weight")
        out[f"{nv}.affine.bias"] = take(f"{rosi}.conv.modulation.bias")
        if nv.endswith("torgb"):
            out[f"{nv}.bias"] = take(f"{rosi}.bias").reshape(-1)
        else:
            out[f"{nv}.bias"] = take(f"{rosi}.activate.bias")
            out[f"{nv}.noise_strength"] = take(f"{rosi}.noise.weight").reshape(())
    for j, nv in enumerate(_conv_order(resolution)):
        noise = take(f"noises.noise_{j}")
        out[f"{nv}.noise_const"] = noise.reshape(noise.shape[-2:])
    ignored = {k for k in state if k.endswith((".blur.kernel", ".upsample.kernel"))}
    unknown = sorted(set(state) - used - ignored)
    if unknown:
        raise CheckpointError(
            f"rosinality checkpoint has {len(unknown)} unexpected tensor(s), e.g. {', '.join(unknown[:3])}",
            hint="only the StyleGAN2 Generator (model.py) layout is supported, not swagan",
        )
    w_dim = int(out[f"mapping.fc{n_mlp - 1}.weight"].shape[0])
    w_avg = _w_avg_from(latent_avg, w_dim)
    out["mapping.w_avg"] = w_avg if w_avg is not None else torch.zeros(w_dim)
    return out, w_avg is None


def nvidia_to_rosinality(state: Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """NVIDIA names -> rosinality ``g_ema`` layout and ``latent_avg`` (the inverse of :func:`rosinality_to_nvidia`)."""
    from large_stylegan2.ops import default_fir

    mapping_layers = len([k for k in state if re.fullmatch(r"mapping\.fc\d+\.weight", k)])
    resolution = max(int(k.split(".")[1][1:]) for k in state if re.match(r"synthesis\.b\d+\.", k))
    out: dict[str, torch.Tensor] = {}
    for i in range(mapping_layers):
        out[f"style.{i + 1}.weight"] = state[f"mapping.fc{i}.weight"]
        out[f"style.{i + 1}.bias"] = state[f"mapping.fc{i}.bias"]
    out["input.input"] = state["synthesis.b4.const"].unsqueeze(0)
    fir4 = default_fir() * 4
    for rosi, nv in _layer_pairs(resolution):
        out[f"{rosi}.conv.weight"] = state[f"{nv}.weight"].unsqueeze(0)
        out[f"{rosi}.conv.modulation.weight"] = state[f"{nv}.affine.weight"]
        out[f"{rosi}.conv.modulation.bias"] = state[f"{nv}.affine.bias"]
        if nv.endswith("torgb"):
            out[f"{rosi}.bias"] = state[f"{nv}.bias"].reshape(1, -1, 1, 1)
            if rosi != "to_rgb1":
                out[f"{rosi}.upsample.kernel"] = fir4.clone()
        else:
            out[f"{rosi}.activate.bias"] = state[f"{nv}.bias"]
            out[f"{rosi}.noise.weight"] = state[f"{nv}.noise_strength"].reshape(1)
            if nv.endswith("conv0"):
                out[f"{rosi}.conv.blur.kernel"] = fir4.clone()
    for j, nv in enumerate(_conv_order(resolution)):
        out[f"noises.noise_{j}"] = state[f"{nv}.noise_const"][None, None]
    return out, state["mapping.w_avg"]


# -- NVIDIA network pickles -------------------------------------------------------------------------


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def nvidia_record_to_state(record: PersistentRecord) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """A ``G_ema`` persistence record -> (NVIDIA state dict, config overrides).

    Settings whose defaults differ between repos (``conv_clamp``, ``architecture``, mapping lr)
    are read from each sub-module's own recorded attributes, not from init kwargs.
    """
    state = {k: torch.as_tensor(v) for k, v in record.state_dict().items()}
    if any(k.startswith("synthesis.input.") or re.match(r"synthesis\.L\d+_", k) for k in state):
        raise CheckpointError("this is a StyleGAN3 network pickle, not StyleGAN2", hint="use --backend stylegan3")
    overrides: dict[str, Any] = {"source": "nvidia-pickle"}
    fc0 = record.submodule("mapping.fc0")
    if fc0 is not None:
        if fc0.attr("bias_gain") is not None:
            overrides["mapping_lr"] = float(fc0.attr("bias_gain"))
        if fc0.attr("activation") is not None:
            overrides["mapping_activation"] = str(fc0.attr("activation"))
    clamps: dict[str, float] = {}
    synthesis = record.submodule("synthesis")
    if synthesis is not None:
        for name, block in synthesis.modules.items():
            if not isinstance(block, PersistentRecord) or not name[1:].isdigit():
                continue
            if block.attr("architecture") is not None:
                overrides["architecture"] = str(block.attr("architecture"))
            layer = block.submodule("conv1")
            clamp = _num(layer.attr("conv_clamp")) if layer is not None else None
            if clamp is not None:
                clamps[name[1:]] = clamp
    overrides["conv_clamp"] = clamps
    return state, overrides


# -- TensorFlow-era pickles ----------------------------------------------------------------------------


def _tf_tensor(value: Any) -> torch.Tensor:
    return torch.from_numpy(np.array(value, dtype=np.float32, copy=True))


def tf_networks_to_state(gs: TFNetworkStub) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The TF ``Gs`` network (``dnnlib.tflib`` stub) -> (NVIDIA state dict, config overrides)."""
    kw = gs.static_kwargs
    if int(kw.get("label_size", 0) or 0):
        raise CheckpointError(
            "class-conditional TensorFlow StyleGAN2 pickles are not supported yet",
            hint="convert it with the official legacy.py first",
        )
    if kw.get("architecture", "skip") != "skip":
        raise CheckpointError(f"TensorFlow StyleGAN2 architecture {kw.get('architecture')!r} is not supported")
    comps = gs.components
    if "mapping" not in comps or "synthesis" not in comps:
        raise CheckpointError(f"TensorFlow pickle: expected Gs components mapping and synthesis, found {sorted(comps)}")
    mv, sv, top = comps["mapping"].variables(), comps["synthesis"].variables(), gs.variables()
    out: dict[str, torch.Tensor] = {}
    n_map = len([k for k in mv if re.fullmatch(r"Dense\d+/weight", k)])
    for i in range(n_map):
        out[f"mapping.fc{i}.weight"] = _tf_tensor(mv[f"Dense{i}/weight"]).t().contiguous()
        out[f"mapping.fc{i}.bias"] = _tf_tensor(mv[f"Dense{i}/bias"])
    if "dlatent_avg" not in top:
        raise CheckpointError("TensorFlow pickle: Gs has no dlatent_avg variable")
    out["mapping.w_avg"] = _tf_tensor(top["dlatent_avg"]).reshape(-1)
    resolution = int(kw.get("resolution", 1024))
    out["synthesis.b4.const"] = _tf_tensor(sv["4x4/Const/const"])[0]

    def layer(tf: str, nv: str, flip: bool = False, noise: bool = True) -> None:
        w = _tf_tensor(sv[f"{tf}/weight"]).permute(3, 2, 0, 1)
        out[f"{nv}.weight"] = (w.flip([2, 3]) if flip else w).contiguous()
        out[f"{nv}.affine.weight"] = _tf_tensor(sv[f"{tf}/mod_weight"]).t().contiguous()
        out[f"{nv}.affine.bias"] = _tf_tensor(sv[f"{tf}/mod_bias"]) + 1
        out[f"{nv}.bias"] = _tf_tensor(sv[f"{tf}/bias"])
        if noise:
            out[f"{nv}.noise_strength"] = _tf_tensor(sv[f"{tf}/noise_strength"]).reshape(())

    try:
        layer("4x4/Conv", "synthesis.b4.conv1")
        layer("4x4/ToRGB", "synthesis.b4.torgb", noise=False)
        for k in range(3, int(math.log2(resolution)) + 1):
            r = 2**k
            layer(f"{r}x{r}/Conv0_up", f"synthesis.b{r}.conv0", flip=True)
            layer(f"{r}x{r}/Conv1", f"synthesis.b{r}.conv1")
            layer(f"{r}x{r}/ToRGB", f"synthesis.b{r}.torgb", noise=False)
        for j, nv in enumerate(_conv_order(resolution)):
            noise = _tf_tensor(sv[f"noise{j}"])
            out[f"{nv}.noise_const"] = noise.reshape(noise.shape[-2:])
    except KeyError as exc:
        raise CheckpointError(f"TensorFlow pickle incomplete: missing synthesis variable {exc.args[0]}") from None
    overrides: dict[str, Any] = {"source": "tensorflow-pickle", "mapping_lr": float(kw.get("mapping_lrmul", 0.01))}
    clamp = kw.get("conv_clamp")
    if clamp is not None:  # as the official legacy.py conversion: every block clamps
        overrides["conv_clamp"] = {str(2**k): float(clamp) for k in range(2, int(math.log2(resolution)) + 1)}
    return out, overrides
