"""large-toolkit: few-shot regression from the latent space of a pretrained GAN (LARGE, CVPR 2022).

The package root stays light (no torch import) so that ``large-tk --help`` and
plugin discovery are fast.  The public API is importable from here lazily.
"""

from __future__ import annotations

import importlib
from typing import Any

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("large_toolkit")
"""Decorator for plugin hook implementations: ``@large_toolkit.hookimpl``."""

_LAZY = {
    "LatentSpace": "large_toolkit.types",
    "StyleLayer": "large_toolkit.types",
    "Latents": "large_toolkit.types",
    "Direction": "large_toolkit.types",
    "DirectionSet": "large_toolkit.types",
    "style_offsets": "large_toolkit.types",
    "Generator": "large_toolkit.interfaces",
    "Inverter": "large_toolkit.interfaces",
    "InversionResult": "large_toolkit.interfaces",
    "DirectionFinder": "large_toolkit.interfaces",
    "StyleAffine": "large_toolkit.interfaces",
    "layer_indices": "large_toolkit.interfaces",
    "get_host": "large_toolkit.plugins",
    "LargeTkError": "large_toolkit.errors",
    "UserInputError": "large_toolkit.errors",
    "ShapeError": "large_toolkit.errors",
    "CheckpointError": "large_toolkit.errors",
}

__all__ = ["__version__", "hookimpl", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'large_toolkit' has no attribute {name!r}")
