"""large-tk plugin: GANSpace PCA of W (Härkönen et al., NeurIPS 2020).

Hook module only (no torch import); the finder lives in :mod:`large_ganspace.finder`.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookimpl = pluggy.HookimplMarker("large_toolkit")


def _make_finder() -> Any:
    from large_ganspace.finder import GANSpaceFinder

    return GANSpaceFinder()


@hookimpl
def register_direction_finders(register: Any) -> None:
    register("ganspace", _make_finder, "GANSpace: principal components of W = mapping(z), streamed on the device")
