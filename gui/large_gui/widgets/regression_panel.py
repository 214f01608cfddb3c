"""Regression panel: images + optional labels → distances along the current direction → few-shot fit.

The numbers (distances, fit, MAE/R², labelling advice) come from
:mod:`large_gui.regression_model`, i.e. from the core, so the panel shows what
``large-tk regress`` would print.  Inversion runs in a worker; refitting after a
typed label is a 1-D fit and runs at once on the GUI thread.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from large_gui.qimage import to_pixmap
from large_gui.regression_model import distances_for, label_columns, read_labels_csv, sorted_order
from large_gui.state import ExplorerState
from large_gui.widgets.panel import Panel, fill_inverters
from large_gui.widgets.scatter import ScatterPlot


def format_metric(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


class RegressionPanel(Panel):
    """Folder, labels CSV, inverter → scatter + line, MAE/R², sorted strip, suggestions, label entry."""

    def __init__(self, state: ExplorerState, device: str = "auto", parent: QWidget | None = None) -> None:
        super().__init__("Regression", state, device, parent)
        self.folder, self.labels = QLineEdit(), QLineEdit()
        self.folder.setPlaceholderText("image folder")
        self.labels.setPlaceholderText("labels CSV (optional: ground truth for MAE/R²)")
        browse_folder, browse_labels = QPushButton("…"), QPushButton("…")
        browse_folder.clicked.connect(self._choose_folder)
        browse_labels.clicked.connect(self._choose_labels)
        self.column = QComboBox()
        self.column.setToolTip("which labels CSV column is the ground truth for MAE/R² (default: the first)")
        self.column.setEnabled(False)
        self.labels.textChanged.connect(self._labels_changed)
        self.column.currentTextChanged.connect(self._column_changed)
        self.inverter = QComboBox()
        self.load_button = QPushButton("Invert && measure")
        self.load_button.clicked.connect(self.load)
        self.plot = ScatterPlot()
        self.metrics = QLabel("MAE – · R² – · 0 labels")
        self.metrics.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.suggestions = QLabel("")
        self.suggestions.setWordWrap(True)
        self.strip = QListWidget()
        self.strip.setViewMode(QListView.ViewMode.IconMode)
        self.strip.setFlow(QListView.Flow.LeftToRight)
        self.strip.setWrapping(False)
        self.strip.setIconSize(QSize(56, 56))
        self.strip.setFixedHeight(100)
        self.strip.currentItemChanged.connect(self._picked)
        self.value = QLineEdit()
        self.value.setPlaceholderText("label of the selected image (Enter to fit; empty clears)")
        self.value.returnPressed.connect(self._enter_value)
        grid = QGridLayout()
        grid.addWidget(QLabel("Images"), 0, 0)
        grid.addWidget(self.folder, 0, 1)
        grid.addWidget(browse_folder, 0, 2)
        grid.addWidget(QLabel("Labels"), 1, 0)
        grid.addWidget(self.labels, 1, 1)
        grid.addWidget(browse_labels, 1, 2)
        grid.addWidget(QLabel("Column"), 2, 0)
        grid.addWidget(self.column, 2, 1, 1, 2)
        grid.addWidget(QLabel("Inverter"), 3, 0)
        inv_row = QHBoxLayout()
        inv_row.addWidget(self.inverter, 1)
        inv_row.addWidget(self.load_button)
        grid.addLayout(inv_row, 3, 1, 1, 2)
        column = QVBoxLayout(self)
        column.addLayout(grid)
        column.addWidget(self.plot, 1)
        column.addWidget(self.metrics)
        column.addWidget(QLabel("Sorted by distance (select one and type its label):"))
        column.addWidget(self.strip)
        column.addWidget(self.value)
        column.addWidget(self.suggestions)
        column.addWidget(self.status)
        self._source: tuple[str, str | None, str | None] = ("", None, None)  # folder, labels, column of a load
        self.refresh_inverters()
        state.changed.connect(self._on_state)

    def refresh_inverters(self) -> None:
        fill_inverters(self.inverter)

    def _choose_folder(self) -> None:
        path = self.choose_folder("Image folder")
        if path:
            self.folder.setText(path)

    def _choose_labels(self) -> None:
        path = self.choose_file("Labels CSV", "CSV (*.csv);;All (*)")
        if path:
            self.labels.setText(path)

    def _labels_changed(self, text: str) -> None:
        """Offer the CSV's value columns; keep the chosen one if the new file has it too."""
        keep = self.column.currentText()
        names = label_columns(text.strip()) if text.strip() else []
        self.column.blockSignals(True)
        self.column.clear()
        self.column.addItems(names)
        if keep in names:
            self.column.setCurrentText(keep)
        self.column.setEnabled(bool(names))
        self.column.blockSignals(False)

    def label_column(self) -> str | None:
        """The chosen ground-truth column; None (the reader's default, the second column) when none is offered."""
        return self.column.currentText() or None

    def _column_changed(self, column: str) -> None:
        """Re-score against another column of the loaded table without inverting again.

        Only the ground truth changes: the typed labels stay, since they are the
        user's input, and the fit is redone so MAE/R² refer to the new column.
        """
        reg = self.state.regression
        if not column or not reg.ids or reg.distances is None or not reg.labels_path:
            return
        if reg.labels_path != self.labels.text().strip():
            return  # the field names a different file; it applies at the next load
        from large_toolkit.errors import UserInputError

        try:
            truth = read_labels_csv(reg.labels_path, column)
        except UserInputError as exc:
            self.status.setText(f"error: {exc.one_line()}")
            return
        self.state.set_regression_data(reg.ids, reg.distances, truth, reg.image_folder, reg.labels_path)
        self.status.setText(f"{len(reg.ids)} images · ground truth: {column}")

    # -- data -------------------------------------------------------------------------------

    def load(self) -> None:
        """Read the folder, invert every image in a worker, then measure distances."""
        generator, name = self.state.generator, self.inverter.currentText()
        folder, labels_path = self.folder.text().strip(), self.labels.text().strip() or None
        column = self.label_column() if labels_path else None
        if generator is None or not folder or not name:
            self.status.setText(
                "load a model first" if generator is None else "choose a folder" if not folder else "no inverter"
            )
            return
        device = self.device

        def work(progress: Any, token: Any) -> Any:
            import torch

            from large_toolkit.data.folders import id_key, read_image_folder
            from large_toolkit.plugins import get_host
            from large_toolkit.runner import resolve_device
            from large_toolkit.types import LatentSpace

            # the core's lister and reader, as `regress --images`: every format, EXIF, one resize rule
            read = read_image_folder(folder, find_labels=False, resolution=generator.resolution)
            frames = list(read.images)
            truth = read_labels_csv(labels_path, column) if labels_path else {}
            batch = torch.from_numpy(read.images).permute(0, 3, 1, 2).float() / 127.5 - 1.0
            inverter = (
                get_host()
                .inverter(name)
                .create(generator=generator, checkpoint=None, device=str(resolve_device(device)))
            )
            progress(0, 1)
            latents = inverter.invert(batch.to(generator.device), generator, LatentSpace.WPLUS).latents
            progress(1, 1)
            return [id_key(i) for i in read.ids], latents.to("cpu"), frames, truth

        self._source = (folder, labels_path, column)
        self.run_in_worker(work, self._loaded, self.load_button, f"inverting {folder} with {name}…")

    @Slot(object)
    def _loaded(self, payload: Any) -> None:
        ids, latents, frames, truth = payload
        folder, labels_path, column = self._source
        self.set_data(ids, latents, frames, truth, folder, labels_path)
        self.status.setText(f"{len(ids)} images" + (f" · ground truth: {column or 'second column'}" if truth else ""))

    def set_data(
        self,
        ids: list[str],
        latents: Any,
        thumbnails: list[np.ndarray],
        truth: dict[str, float] | None = None,
        folder: str | None = None,
        labels_path: str | None = None,
    ) -> None:
        """Adopt inverted images (also the entry point for tests and scripts)."""
        self.state.regression.latents = latents
        self.state.regression.thumbnails = list(thumbnails)
        self._measure(ids, truth or {}, folder, labels_path)

    def _measure(self, ids: list[str], truth: dict[str, float], folder: str | None, labels_path: str | None) -> None:
        direction, latents = self.state.current_direction, self.state.regression.latents
        if direction is None or latents is None:
            self.status.setText("pick a direction to measure distances")
            return
        distances = distances_for(latents, direction, self.state.edit_indices(), self.state.generator)
        self.state.set_regression_data(ids, distances, truth, folder, labels_path)

    def _remeasure(self) -> None:
        reg = self.state.regression
        if reg.latents is not None and reg.ids:
            self._measure(reg.ids, reg.truth, reg.image_folder, reg.labels_path)

    # -- labels -----------------------------------------------------------------------------

    def _picked(self, item: QListWidgetItem | None, _previous: Any = None) -> None:
        if item is None:
            return
        value = self.state.regression.labelled.get(item.data(Qt.ItemDataRole.UserRole))
        self.value.setText("" if value is None else f"{value:g}")

    def _enter_value(self) -> None:
        item = self.strip.currentItem()
        if item is None:
            return
        text = self.value.text().strip()
        try:
            self.set_label(item.data(Qt.ItemDataRole.UserRole), None if not text else float(text))
        except ValueError:
            self.status.setText(f"not a number: {text!r}")

    def set_label(self, image_id: str, value: float | None) -> None:
        self.state.set_label(image_id, value)

    # -- display ----------------------------------------------------------------------------

    def _refresh(self) -> None:
        reg = self.state.regression
        self.plot.set_data(reg)
        fit = reg.fit
        if fit is None:
            self.metrics.setText(reg.error or f"MAE – · R² – · {len(reg.labelled)} labels")
            self.metrics.setToolTip("")
        else:
            self.metrics.setText(
                f"MAE {format_metric(fit.mae)} · R² {format_metric(fit.r2)} · {fit.n_labels} labels · "
                f"y = {fit.slope:.4g}·d + {fit.intercept:.4g}"
            )
            # full precision on hover, so the numbers can be copied and compared with ``large-tk regress``
            self.metrics.setToolTip(f"MAE {fit.mae!r}\nR² {fit.r2!r}\nslope {fit.slope!r}\nintercept {fit.intercept!r}")
        self.suggestions.setText("Label these next: " + ", ".join(reg.suggestions) if reg.suggestions else "")
        self._fill_strip()

    def _fill_strip(self) -> None:
        reg = self.state.regression
        current = self.strip.currentItem()
        keep = current.data(Qt.ItemDataRole.UserRole) if current is not None else None
        self.strip.blockSignals(True)
        self.strip.clear()
        if reg.distances is not None:
            for i in sorted_order(reg.distances):
                image_id = reg.ids[i]
                mark = f"\n= {reg.labelled[image_id]:g}" if image_id in reg.labelled else ""
                item = QListWidgetItem(f"{image_id}\n{reg.distances[i]:.2f}{mark}")
                item.setData(Qt.ItemDataRole.UserRole, image_id)
                if i < len(reg.thumbnails):
                    item.setIcon(QIcon(to_pixmap(reg.thumbnails[i])))
                self.strip.addItem(item)
                if image_id == keep:
                    self.strip.setCurrentItem(item)
        self.strip.blockSignals(False)

    def _on_state(self, topic: str) -> None:
        if topic == "regression":
            self._refresh()
        elif topic in ("current", "layers"):
            self._remeasure()
        elif topic == "generator":
            self.refresh_inverters()
            self._refresh()
