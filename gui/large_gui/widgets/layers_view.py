"""Layers view: per-w-index importance of the current direction as QPainter bars; click to restrict edits.

QPainter rather than matplotlib: a bar chart needs no plotting library, repaints in
microseconds while the selection changes, and keeps the GUI extra to PySide6 alone.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from large_gui.state import ExplorerState
from large_gui.workers import Job, start_job

ACTIVE = QColor(52, 120, 200)
INACTIVE = QColor(170, 178, 189)


class LayerBars(QWidget):
    """Bars for ``values`` (one per w index), highlighted where ``active``; emits ``clicked(index)``."""

    clicked = Signal(int)
    MARGIN = 18

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values: list[float] = []
        self.active: set[int] = set()
        self.setMinimumHeight(110)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def sizeHint(self) -> QSize:
        return QSize(320, 120)

    def set_data(self, values: list[float], active: set[int]) -> None:
        self.values, self.active = list(values), set(active)
        self.update()

    def bar_rect(self, index: int) -> QRectF:
        """Where bar ``index`` is drawn (full height slot), used for painting and hit-testing."""
        count = max(len(self.values), 1)
        width = (self.width() - 2 * self.MARGIN) / count
        return QRectF(self.MARGIN + index * width, 4, width, self.height() - 4 - self.MARGIN)

    def index_at(self, x: float) -> int | None:
        for i in range(len(self.values)):
            rect = self.bar_rect(i)
            if rect.left() <= x < rect.right():
                return i
        return None

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().base())
        if not self.values:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no direction selected")
            return
        top = max(max(self.values), 1e-12)
        for i, value in enumerate(self.values):
            slot = self.bar_rect(i)
            height = slot.height() * max(value, 0.0) / top
            bar = QRectF(slot.left() + slot.width() * 0.12, slot.bottom() - height, slot.width() * 0.76, height)
            painter.fillRect(bar, ACTIVE if i in self.active else INACTIVE)
            painter.setPen(self.palette().text().color())
            label = QRectF(slot.left(), slot.bottom() + 1, slot.width(), self.MARGIN - 2)
            painter.drawText(label, Qt.AlignmentFlag.AlignCenter, str(i))
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        index = self.index_at(event.position().x())
        if index is not None:
            self.clicked.emit(index)


class LayersView(QGroupBox):
    """Computes importance for the current direction in a worker and binds clicks to the layer range."""

    def __init__(self, state: ExplorerState, parent: QWidget | None = None) -> None:
        super().__init__("Layers of the current direction (click a bar to edit only that layer)", parent)
        self.state = state
        self.bars = LayerBars()
        self.bars.clicked.connect(state.restrict_to_layer)
        self.status = QLabel("")
        recompute = QPushButton("Recompute")
        recompute.clicked.connect(self.compute)
        study = QPushButton("Importance")
        study.setToolTip("the gradient importance study, the same call and numbers as `large-tk layers`")
        study.clicked.connect(lambda: self.compute("gradient"))
        all_layers = QPushButton("All layers")
        all_layers.clicked.connect(state.all_layers)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(recompute)
        row.addWidget(study)
        row.addWidget(all_layers)
        column = QVBoxLayout(self)
        column.addWidget(self.bars)
        column.addLayout(row)
        self.job: Job | None = None
        self.method = "edit"
        state.changed.connect(self._on_state)

    def compute(self, method: str = "edit") -> None:
        """Measure importance in a worker; ``edit`` is quick, ``gradient`` is the core's released study."""
        generator, direction, base = self.state.generator, self.state.current_direction, self.state.base_ws
        if generator is None or direction is None or base is None:
            self.state.set_importance(None)
            return
        if self.job is not None:
            self.job.cancel()  # an older study for another direction must not land

        def work(_progress: Any, _token: Any) -> list[float]:
            from large_gui.render import layer_importance

            return layer_importance(generator, base.clone(), direction, method)

        self.method = method
        what = "pixel change" if method == "edit" else "layer importance"
        self.status.setText(f"computing the {what} of {direction.name}…")
        self.job = Job(work)
        self.job.signals.result.connect(self._computed)
        self.job.signals.error.connect(self._failed)
        start_job(self.job)

    @Slot(object)
    def _computed(self, values: list[float]) -> None:
        self.state.set_importance(values)
        name = self.state.current_direction.name if self.state.current_direction is not None else ""
        what = (
            "pixel change per w index (mean |Δpixel|; press Importance for the layer importance)"
            if self.method == "edit"
            else "layer importance (gradient study, as large-tk layers)"
        )
        self.status.setText(f"{name}: {what}")

    @Slot(str)
    def _failed(self, message: str) -> None:
        self.status.setText(f"error: {message}")

    def _redraw(self) -> None:
        indices = self.state.edit_indices()
        active = set(range(self.state.num_ws)) if indices is None else set(indices)
        self.bars.set_data(self.state.importance or [], active)

    def _on_state(self, topic: str) -> None:
        if topic in ("current", "generator"):
            self.compute()
        if topic in ("importance", "layers", "current", "generator"):
            self._redraw()
