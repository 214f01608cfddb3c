"""large-tk plugin: GANSpace PCA of W (Härkönen et al., NeurIPS 2020).

Hook module only (no torch import); the finder lives in :mod:`large_ganspace.finder`.
"""

from __future__ import annotations

from typing import Any

from large_toolkit.api import hookimpl


def _make_finder() -> Any:
    from large_ganspace.finder import GANSpaceFinder

    return GANSpaceFinder()


@hookimpl
def register_direction_finders(register: Any) -> None:
    register("ganspace", _make_finder, "GANSpace: principal components of W = mapping(z), streamed on the device")


def _format(cls: str) -> Any:
    def make() -> Any:
        from large_ganspace import formats

        return getattr(formats, cls)()

    return make


@hookimpl
def register_direction_formats(register: Any) -> None:
    register("ganspace-npz", _format("GANSpaceNpz"), "GANSpace cache .npz (lat_comp, lat_mean, lat_stdev)")
    register("e4e-ganspace", _format("E4EGANSpace"), "e4e editing .pt ({mean, comp, std})")
