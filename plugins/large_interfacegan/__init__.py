"""large-tk plugin: InterFaceGAN linear boundaries (Shen et al., CVPR 2020).

Hook module only (no torch import); the finder lives in :mod:`large_interfacegan.finder`.
"""

from __future__ import annotations

from typing import Any

from large_toolkit.api import hookimpl, lazy


@hookimpl
def register_direction_finders(register: Any) -> None:
    register(
        "interfacegan",
        lazy("large_interfacegan.finder:InterFaceGANFinder"),
        "InterFaceGAN: linear SVM boundary from labelled latents (needs scores)",
    )


@hookimpl
def register_direction_formats(register: Any) -> None:
    register("interfacegan", lazy("large_interfacegan.formats:BoundaryNpy"), "InterFaceGAN boundary.npy [1, D]")
    register(
        "e4e-interfacegan",
        lazy("large_interfacegan.formats:E4EBoundary"),
        "e4e boundary .pt ([1, D] or [1, num_ws, D] tensor)",
    )
