"""Fixtures for the direction-finder tests: toy generators and an in-process ``toy`` backend."""

from __future__ import annotations

from typing import Any

import pluggy
import pytest

hookimpl = pluggy.HookimplMarker("large_toolkit")


class _ToyBackend:
    """A plugin object registering ``toy`` (ToyGenerator, w_dim 32) as a generator backend."""

    @hookimpl
    def register_generators(self, register: Any) -> None:
        def factory(checkpoint: str | None = None, device: str = "cpu") -> Any:
            from large_toolkit.testing import ToyGenerator

            return ToyGenerator(z_dim=32, w_dim=32, num_ws=4, resolution=16, channels=8, seed=int(checkpoint or 0))

        register("toy", factory, "toy generator for tests")


@pytest.fixture
def toy_backend(tmp_path, monkeypatch):
    """Registers the ``toy`` backend and points the direction cache at a temp dir."""
    from large_toolkit.plugins import get_host

    monkeypatch.setenv("LARGE_TK_CACHE", str(tmp_path / "cache"))
    get_host().register_module(_ToyBackend(), "toy-backend")
    return "toy"


@pytest.fixture
def toy32():
    from large_toolkit.testing import ToyGenerator

    return ToyGenerator(z_dim=32, w_dim=32, num_ws=4, resolution=16, channels=8, seed=0)
