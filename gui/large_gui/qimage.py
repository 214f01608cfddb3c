"""numpy <-> Qt image conversion, done on the GUI thread.

``QImage`` built on a numpy buffer aliases that memory; :func:`to_qimage` copies
so a frame can be freed or reused without crashing the view.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPixmap


def to_qimage(frame: np.ndarray) -> QImage:
    """``[H, W, 3]`` uint8 RGB -> an owning QImage."""
    arr = np.ascontiguousarray(frame[..., :3], dtype=np.uint8)
    h, w = arr.shape[:2]
    return QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGB888).copy()


def to_pixmap(frame: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(to_qimage(frame))


def from_qimage(image: QImage) -> np.ndarray:
    """Any QImage -> ``[H, W, 3]`` uint8 RGB (a copy)."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = rgb.height(), rgb.width(), rgb.bytesPerLine()
    buf = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=stride * h).reshape(h, stride)
    return buf[:, : w * 3].reshape(h, w, 3).copy()
