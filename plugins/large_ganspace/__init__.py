"""large-tk plugin: GANSpace PCA of W (Härkönen et al., NeurIPS 2020).

Hook module only (no torch import); the finder lives in :mod:`large_ganspace.finder`.
"""

from __future__ import annotations

from typing import Any

from large_toolkit.api import hookimpl, lazy


@hookimpl
def register_direction_finders(register: Any) -> None:
    register(
        "ganspace",
        lazy("large_ganspace.finder:GANSpaceFinder"),
        "GANSpace: principal components of W = mapping(z), streamed on the device",
    )


@hookimpl
def register_direction_formats(register: Any) -> None:
    register(
        "ganspace-npz",
        lazy("large_ganspace.formats:GANSpaceNpz"),
        "GANSpace cache .npz (lat_comp, lat_mean, lat_stdev)",
    )
    register("e4e-ganspace", lazy("large_ganspace.formats:E4EGANSpace"), "e4e editing .pt ({mean, comp, std})")
