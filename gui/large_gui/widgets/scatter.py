"""Distance-vs-label scatter with the fitted line, drawn with QPainter (no plotting dependency)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from large_gui.state import RegressionState

TRUTH = QColor(120, 130, 145)
LABELLED = QColor(230, 120, 30)
LINE = QColor(52, 120, 200)


class ScatterPlot(QWidget):
    """Grey: images with ground truth; orange: the user's labelled images; blue: the fitted line."""

    PAD = 34

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data: RegressionState | None = None
        self.setMinimumSize(260, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(360, 240)

    def set_data(self, data: RegressionState) -> None:
        self.data = data
        self.update()

    def _points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        data = self.data
        assert data is not None and data.distances is not None
        pos = {image_id: i for i, image_id in enumerate(data.ids)}
        truth_idx = [pos[k] for k in data.ids if k in data.truth and k not in data.labelled]
        lab_idx = [pos[k] for k in data.labelled]
        x = data.distances
        truth = np.array([[x[i], data.truth[data.ids[i]]] for i in truth_idx]).reshape(-1, 2)
        labelled = np.array([[x[i], data.labelled[data.ids[i]]] for i in lab_idx]).reshape(-1, 2)
        fit_line = np.empty((0, 2))
        if data.fit is not None:
            xs = np.array([x.min(), x.max()])
            fit_line = np.stack([xs, data.fit.slope * xs + data.fit.intercept], axis=1)
        return x, truth, labelled, fit_line

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().base())
        text = self.palette().text().color()
        painter.setPen(text)
        if self.data is None or self.data.distances is None or len(self.data.distances) == 0:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "load images to see distance vs label")
            return
        x, truth, labelled, fit_line = self._points()
        ys = np.concatenate([truth[:, 1], labelled[:, 1], fit_line[:, 1]])
        if ys.size == 0:
            ys = np.zeros(1)
        x_lo, x_hi = float(x.min()), float(x.max())
        y_lo, y_hi = float(ys.min()), float(ys.max())
        x_hi, y_hi = (x_hi if x_hi > x_lo else x_lo + 1.0), (y_hi if y_hi > y_lo else y_lo + 1.0)
        area = QRectF(self.PAD, 8, self.width() - self.PAD - 10, self.height() - 8 - self.PAD)

        def to_px(px: float, py: float) -> QPointF:
            return QPointF(
                area.left() + (px - x_lo) / (x_hi - x_lo) * area.width(),
                area.bottom() - (py - y_lo) / (y_hi - y_lo) * area.height(),
            )

        painter.drawRect(area)
        painter.drawText(
            QRectF(area.left(), area.bottom() + 2, area.width(), 16),
            Qt.AlignmentFlag.AlignCenter,
            "distance along direction",
        )
        painter.drawText(QRectF(area.left(), area.bottom() + 2, 80, 16), Qt.AlignmentFlag.AlignLeft, f"{x_lo:.2g}")
        painter.drawText(
            QRectF(area.right() - 80, area.bottom() + 2, 80, 16), Qt.AlignmentFlag.AlignRight, f"{x_hi:.2g}"
        )
        painter.save()
        painter.translate(12, area.center().y())
        painter.rotate(-90)
        painter.drawText(QRectF(-60, -10, 120, 20), Qt.AlignmentFlag.AlignCenter, "label")
        painter.restore()
        if len(fit_line):
            painter.setPen(QPen(LINE, 2))
            painter.drawLine(to_px(*fit_line[0]), to_px(*fit_line[1]))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(TRUTH)
        for px, py in truth:
            painter.drawEllipse(to_px(px, py), 3, 3)
        painter.setBrush(LABELLED)
        for px, py in labelled:
            painter.drawEllipse(to_px(px, py), 6, 6)
        painter.end()
