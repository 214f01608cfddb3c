"""The model panel's class selector: shown only for a class-conditional model, and the state holds the bound view."""

from __future__ import annotations

import numpy as np
import pluggy
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from large_gui.main_window import MainWindow
from PySide6.QtCore import Qt

hookimpl = pluggy.HookimplMarker("large_toolkit")
WAIT = 10_000  # ms a Qt test waits for a worker's signal


class ConditionalPlugin:
    """Registers ``cond``: a tiny random class-conditional StyleGAN2 (3 classes)."""

    @hookimpl
    def register_generators(self, register):
        def make(checkpoint=None, device="cpu"):
            from large_stylegan2 import StyleGAN2Generator

            return StyleGAN2Generator.random(
                resolution=8, z_dim=16, w_dim=16, channel_base=64, channel_max=16, c_dim=3, device=device
            )

        register("cond", make, "tiny conditional generator")


def _load(qtbot, win, backend: str) -> None:
    win.model_panel.backend.setCurrentText(backend)
    with qtbot.waitSignal(win.renderer.rendered, timeout=WAIT):
        qtbot.mouseClick(win.model_panel.load_button, Qt.MouseButton.LeftButton)


def test_class_selector_binds_the_model_and_hides_for_unconditional_ones(qtbot, toy_host):
    toy_host.register_module(ConditionalPlugin(), "cond-test")
    win = MainWindow(device="cpu")
    qtbot.addWidget(win)
    win.model_panel.refresh_backends()
    panel = win.model_panel

    _load(qtbot, win, "cond")
    first = win.state.generator
    assert not panel.class_idx.isHidden() and panel.class_idx.maximum() == 2
    assert first.c_dim == 0 and first.class_idx == 0  # the panels see an unconditional (bound) model
    assert "class 0 of 3" in panel.info.text()
    frame0 = win.view.frame.copy()

    with qtbot.waitSignal(win.renderer.rendered, timeout=WAIT):
        panel.class_idx.setValue(2)
    second = win.state.generator
    assert second.class_idx == 2 and second.fingerprint() != first.fingerprint()
    assert not np.array_equal(win.view.frame, frame0)  # the same seed renders another class

    _load(qtbot, win, "toy")
    assert panel.class_idx.isHidden() and panel.class_label.isHidden()
