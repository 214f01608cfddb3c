"""Distributed tests: a REAL local Ray cluster (no mocks), skipped when the ``distributed`` extra is absent.

Why one module-scoped cluster with ``num_cpus=2``: starting Ray costs seconds, and CI has two cores;
every Ray test shares it.  Torch intra-op threads stay at 1 (shared CPU, and determinism).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Every distributed test: torch on one thread (see the shared ``one_torch_thread``)."""


@pytest.fixture(scope="session")
def ray_cluster():
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    if not ray.is_initialized():
        # Workers import test helpers (finder_scorers) by module path: give them this folder, whatever the cwd.
        path = os.pathsep.join(p for p in (str(Path(__file__).resolve().parent), os.environ.get("PYTHONPATH")) if p)
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            logging_level="WARNING",
            runtime_env={"env_vars": {"PYTHONPATH": path}},
        )
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def demo_images(tmp_path_factory) -> Path:
    """64 demo-resolution PNGs (the procedural dataset), written once per session."""
    from large_toolkit.data.folders import write_image_folder
    from large_toolkit.data.synthetic import generate

    out = tmp_path_factory.mktemp("imgs") / "images"
    data = generate(64, seed=5, resolution=32, workers=1)
    write_image_folder(out, np.asarray(data.images))
    return out
