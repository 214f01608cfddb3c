"""The GUI explorer on the example DCGAN (no style layers): load it, compute directions, edit with a slider."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from large_gui.main_window import MainWindow
from PySide6.QtCore import Qt, QThreadPool

WAIT = 20_000


@pytest.mark.parametrize(
    ("finder", "options"),
    [("ganspace", {"num_samples": 500, "batch_size": 250, "components": 4}), ("random", {"count": 3})],
)
@pytest.mark.slow
def test_directions_panel_on_a_dcgan(qtbot, dcgan_installed, finder, options) -> None:
    win = MainWindow(device="cpu")
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.renderer.rendered, timeout=WAIT):
        win.load_default_model("dcgan")
    assert win.view.frame is not None and win.view.frame.shape == (32, 32, 3)
    assert "num_ws 1" in win.model_panel.info.text()
    panel = win.directions_panel
    panel.finder.setCurrentText(finder)  # the options form is built from the finder's declaration
    for name, value in options.items():
        panel.form.set_value(name, value)
    qtbot.mouseClick(panel.compute_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.list.count() > 0, timeout=WAIT)
    assert panel.list.item(0).text().startswith(finder)
    panel.list.item(0).setCheckState(Qt.CheckState.Checked)  # nothing is ticked for the user
    qtbot.waitUntil(lambda: win.state.importance is not None, timeout=WAIT)
    assert len(win.state.importance) == 1  # one code per image: one "layer"
    before = win.view.frame.copy()
    with qtbot.waitSignal(win.renderer.rendered, timeout=WAIT):
        panel.sliders[0].slider.setValue(80)
    qtbot.waitUntil(lambda: not win.renderer.busy, timeout=WAIT)
    assert not np.array_equal(before, win.view.frame)
    QThreadPool.globalInstance().waitForDone(WAIT)


def test_invert_an_image_with_projector_options_from_the_form(qtbot, dcgan_installed, tmp_path) -> None:
    from large_toolkit.io.images import write_image as write_png

    win = MainWindow(device="cpu")
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.renderer.rendered, timeout=WAIT):
        win.load_default_model("dcgan")
    panel = win.latent_panel
    panel.inverter.setCurrentText("optim")
    assert "num_steps" in panel.inverter_form.editors  # built from the projector's declared options
    panel.inverter_form.set_value("num_steps", 3)
    assert panel.inverter_form.values() == {"num_steps": 3}
    path = tmp_path / "face.png"
    write_png(path, np.full((32, 32, 3), 90, dtype=np.uint8))
    panel.invert(str(path))
    qtbot.waitUntil(lambda: win.state.base_source.startswith("inverted"), timeout=WAIT)
    assert tuple(win.state.base_ws.shape) == (1, 32)
    QThreadPool.globalInstance().waitForDone(WAIT)
