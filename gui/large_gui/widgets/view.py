"""The image view: the latest rendered frame, render time, an edit strip, and PNG export."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, Slot
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from large_gui.qimage import to_pixmap
from large_gui.state import ExplorerState, RenderRequest
from large_gui.workers import Job, start_job


class FrameLabel(QLabel):
    """A QLabel that keeps a frame and rescales it to its size (pixel-sharp for tiny generators)."""

    def __init__(self, minimum: QSize, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(minimum)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.frame: np.ndarray | None = None

    def set_frame(self, frame: np.ndarray | None) -> None:
        self.frame = frame
        self._rescale()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self.frame is None:
            self.clear()
            return
        pixmap = to_pixmap(self.frame)
        mode = (
            Qt.TransformationMode.FastTransformation
            if pixmap.width() * 2 <= self.width()
            else Qt.TransformationMode.SmoothTransformation
        )
        self.setPixmap(pixmap.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio, mode))


class ImageView(QGroupBox):
    """Shows frames pushed by the render service; the strip is rendered in its own worker."""

    def __init__(self, state: ExplorerState, parent: QWidget | None = None) -> None:
        super().__init__("View", parent)
        self.state = state
        self.original = FrameLabel(QSize(200, 200))  # the unedited code, beside the edit
        self.image = FrameLabel(QSize(200, 200))
        self.info = QLabel("no model loaded")
        self.strip = FrameLabel(QSize(320, 64))
        self.strip.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.strip_range = QDoubleSpinBox()
        self.strip_range.setRange(0.1, 50.0)
        self.strip_range.setValue(5.0)
        self.strip_range.setPrefix("±")
        self.strip_steps = QSpinBox()
        self.strip_steps.setRange(2, 15)
        self.strip_steps.setValue(7)
        strip_button = QPushButton("Edit strip")
        strip_button.clicked.connect(self.make_strip)
        export = QPushButton("Export PNG…")
        export.clicked.connect(self._export_dialog)
        row = QHBoxLayout()
        row.addWidget(strip_button)
        row.addWidget(self.strip_range)
        row.addWidget(self.strip_steps)
        row.addStretch(1)
        row.addWidget(export)
        pair = QGridLayout()
        pair.addWidget(QLabel("original"), 0, 0, Qt.AlignmentFlag.AlignHCenter)
        pair.addWidget(QLabel("edited"), 0, 1, Qt.AlignmentFlag.AlignHCenter)
        pair.addWidget(self.original, 1, 0)
        pair.addWidget(self.image, 1, 1)
        pair.setRowStretch(1, 1)
        column = QVBoxLayout(self)
        column.addLayout(pair, 1)
        column.addWidget(self.info)
        column.addLayout(row)
        column.addWidget(self.strip)
        self.strip_job: Job | None = None
        self.original_job: Job | None = None
        self.last_ms: float | None = None
        state.changed.connect(self._on_state)

    def _on_state(self, topic: str) -> None:
        if topic in ("generator", "latent"):
            self.render_original()

    def render_original(self) -> None:
        """Render the current start code without any edit, in a worker, for the left-hand frame."""
        generator, base = self.state.generator, self.state.base_ws
        if generator is None or base is None:
            self.original.set_frame(None)
            return
        if self.original_job is not None:
            self.original_job.cancel()
        request = RenderRequest(0, base.clone(), None)

        def work(_progress: Any, _token: Any) -> np.ndarray:
            from large_gui.render import render_request

            return render_request(generator, request)

        self.original_job = Job(work)
        self.original_job.signals.result.connect(self.original.set_frame)
        start_job(self.original_job)

    @property
    def frame(self) -> np.ndarray | None:
        return self.image.frame

    @Slot(int, object, float)
    def show_frame(self, stamp: int, frame: np.ndarray, ms: float) -> None:
        self.last_ms = ms
        self.image.set_frame(frame)
        device = self.state.generator.device if self.state.generator is not None else "-"
        layers = "all" if self.state.edit_indices() is None else _span(self.state.edit_indices() or [])
        self.info.setText(f"render {ms:.0f} ms on {device} · #{stamp} · {self.state.mode} · layers {layers}")

    @Slot(int, str)
    def show_error(self, _stamp: int, message: str) -> None:
        self.info.setText(f"render error: {message}")

    def make_strip(self) -> None:
        """Render frames along the current direction from -range to +range in a worker."""
        generator, direction = self.state.generator, self.state.current_direction
        if generator is None or direction is None or self.state.base_ws is None:
            self.info.setText("pick a direction first")
            return
        span = self.strip_range.value()
        alphas = list(np.linspace(-span, span, self.strip_steps.value()))
        base, indices = self.state.base_ws.clone(), self.state.edit_indices()

        def work(_progress: Any, _token: Any) -> np.ndarray:
            from large_gui.render import render_strip

            return render_strip(generator, base, direction, indices, alphas)

        self.strip_job = Job(work)
        self.strip_job.signals.result.connect(self.strip.set_frame)
        self.strip_job.signals.error.connect(self._strip_failed)
        start_job(self.strip_job)

    @Slot(str)
    def _strip_failed(self, message: str) -> None:
        self.info.setText(f"strip error: {message}")

    def _export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export PNG", "large-tk.png", "PNG (*.png)")
        if path:
            self.export(path)

    def export(self, path: str, strip: bool = False) -> None:
        """Write the current frame (or the strip) with the core's PNG writer."""
        from large_toolkit.io.images import write_image

        frame = self.strip.frame if strip else self.frame
        if frame is None:
            self.info.setText("nothing to export yet")
            return
        write_image(path, frame)
        self.info.setText(f"wrote {path}")


def _span(indices: list[int]) -> str:
    if not indices:
        return "none"
    if indices == list(range(indices[0], indices[-1] + 1)):
        return f"{indices[0]}" if len(indices) == 1 else f"{indices[0]}-{indices[-1]}"
    return ",".join(map(str, indices))
