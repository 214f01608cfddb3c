"""large-tk plugin: SeFa closed-form factorisation (Shen & Zhou, CVPR 2021).

This module is the hook module the entry point loads, so it imports no torch:
the factory imports :mod:`large_sefa.finder` only when a finder is built.
"""

from __future__ import annotations

from typing import Any

from large_toolkit.api import hookimpl, lazy


@hookimpl
def register_direction_finders(register: Any) -> None:
    register(
        "sefa",
        lazy("large_sefa.finder:SeFaFinder"),
        "SeFa: eigenvectors of the style-affine Gram matrix (closed form, W space)",
    )


@hookimpl
def register_direction_formats(register: Any) -> None:
    register("sefa-npz", lazy("large_sefa.formats:SeFaNpz"), "genforce SeFa .npz (boundaries, values, layers)")
    register(
        "rosinality-factor",
        lazy("large_sefa.formats:RosinalityFactor"),
        "rosinality closed-form factor .pt ({ckpt, eigvec})",
    )
