"""large-toolkit: few-shot regression from the latent space of a pretrained GAN (LARGE, CVPR 2022).

The package root stays light (no torch import) so that ``large-tk --help`` and
plugin discovery are fast.  The plugin API is :mod:`large_toolkit.api`; its names
also resolve here, lazily, for older imports.
"""

from __future__ import annotations

import importlib
from typing import Any

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("large_toolkit")
"""Decorator for plugin hook implementations: ``@large_toolkit.hookimpl``."""

__all__ = ["__version__", "hookimpl"]  # plugins import everything else from large_toolkit.api


def __getattr__(name: str) -> Any:
    """Older imports (``large_toolkit.Generator``) resolve through the public API, lazily."""
    api = importlib.import_module("large_toolkit.api")
    if name in api.__all__:
        return getattr(api, name)
    raise AttributeError(f"module 'large_toolkit' has no attribute {name!r}")
