"""pytest-qt tests of the explorer window, offscreen, on the toy generator."""

from __future__ import annotations

import threading

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from large_gui.main_window import MainWindow
from large_gui.state import ExplorerState
from large_gui.workers import RenderService
from PySide6.QtCore import QPoint, Qt

WAIT = 10_000


def _compute(qtbot, win, finder: str = "toy", options: str = "", tick: bool = True) -> None:
    """Compute directions through the UI; ``tick`` then ticks the first one, as a user would."""
    panel = win.directions_panel
    panel.finder.setCurrentText(finder)
    panel.options.setText(options)
    qtbot.mouseClick(panel.compute_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.list.count() > 0, timeout=WAIT)
    if tick:
        panel.list.item(0).setCheckState(Qt.CheckState.Checked)


def test_window_opens_with_a_generator(window, tmp_path, qtbot):
    assert window.view.frame is not None and window.view.frame.shape == (32, 32, 3)
    assert not window.view.image.pixmap().isNull()
    assert "num_ws 4" in window.model_panel.info.text()
    path = qtbot.screenshot(window)  # saved under the test's tmp dir by pytest-qt
    assert path


def test_model_panel_loads_from_the_registry(qtbot, toy_host):
    win = MainWindow(device="cpu")
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.renderer.rendered, timeout=WAIT):
        win.load_default_model("toy")
    assert win.state.generator_name == "toy" and win.view.frame is not None


def test_computing_directions_populates_the_list(window, qtbot):
    _compute(qtbot, window, tick=False)
    panel = window.directions_panel
    assert panel.list.count() == 5
    assert panel.list.item(0).text().startswith("toy_0")
    assert len(panel.sliders) == 0  # nothing is ticked for the user
    qtbot.waitUntil(lambda: len(panel.thumbnails) == 5, timeout=WAIT)  # a strip per direction in the list
    assert not panel.list.item(4).icon().isNull()
    strip = panel.thumbnails[0]
    assert strip.shape[1] == 3 * strip.shape[0]  # three frames: -3, 0, +3
    assert not any(e.selected for e in window.state.entries)
    panel.list.item(2).setCheckState(Qt.CheckState.Checked)
    assert len(panel.sliders) == 1
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    slider = panel.sliders[0]
    top_left = slider.mapTo(window, slider.rect().topLeft())
    bottom = top_left.y() + slider.height()
    assert top_left.y() >= 0 and bottom <= window.height()  # in view without scrolling at 1280x720
    viewport = window.sliders_area.viewport()
    inside = slider.mapTo(viewport, QPoint(0, 0))
    assert inside.y() >= 0 and inside.y() + slider.height() <= viewport.height()  # not scrolled away
    qtbot.waitUntil(lambda: window.state.importance is not None, timeout=WAIT)
    assert len(window.state.importance) == window.state.num_ws


def test_moving_a_slider_rerenders(window, qtbot):
    _compute(qtbot, window)
    qtbot.waitUntil(lambda: window.view.original.frame is not None, timeout=WAIT)
    original = window.view.original.frame.copy()
    before = window.view.frame.copy()
    pixmap_before = window.view.image.pixmap().toImage()
    with qtbot.waitSignal(window.renderer.rendered, timeout=WAIT):
        window.directions_panel.sliders[0].slider.setValue(60)  # alpha = 6
    qtbot.waitUntil(lambda: not window.renderer.busy, timeout=WAIT)
    assert window.state.entries[0].alpha == pytest.approx(6.0)
    assert not np.array_equal(before, window.view.frame)
    assert window.view.image.pixmap().toImage() != pixmap_before
    assert np.array_equal(window.view.original.frame, original)  # the original stays beside the edit
    assert not np.array_equal(window.view.original.frame, window.view.frame)


def test_ticking_a_direction_adds_a_slider(window, qtbot):
    _compute(qtbot, window)
    panel = window.directions_panel
    panel.list.item(2).setCheckState(Qt.CheckState.Checked)
    assert window.state.selected_indices() == [0, 2] and len(panel.sliders) == 2


