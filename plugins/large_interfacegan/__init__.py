"""large-tk plugin: InterFaceGAN linear boundaries (Shen et al., CVPR 2020).

Hook module only (no torch import); the finder lives in :mod:`large_interfacegan.finder`.
"""

from __future__ import annotations

from typing import Any

from large_toolkit.api import hookimpl


def _make_finder() -> Any:
    from large_interfacegan.finder import InterFaceGANFinder

    return InterFaceGANFinder()


@hookimpl
def register_direction_finders(register: Any) -> None:
    register("interfacegan", _make_finder, "InterFaceGAN: linear SVM boundary from labelled latents (needs scores)")


def _format(cls: str) -> Any:
    def make() -> Any:
        from large_interfacegan import formats

        return getattr(formats, cls)()

    return make


@hookimpl
def register_direction_formats(register: Any) -> None:
    register("interfacegan", _format("BoundaryNpy"), "InterFaceGAN boundary.npy [1, D]")
    register("e4e-interfacegan", _format("E4EBoundary"), "e4e boundary .pt ([1, D] or [1, num_ws, D] tensor)")
