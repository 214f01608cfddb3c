"""large-tk plugin: Voynov & Babenko, "Unsupervised Discovery of Interpretable Directions
in the GAN Latent Space" (ICML 2020).

This module is the hook module the entry point loads, so it imports no torch:
training is heavy and ``large-tk --help`` must stay fast, so the factory
imports :mod:`large_voynov.finder` only when a finder is built.
"""

from __future__ import annotations

from typing import Any

from large_toolkit.api import hookimpl


def _make_finder() -> Any:
    from large_voynov.finder import VoynovFinder

    return VoynovFinder()


@hookimpl
def register_direction_finders(register: Any) -> None:
    register(
        "voynov",
        _make_finder,
        "Voynov-Babenko: trains a direction matrix + reconstructor (unsupervised, W space; option steps=N)",
    )


def _format(cls: str) -> Any:
    def make() -> Any:
        from large_voynov import formats

        return getattr(formats, cls)()

    return make


@hookimpl
def register_direction_formats(register: Any) -> None:
    register("voynov", _format("Deformator"), "Voynov-Babenko deformator_{step}.pt (read)")
