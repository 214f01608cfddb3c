"""large-tk plugin: the StyleGAN2 generator backend (``--backend stylegan2``).

A pure-PyTorch StyleGAN2 that reproduces NVIDIA's outputs from their weights, plus safe loaders
for every common checkpoint format (nothing from a file is ever executed; all reading goes
through :mod:`large_toolkit.io.checkpoint`).

Public API (imported lazily, so importing this hook module does not import torch)::

    from large_stylegan2 import load_stylegan2, StyleGAN2Generator

    G = load_stylegan2("ffhq.pkl", device="cuda")          # NVIDIA pickle, TF pickle, rosinality .pt,
                                                            # e4e/pSp/ReStyle .pt, safetensors
    G = load_stylegan2(ckpt_dict)                           # an already-read dict / state dict
    G = StyleGAN2Generator.from_rosinality_state_dict(sd, latent_avg)   # e4e/pSp decoders
    G = StyleGAN2Generator.from_state_dict(nvidia_named_sd)
    ws = G.mapping(z, c, psi=0.7, trunc_cutoff=None)        # [N, num_ws, w_dim]
    img = G.synthesis(ws, noise_mode="const")               # [N, 3, R, R], raw (about [-1, 1])
    s = G.styles(ws); img = G.synthesis_from_styles(s)      # StyleSpace, layout in network.py
    G.save_safetensors("model.safetensors")                 # NVIDIA names + config metadata

Layout conversion helpers: :func:`large_stylegan2.formats.rosinality_to_nvidia` and
:func:`large_stylegan2.formats.nvidia_to_rosinality`.
"""

from __future__ import annotations

from typing import Any

from large_toolkit.api import hookimpl

_LAZY = {
    "load_stylegan2": "large_stylegan2.loader",
    "generator_from_object": "large_stylegan2.loader",
    "StyleGAN2Generator": "large_stylegan2.network",
    "StyleGAN2Config": "large_stylegan2.network",
    # the declared surface other plugins may use (the inverters' discriminator features)
    "default_fir": "large_stylegan2.ops",
    "discriminator_block_names": "large_stylegan2.trainer.discriminator",
    "discriminator_features_per_block": "large_stylegan2.trainer.discriminator",
}
_RENAMED = {
    "discriminator_block_names": "block_names",
    "discriminator_features_per_block": "features_per_block",
}

__all__ = [*_LAZY, "create_generator"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), _RENAMED.get(name, name))
    raise AttributeError(f"module 'large_stylegan2' has no attribute {name!r}")


def create_generator(checkpoint: str | None = None, device: str = "cpu") -> Any:
    """Registry factory: ``factory(checkpoint=..., device=...)``; no checkpoint means the bundled demo model."""
    from large_stylegan2.loader import load_stylegan2

    if checkpoint is None:
        from large_stylegan2.demo import DEMO_GENERATOR

        checkpoint = str(DEMO_GENERATOR)
    return load_stylegan2(checkpoint, device=device)


@hookimpl
def register_generators(register: Any) -> None:
    register(
        "stylegan2",
        create_generator,
        "StyleGAN2 / StyleGAN2-ADA (NVIDIA .pkl, TF .pkl, rosinality/e4e .pt, safetensors)",
    )


@hookimpl
def register_commands(app: Any) -> None:
    from large_stylegan2.trainer.cli import install as install_trainer

    install_trainer(app)
