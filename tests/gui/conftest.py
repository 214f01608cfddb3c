"""GUI test setup: offscreen Qt, a toy generator and a toy finder registered like real plugins.

Qt tests live in ``test_qt_*.py`` and are not collected when PySide6 or pytest-qt
is missing; the Qt-free state tests always run.
"""

from __future__ import annotations

import importlib.util
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import

import pluggy
import pytest
import torch

from large_toolkit.interfaces import DirectionFinder

HAVE_QT = importlib.util.find_spec("PySide6") is not None and importlib.util.find_spec("pytestqt") is not None
collect_ignore_glob = [] if HAVE_QT else ["test_qt_*.py"]

hookimpl = pluggy.HookimplMarker("large_toolkit")


class ToyFinder(DirectionFinder):
    """Seeded orthonormal W directions with descending scores: a finder that needs no plugin."""

    progress = None

    def default_config(self) -> dict:
        return {"num": 5, "seed": 0}

    def merged(self, config, defaults):
        return {**defaults, **dict(config or {})}

    def find(self, generator, config=None):
        from large_toolkit.types import Direction, DirectionSet, LatentSpace

        cfg = self.merged(config, self.default_config())
        gen = torch.Generator().manual_seed(int(cfg["seed"]))
        q, _ = torch.linalg.qr(torch.randn(generator.w_dim, generator.w_dim, generator=gen))
        num = int(cfg["num"])
        for step in range(num):
            if self.progress is not None:
                self.progress("toy", step, num)
        dirs = [Direction(q[:, i].contiguous(), LatentSpace.W, f"toy_{i}") for i in range(num)]
        return DirectionSet(dirs, torch.arange(num, 0, -1, dtype=torch.float64), "toy score")


class ToyInverter:
    """Codes from the image's mean colour through the mapping: deterministic, instant, image-dependent."""

    output_spaces = ()

    def __init__(self, generator=None, checkpoint=None, device="cpu") -> None:
        self.generator = generator

    def invert(self, images, generator, space=None):
        from large_toolkit.interfaces import InversionResult
        from large_toolkit.types import Latents, LatentSpace

        z = images.mean(dim=(2, 3)).repeat(1, generator.z_dim // 3 + 1)[:, : generator.z_dim] * 3
        return InversionResult(Latents(generator.mapping(z), LatentSpace.WPLUS))


class ToyPlugin:
    """Registers ``toy`` generator and ``toy`` finder through the same hooks real plugins use."""

    @hookimpl
    def register_generators(self, register):
        from large_toolkit.testing import ToyGenerator

        register("toy", lambda checkpoint=None, device="cpu": ToyGenerator(resolution=32), "toy generator")

    @hookimpl
    def register_direction_finders(self, register):
        register("toy", ToyFinder, "toy finder")

    @hookimpl
    def register_inverters(self, register):
        register("toy", ToyInverter, "toy inverter")


@pytest.fixture
def toy_host(monkeypatch, tmp_path):
    """A plugin host with the toy plugin added; direction cache kept in the test's tmp dir."""
    from large_toolkit.plugins import get_host

    monkeypatch.setenv("LARGE_TK_CACHE", str(tmp_path / "cache"))
    host = get_host()
    host.register_module(ToyPlugin(), "toy-test")
    return host


@pytest.fixture
def toy_gen():
    from large_toolkit.testing import ToyGenerator

    return ToyGenerator(resolution=32)


WAIT = 10_000  # ms a Qt test waits for a worker's signal


@pytest.fixture
def window(qtbot, toy_host, toy_gen):
    """A shown main window with the toy generator loaded and its first frame rendered."""
    from large_gui.main_window import MainWindow
    from PySide6.QtCore import QThreadPool

    win = MainWindow(device="cpu")
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.renderer.rendered, timeout=WAIT):
        win.state.set_generator(toy_gen, "toy")
    win.show()
    yield win
    # pytest-qt closes and deletes the window before this runs; let running jobs end
    QThreadPool.globalInstance().waitForDone(WAIT)