def test_layer_click_restricts_the_edit(window, qtbot):
    _compute(qtbot, window)
    qtbot.waitUntil(lambda: window.state.importance is not None, timeout=WAIT)
    bars = window.layers_view.bars
    center = bars.bar_rect(2).center()
    qtbot.mouseClick(bars, Qt.MouseButton.LeftButton, pos=QPoint(int(center.x()), int(center.y())))
    assert window.state.mode == "wplus" and window.state.edit_indices() == [2]
    assert bars.active == {2}
    assert window.latent_panel.mode.currentData() == "wplus"
    assert (window.directions_panel.layer_start.value(), window.directions_panel.layer_end.value()) == (2, 2)
    window.state.set_alpha(0, 4.0)
    ws, _ = window.state.edited_ws()
    changed = [i for i in range(window.state.num_ws) if not np.allclose(ws[i], window.state.base_ws[i])]
    assert changed == [2]


class SlowGenerator:
    """Wraps a generator; the first synthesis waits on an event so a newer request overtakes it."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.gate = threading.Event()
        self.calls = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def synthesis(self, ws, noise_mode="const"):
        self.calls += 1
        if self.calls == 1:
            self.gate.wait(5)
        return self.inner.synthesis(ws, noise_mode)


def test_stale_results_are_dropped(qtbot, toy_gen):
    state = ExplorerState()
    state.set_generator(toy_gen, "toy")
    service = RenderService()
    slow = SlowGenerator(toy_gen)
    service.generator = slow
    shown: list[int] = []
    service.rendered.connect(lambda stamp, _frame, _ms: shown.append(stamp))
    first = state.render_request()
    service.submit(first)
    for seed in (1, 2, 3):  # slider spam while the first render is stuck
        state.set_seed(seed)
        service.submit(state.render_request())
    slow.gate.set()
    qtbot.waitUntil(lambda: bool(shown) and not service.busy, timeout=WAIT)
    assert shown == [state.latest_stamp]  # only the newest frame reaches the view
    assert service.dropped == 1  # the overtaken first render
    assert slow.calls == 2  # the two middle requests were never rendered


def test_reset_and_edit_strip_and_export(window, qtbot, tmp_path):
    _compute(qtbot, window)
    window.state.set_alpha(0, 3.0)
    window.state.reset_alphas()
    assert window.directions_panel.sliders[0].slider.value() == 0
    window.view.strip_steps.setValue(5)
    window.view.make_strip()
    qtbot.waitUntil(lambda: window.view.strip.frame is not None, timeout=WAIT)
    assert window.view.strip.frame.shape == (32, 32 * 5, 3)
    out = tmp_path / "frame.png"
    window.view.export(str(out))
    from large_toolkit.io.images import read_image

    assert np.array_equal(read_image(out), window.view.frame)


def test_save_and_load_directions(window, qtbot, tmp_path):
    _compute(qtbot, window)
    path = tmp_path / "dirs.safetensors"
    window.directions_panel.save(str(path))
    window.state.set_directions(window.state.direction_set().__class__([], None))
    assert window.directions_panel.list.count() == 0
    window.directions_panel.load(str(path))
    assert window.directions_panel.list.count() == 5
    assert window.state.entries[0].score == pytest.approx(5.0)


def test_cancel_discards_the_result(window, qtbot):
    panel = window.directions_panel
    panel.finder.setCurrentText("toy")
    panel.compute()
    panel.cancel()
    assert panel.compute_button.isEnabled() and panel.status.text() == "cancelled"
    qtbot.wait(200)
    assert panel.list.count() == 0


def test_compute_sefa_lists_its_directions(window, qtbot, toy_host):
    if "sefa" not in toy_host.registries["direction_finder"]:
        pytest.skip("the SeFa plugin is not installed")
    _compute(qtbot, window, "sefa")
    panel = window.directions_panel
    assert panel.list.count() == window.state.generator.w_dim
    assert panel.list.item(0).text().startswith("sefa_0")
    assert window.state.score_name == "eigenvalue"
    scores = [e.score for e in window.state.entries]
    assert scores == sorted(scores, reverse=True)
