"""The main window: panels on the left, the image and layers in the middle, regression on the right."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QMainWindow, QScrollArea, QSplitter, QVBoxLayout, QWidget

from large_gui.state import ExplorerState
from large_gui.widgets.directions_panel import DirectionsPanel
from large_gui.widgets.latent_panel import LatentPanel
from large_gui.widgets.layers_view import LayersView
from large_gui.widgets.model_panel import ModelPanel
from large_gui.widgets.regression_panel import RegressionPanel
from large_gui.widgets.view import ImageView
from large_gui.workers import RenderService, error_hub


class MainWindow(QMainWindow):
    """Owns the state and the render service; every image-changing state topic submits a render.

    The render service keeps one render in flight and only the newest request
    waiting, so dragging a slider never queues work and never blocks this thread.
    """

    def __init__(self, state: ExplorerState | None = None, device: str = "auto") -> None:
        super().__init__()
        self.setWindowTitle("large-tk explorer")
        self.state = state or ExplorerState()
        self.renderer = RenderService(self)
        self.model_panel = ModelPanel(self.state, device)
        self.latent_panel = LatentPanel(self.state, device)
        self.directions_panel = DirectionsPanel(self.state)
        self.view = ImageView(self.state)
        self.layers_view = LayersView(self.state)
        self.regression_panel = RegressionPanel(self.state, device)

        left = QWidget()
        left_column = QVBoxLayout(left)
        for panel in (self.model_panel, self.latent_panel, self.directions_panel):
            left_column.addWidget(panel)
        left_column.addStretch(1)
        # The sliders live under the image, in their own scroll area, so they stay in view at 1280x720 however
        # long the direction list and the panels above it are.
        sliders = QScrollArea()
        sliders.setWidget(self.directions_panel.sliders_box)
        sliders.setWidgetResizable(True)
        sliders.setMinimumHeight(120)
        self.sliders_area = sliders
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(360)
        middle = QWidget()
        middle_column = QVBoxLayout(middle)
        middle_column.addWidget(self.view, 3)
        middle_column.addWidget(sliders, 1)
        middle_column.addWidget(self.layers_view, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        for pane in (scroll, middle, self.regression_panel):
            splitter.addWidget(pane)
        splitter.setSizes([360, 540, 380])
        self.setCentralWidget(splitter)
        self.resize(1280, 720)

        self.renderer.rendered.connect(self.view.show_frame)
        self.renderer.failed.connect(self.view.show_error)
        self.state.changed.connect(self._on_state)
        error_hub().error.connect(self.show_worker_error)
        if self.state.generator is not None:
            self._on_state("generator")

    @Slot(str)
    def show_worker_error(self, message: str) -> None:
        """A background job failed: say so in the window (the panel that started it says so too)."""
        self.statusBar().setStyleSheet("color: #b00020")
        self.statusBar().showMessage(f"error: {message}", 30000)

    def _on_state(self, topic: str) -> None:
        if topic == "generator":
            self.renderer.generator = self.state.generator
        if topic in ExplorerState.IMAGE_TOPICS:
            self.request_render()

    @Slot()
    def request_render(self) -> None:
        if self.state.generator is None or self.state.base_ws is None:
            return
        try:
            request = self.state.render_request()
        except Exception as exc:  # a bad direction for this model: show it, keep the UI alive
            self.view.show_error(self.state.latest_stamp, str(exc))
            return
        self.renderer.submit(request)

    def load_default_model(self, backend: str | None = None) -> None:
        """Load the chosen (or first) backend's bundled demo in the background."""
        combo = self.model_panel.backend
        if backend:
            combo.setCurrentText(backend)
        if combo.count():
            self.model_panel.load()

    def closeEvent(self, event: Any) -> None:
        for job in (self.directions_panel.job, self.layers_view.job):
            if job is not None:
                job.cancel()
        super().closeEvent(event)
