"""large-tk plugin: InterFaceGAN linear boundaries (Shen et al., CVPR 2020).

Hook module only (no torch import); the finder lives in :mod:`large_interfacegan.finder`.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookimpl = pluggy.HookimplMarker("large_toolkit")


def _make_finder() -> Any:
    from large_interfacegan.finder import InterFaceGANFinder

    return InterFaceGANFinder()


@hookimpl
def register_direction_finders(register: Any) -> None:
    register("interfacegan", _make_finder, "InterFaceGAN: linear SVM boundary from labelled latents (needs scores)")
