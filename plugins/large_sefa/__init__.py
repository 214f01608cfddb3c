"""large-tk plugin: SeFa closed-form factorisation (Shen & Zhou, CVPR 2021).

This module is the hook module the entry point loads, so it imports no torch:
the factory imports :mod:`large_sefa.finder` only when a finder is built.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookimpl = pluggy.HookimplMarker("large_toolkit")


def _make_finder() -> Any:
    from large_sefa.finder import SeFaFinder

    return SeFaFinder()


@hookimpl
def register_direction_finders(register: Any) -> None:
    register("sefa", _make_finder, "SeFa: eigenvectors of the style-affine Gram matrix (closed form, W space)")
