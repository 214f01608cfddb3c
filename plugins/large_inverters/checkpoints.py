"""Reading e4e / pSp training checkpoints safely and turning them into encoders.

An official checkpoint is ``{'state_dict': {'encoder.*', 'decoder.*'}, 'opts':
dict, 'latent_avg': [n_styles, 512] | [512]}``.  It is opened with the
restricted reader (never full pickle), storages are mapped to the CPU so files
written on a GPU load anywhere, and ``opts['device']`` is ignored (real opts say
``cuda:0``).  The encoder kind comes from ``opts['encoder_type']`` because e4e
and pSp share every parameter name.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import torch
from large_stylegan_common import strip_prefix

from large_toolkit.api import CheckpointError, UserInputError

ENCODER_TYPES = {"Encoder4Editing": "e4e", "GradualStyleEncoder": "psp"}


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a torch checkpoint through the shared restricted reader, always onto the CPU."""
    from large_toolkit.api import read_torch_checkpoint

    if not os.path.isfile(path):
        raise UserInputError(f"checkpoint not found: {path}")
    data = read_torch_checkpoint(path)
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} holds a {type(data).__name__}, expected a checkpoint dict")
    return data


def broadcast_latent_avg(
    latent_avg: torch.Tensor | None, n_styles: int, w_dim: int | None = None
) -> torch.Tensor | None:
    """``[D]``, ``[1,D]`` or ``[n,D]`` -> ``[n_styles, D]``: all three forms exist in the wild (D = 512 in releases)."""
    if latent_avg is None:
        return None
    t = latent_avg.detach().to("cpu", torch.float32)
    w_dim = int(t.shape[-1]) if w_dim is None else w_dim
    if t.ndim == 1:
        t = t.unsqueeze(0)
    if t.ndim != 2 or t.shape[-1] != w_dim or t.shape[0] not in (1, n_styles):
        raise CheckpointError(
            f"latent_avg has shape {list(latent_avg.shape)}, expected [{w_dim}], [1,{w_dim}] or [{n_styles},{w_dim}]"
        )
    return t.expand(n_styles, w_dim).clone()


@dataclass
class EncoderCheckpoint:
    """The parts of an e4e/pSp checkpoint that the toolkit uses."""

    kind: str  # "e4e" or "psp"
    n_styles: int
    output_size: int
    encoder_state: dict[str, torch.Tensor]
    decoder_state: dict[str, torch.Tensor]
    latent_avg: torch.Tensor | None
    opts: dict[str, Any] = field(default_factory=dict)


def parse_encoder_checkpoint(data: dict[str, Any], kind: str | None = None) -> EncoderCheckpoint:
    """Split a loaded checkpoint dict; ``kind`` overrides ``opts['encoder_type']`` when given."""
    state = data.get("state_dict")
    if not isinstance(state, dict):
        raise CheckpointError("checkpoint has no 'state_dict'", hint="expected an e4e or pSp training checkpoint")
    opts = dict(data.get("opts") or {})
    encoder_type = opts.get("encoder_type")
    detected = ENCODER_TYPES.get(str(encoder_type)) if encoder_type is not None else None
    if kind is None:
        if detected is None:
            raise CheckpointError(
                f"checkpoint opts name encoder_type={encoder_type!r}, not one of {sorted(ENCODER_TYPES)}",
                hint="pass --inverter e4e or --inverter psp explicitly",
            )
        kind = detected
    # e4e records stylegan_size, pSp output_size; old pSp files have neither and mean 1024.
    size = int(opts.get("stylegan_size") or opts.get("output_size") or 1024)
    n_styles = int(opts.get("n_styles") or 2 * int(math.log2(size)) - 2)
    encoder_state = strip_prefix(state, "encoder.")
    if not encoder_state:
        raise CheckpointError("checkpoint has no 'encoder.*' weights")
    return EncoderCheckpoint(
        kind=kind,
        n_styles=n_styles,
        output_size=size,
        encoder_state=encoder_state,
        decoder_state=strip_prefix(state, "decoder."),
        latent_avg=broadcast_latent_avg(data.get("latent_avg"), n_styles),
        opts=opts,
    )


def build_encoder(ckpt: EncoderCheckpoint) -> torch.nn.Module:
    """An :class:`IRSEStyleEncoder` holding the checkpoint's weights (strict: every key must match)."""
    from large_inverters.irse import IRSEStyleEncoder

    first = ckpt.encoder_state.get("input_layer.0.weight")
    input_nc = int(first.shape[1]) if first is not None else 3
    net = IRSEStyleEncoder(ckpt.n_styles, ckpt.kind, input_nc)
    try:
        net.load_state_dict(ckpt.encoder_state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"encoder weights do not match the IR-SE-50 layout: {str(exc)[:300]}") from None
    return net.eval()
