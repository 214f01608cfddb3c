"""large-tk plugin: the StyleGAN3 generator backend (``--backend stylegan3``, configs T and R).

A pure-PyTorch StyleGAN3 that reproduces NVIDIA's outputs from their weights, with a fast CPU path
for the alias-free filtered leaky ReLU, StyleSpace access (15 style layers + the input layer's
geometry styles) and safe loaders (nothing from a file is executed; pickles are read through
:mod:`large_toolkit.io.checkpoint`).

Public API (heavy modules load lazily, so importing this hook module does not import torch)::

    from large_stylegan3 import load_stylegan3, is_stylegan3_state, save_safetensors

    G = load_stylegan3("stylegan3-t-ffhq-1024x1024.pkl", device="cuda")   # or .safetensors / a state dict
    ws = G.mapping(z, None, psi=0.7)             # [N, 16, w_dim]
    G.set_input_transform(translate=(0.1, 0), rotate=10)   # gen_images.py convention
    img = G.synthesis(ws)                        # [N, 3, R, R], raw
    s = G.styles(ws); img = G.synthesis_from_styles(s)     # StyleSpace (layout: network.py)
    save_safetensors(G, "model.safetensors")     # = G.save_safetensors(...)

``is_stylegan3_state(state_dict)`` tells StyleGAN3 weights from StyleGAN2 ones by structure (class
names are shared between the two families' pickles), so the StyleGAN2 loader can refuse them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from large_toolkit.api import hookimpl

_LAZY = {
    "load_stylegan3": "large_stylegan3.loader",
    "save_safetensors": "large_stylegan3.loader",
    "generator_from_object": "large_stylegan3.loader",
    "StyleGAN3Generator": "large_stylegan3.network",
    "StyleGAN3Config": "large_stylegan3.network",
}

__all__ = [*_LAZY, "create_generator", "is_stylegan3_state"]

_SG3_LAYER = re.compile(r"^synthesis\.L\d+_\d+_\d+\.")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'large_stylegan3' has no attribute {name!r}")


def is_stylegan3_state(state_dict: Mapping[str, Any] | Iterable[str]) -> bool:
    """True when NVIDIA-named generator weights are StyleGAN3 (T or R), judged from key structure only.

    StyleGAN3 has ``synthesis.input.{freqs,phases,transform}`` and layers named ``synthesis.L{i}_{size}_{ch}``;
    StyleGAN2 has ``synthesis.b{res}`` blocks.  Keys may carry a ``G_ema.``-style prefix; torch is not needed.
    """
    keys = list(state_dict.keys()) if isinstance(state_dict, Mapping) else list(state_dict)
    for key in keys:
        key = str(key)
        idx = key.find("synthesis.")
        if idx < 0:
            continue
        tail = key[idx:]
        if tail.startswith("synthesis.input.freqs") or _SG3_LAYER.match(tail):
            return True
    return False


def create_generator(checkpoint: str | None = None, device: str = "cpu") -> Any:
    """Registry factory: ``factory(checkpoint=..., device=...)``."""
    if checkpoint is None:
        from large_toolkit.api import UserInputError

        raise UserInputError(
            "the stylegan3 backend has no bundled demo model",
            hint="pass --checkpoint PATH (a stylegan3-*.pkl or a .safetensors written by `large-tk convert`)",
        )
    from large_stylegan3.loader import load_stylegan3

    return load_stylegan3(checkpoint, device=device)


@hookimpl
def register_generators(register: Any) -> None:
    register("stylegan3", create_generator, "StyleGAN3 configs T and R (NVIDIA stylegan3 .pkl, safetensors)")
