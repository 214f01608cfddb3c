"""large-tk plugin: SeFa closed-form factorisation (Shen & Zhou, CVPR 2021).

This module is the hook module the entry point loads, so it imports no torch:
the factory imports :mod:`large_sefa.finder` only when a finder is built.
"""

from __future__ import annotations

from typing import Any

from large_toolkit.api import hookimpl


def _make_finder() -> Any:
    from large_sefa.finder import SeFaFinder

    return SeFaFinder()


@hookimpl
def register_direction_finders(register: Any) -> None:
    register("sefa", _make_finder, "SeFa: eigenvectors of the style-affine Gram matrix (closed form, W space)")


def _format(cls: str) -> Any:
    def make() -> Any:
        from large_sefa import formats

        return getattr(formats, cls)()

    return make


@hookimpl
def register_direction_formats(register: Any) -> None:
    register("sefa-npz", _format("SeFaNpz"), "genforce SeFa .npz (boundaries, values, layers)")
    register("rosinality-factor", _format("RosinalityFactor"), "rosinality closed-form factor .pt ({ckpt, eigvec})")
