"""Inverter test settings.

Toy-sized models gain nothing from intra-op threads, and on a shared 2-core CI
box a busy neighbour makes torch's spinning thread pool 10-20x slower (measured:
the W+ projection test went from 1.5 s to 33 s under load average 4).  So every
test here except the IR-SE-50 parity module runs single-threaded.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

TOY_CLI = Path(__file__).with_name("toy_cli.py")


@pytest.fixture(autouse=True)
def _single_thread_for_small_models(request):
    if "parity" in request.module.__name__:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _write_toy_images(folder: Path, n: int, seed: int = 5) -> list[Path]:
    """``n`` ToyGenerator frames from ``seed`` as ``img0000.png``…: an image folder the toy backend can invert."""
    from large_toolkit.io.images import to_uint8, write_image
    from large_toolkit.testing import ToyGenerator

    g = ToyGenerator()
    with torch.no_grad():
        images = g.synthesis(g.mapping(g.sample_z(n, seed)))
    folder.mkdir(parents=True, exist_ok=True)
    return [write_image(folder / f"img{i:04d}.png", a) for i, a in enumerate(to_uint8(images.numpy()))]


def _toy_cli(args: list[str], cwd: Path, delay: float = 0.0, gate: Path | None = None) -> subprocess.Popen:
    """Start ``toy_cli.py`` (large-tk plus the test-only ``toy`` backend).

    ``delay`` slows each synthesis; with ``gate`` every synthesis waits until that file exists, so a
    test can hold the run mid-way (lock taken, nothing finished) for as long as it needs.
    """
    env = {**os.environ, "TOY_DELAY": str(delay), "TOY_GATE": str(gate or ""), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, str(TOY_CLI), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def write_toy_images():
    """The image-folder writer (a fixture, so test modules need no import path to this folder)."""
    return _write_toy_images


@pytest.fixture
def toy_cli():
    """The ``toy_cli.py`` subprocess starter."""
    return _toy_cli
