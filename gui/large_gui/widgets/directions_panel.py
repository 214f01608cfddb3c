"""Directions panel: compute with a registered finder, list with scores, sliders, layer range, save/load."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from large_gui.state import ExplorerState
from large_gui.widgets.options_form import OptionsForm
from large_gui.widgets.panel import Panel
from large_gui.workers import Job, start_job

SLIDER_STEPS = 10  # slider units per alpha unit: range ±10 in 0.1 steps, as GANSpace's viewer
SLIDER_RANGE = 10.0


def parse_options(text: str) -> dict[str, Any]:
    """``"layers=0-1, num=8"`` -> ``{"layers": "0-1", "num": 8}`` (numbers become numbers)."""
    options: dict[str, Any] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise ValueError(f"option {part.strip()!r} is not key=value")
        key, value = (p.strip() for p in part.split("=", 1))
        for cast in (int, float):
            try:
                options[key] = cast(value)
                break
            except ValueError:
                continue
        else:
            options[key] = value
    return options


def _span_text(rows: list[int] | None) -> str:
    if not rows:
        return ""
    return (
        f"{rows[0]}-{rows[-1]}"
        if rows == list(range(rows[0], rows[-1] + 1)) and len(rows) > 1
        else ",".join(map(str, rows))
    )


class DirectionSlider(QWidget):
    """One row: name, a ±10 slider in 0.1 steps, the current alpha, and this direction's own w layers."""

    def __init__(self, state: ExplorerState, index: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.index = state, index
        entry = state.entries[index]
        self.name = QLabel(entry.direction.name or f"#{index}")
        self.name.setMinimumWidth(70)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(int(-SLIDER_RANGE * SLIDER_STEPS), int(SLIDER_RANGE * SLIDER_STEPS))
        self.slider.setValue(round(entry.alpha * SLIDER_STEPS))
        self.value = QLabel(f"{entry.alpha:+.1f}")
        self.value.setMinimumWidth(40)
        self.slider.valueChanged.connect(self._moved)
        self.layers = QLineEdit(_span_text(entry.layers))
        self.layers.setPlaceholderText("layers")
        self.layers.setToolTip("w layers this direction edits, e.g. 2-5 or 0,3 (empty: the panel's range)")
        self.layers.setMaximumWidth(70)
        self.layers.editingFinished.connect(self._layers_changed)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.name)
        row.addWidget(self.slider, 1)
        row.addWidget(self.value)
        row.addWidget(self.layers)

    def _layers_changed(self) -> None:
        from large_toolkit.errors import UserInputError

        try:
            self.state.set_entry_layers(self.index, self.layers.text())
            self.layers.setStyleSheet("")
        except UserInputError as exc:
            self.layers.setStyleSheet("color: #b00020")
            self.layers.setToolTip(exc.one_line())

    def _moved(self, value: int) -> None:
        alpha = value / SLIDER_STEPS
        self.value.setText(f"{alpha:+.1f}")
        self.state.set_alpha(self.index, alpha)

    def sync(self) -> None:
        alpha = self.state.entries[self.index].alpha
        self.slider.blockSignals(True)
        self.slider.setValue(round(alpha * SLIDER_STEPS))
        self.slider.blockSignals(False)
        self.value.setText(f"{alpha:+.1f}")


DEFAULT_FINDER = "sefa"
THUMBNAIL_STEPS = (-3.0, 0.0, 3.0)
THUMBNAIL_LIMIT = 32


class DirectionsPanel(Panel):
    """Finder → Compute (worker, progress, cancel) → checkable list → one slider per checked direction."""

    def __init__(self, state: ExplorerState, parent: QWidget | None = None) -> None:
        super().__init__("Directions", state, parent=parent)
        self.finder = QComboBox()
        self.options = QLineEdit()
        self.options.setPlaceholderText("more options, e.g. layers=0-1, num=10")
        self.form = OptionsForm()  # built from the finder's declared options
        self.finder.currentTextChanged.connect(self._finder_changed)
        self.compute_button = QPushButton("Compute")
        self.compute_button.clicked.connect(self.compute)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(10)
        self.list = QListWidget()
        self.list.setMaximumHeight(160)
        self.list.setIconSize(QSize(72, 24))  # a 3-frame strip per direction
        self.thumb_job: Job | None = None
        self.thumbnails: list[Any] = []
        self.list.itemChanged.connect(self._item_changed)
        self.list.currentRowChanged.connect(self._row_changed)
        self.sliders_box = QWidget()
        self.sliders_layout = QVBoxLayout(self.sliders_box)
        self.sliders_layout.setContentsMargins(0, 0, 0, 0)
        self.sliders_layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.sliders: list[DirectionSlider] = []
        self.layer_start, self.layer_end = QSpinBox(), QSpinBox()
        self.layer_start.valueChanged.connect(self._range_changed)
        self.layer_end.valueChanged.connect(self._range_changed)
        all_layers = QPushButton("All")
        all_layers.clicked.connect(self._all_layers)
        reset = QPushButton("Reset")
        reset.clicked.connect(state.reset_alphas)
        save, load = QPushButton("Save…"), QPushButton("Load…")
        save.clicked.connect(self._save_dialog)
        load.clicked.connect(self._load_dialog)

        grid = QGridLayout()
        grid.addWidget(QLabel("Finder"), 0, 0)
        grid.addWidget(self.finder, 0, 1)
        grid.addWidget(self.compute_button, 0, 2)
        grid.addWidget(self.cancel_button, 0, 3)
        grid.addWidget(self.form, 1, 0, 1, 4)
        grid.addWidget(self.options, 2, 0, 1, 4)
        layers_row = QHBoxLayout()
        layers_row.addWidget(QLabel("Edit w layers"))
        layers_row.addWidget(self.layer_start)
        layers_row.addWidget(QLabel("to"))
        layers_row.addWidget(self.layer_end)
        layers_row.addWidget(all_layers)
        layers_row.addStretch(1)
        buttons = QHBoxLayout()
        for button in (reset, save, load):
            buttons.addWidget(button)
        column = QVBoxLayout(self)
        column.addLayout(grid)
        column.addWidget(self.progress)
        column.addWidget(self.status)
        column.addWidget(self.list)
        column.addWidget(self.sliders_box)
        column.addLayout(layers_row)
        column.addLayout(buttons)
        self.refresh_finders()
        state.changed.connect(self._on_state)

    # -- finders ----------------------------------------------------------------------------

    def refresh_finders(self) -> None:
        from large_toolkit.plugins import get_host

        self.finder.clear()
        for name, reg in sorted(get_host().registries["direction_finder"].items()):
            self.finder.addItem(name)
            self.finder.setItemData(self.finder.count() - 1, reg.description, Qt.ItemDataRole.ToolTipRole)
        if self.finder.findText(DEFAULT_FINDER) >= 0:
            self.finder.setCurrentText(DEFAULT_FINDER)  # closed form, no training: the right first try

    def _finder_changed(self, name: str) -> None:
        """Rebuild the options form from the chosen finder's declaration."""
        from large_toolkit.plugins import get_host

        declared = None
        if name:
            try:
                declared = getattr(get_host().direction_finder(name).create(), "Options", None)
            except Exception as exc:  # a broken plugin must not take the panel down
                self.status.setText(f"error: {name}: {exc}")
        self.form.set_options(declared, f"finder {name}")

    def compute(self) -> None:
        """Run the chosen finder (through the core's cache) in a worker."""
        generator, name = self.state.generator, self.finder.currentText()
        if generator is None or not name:
            self.status.setText("load a model first" if generator is None else "no direction finder installed")
            return
        try:
            config = {**self.form.values(), **parse_options(self.options.text())}
        except ValueError as exc:  # includes the core's UserInputError for a bad typed value
            self.status.setText(f"error: {exc}")
            return

        def work(progress: Any, token: Any) -> Any:
            from large_toolkit.directions import find_directions

            def report(_what: str, done: int, total: int) -> None:
                if token.cancelled:
                    raise InterruptedError("cancelled")
                progress(done, total)

            return find_directions(name, generator, config, progress=report)

        self.job = Job(work)
        self.job.signals.result.connect(self._computed)
        self.job.signals.error.connect(self._failed)
        self.job.signals.progress.connect(self._progress)
        self.job.signals.finished.connect(self._finished)
        self._busy(True, f"computing {name}…")
        start_job(self.job)

    def cancel(self) -> None:
        """Stop waiting: the finder stops at its next progress report and its result is discarded."""
        if self.job is not None:
            self.job.cancel()
        self._busy(False, "cancelled")

    def _busy(self, busy: bool, text: str) -> None:
        self.compute_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.progress.setRange(0, 0 if busy else 1)  # indeterminate until the finder reports
        self.status.setText(text)

    @Slot(int, int)
    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    @Slot(object)
    def _computed(self, dirs: Any) -> None:
        job = self.job
        if job is not None and job.token.cancelled:
            return  # finished before Cancel reached it, but the user has cancelled: discard
        self.state.set_directions(dirs)
        self.status.setText(f"{len(dirs)} directions ({dirs.score_name})")

    def render_thumbnails(self) -> None:
        """A small strip per direction in the list (the start code at -step, 0, +step), rendered in a worker."""
        generator, base = self.state.generator, self.state.base_ws
        directions = [e.direction for e in self.state.entries[:THUMBNAIL_LIMIT]]
        if generator is None or base is None or not directions:
            return
        if self.thumb_job is not None:
            self.thumb_job.cancel()
        base = base.clone()

        def work(_progress: Any, token: Any) -> list[Any]:
            from large_gui.render import render_strip

            strips = []
            for direction in directions:
                if token.cancelled:
                    break
                strips.append(render_strip(generator, base, direction, None, THUMBNAIL_STEPS))
            return strips

        self.thumb_job = Job(work)
        self.thumb_job.signals.result.connect(self._thumbnails)
        start_job(self.thumb_job)

    @Slot(object)
    def _thumbnails(self, strips: list[Any]) -> None:
        from large_gui.qimage import to_pixmap

        height = self.list.iconSize().height()
        for row, strip in enumerate(strips):
            item = self.list.item(row)
            if item is not None:
                pixmap = to_pixmap(strip)
                item.setIcon(QIcon(pixmap.scaledToHeight(height)))
        self.thumbnails = strips

    @Slot()
    def _finished(self) -> None:
        job = self.job
        if job is not None and self.sender() is job.signals and not job.token.cancelled:
            self._busy(False, self.status.text())

    # -- list and sliders -------------------------------------------------------------------

    def _rebuild_list(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for entry in self.state.entries:
            item = QListWidgetItem(entry.label)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if entry.selected else Qt.CheckState.Unchecked)
            item.setToolTip("tick to get a slider; select to inspect layers and regress")
            self.list.addItem(item)
        if self.state.current is not None:
            self.list.setCurrentRow(self.state.current)
        self.list.blockSignals(False)

    def _rebuild_sliders(self) -> None:
        for slider in self.sliders:
            self.sliders_layout.removeWidget(slider)
            slider.hide()  # deleteLater waits for the event loop; the old row must vanish now
            slider.setParent(None)
            slider.deleteLater()
        self.sliders = [DirectionSlider(self.state, i, self.sliders_box) for i in self.state.selected_indices()]
        for slider in self.sliders:
            self.sliders_layout.addWidget(slider)
            slider.show()  # a child added to a visible parent stays hidden until shown

    def _item_changed(self, item: QListWidgetItem) -> None:
        self.state.set_selected(self.list.row(item), item.checkState() == Qt.CheckState.Checked)

    def _row_changed(self, row: int) -> None:
        self.state.set_current(row if row >= 0 else None)

    # -- layer range ------------------------------------------------------------------------

    def _range_changed(self, _value: int) -> None:
        if self.state.generator is not None:
            self.state.set_layer_range(self.layer_start.value(), self.layer_end.value())

    def _all_layers(self) -> None:
        self.state.all_layers()

    def _sync_range(self) -> None:
        last = max(self.state.num_ws - 1, 0)
        layers = self.state.layers or [0]
        for spin, value in ((self.layer_start, layers[0]), (self.layer_end, layers[-1])):
            spin.blockSignals(True)
            spin.setRange(0, last)
            spin.setValue(value)
            spin.blockSignals(False)
        wplus = self.state.mode == "wplus"
        self.layer_start.setEnabled(True)
        self.layer_end.setEnabled(True)
        self.layer_start.setToolTip("" if wplus else "W mode edits every layer; choosing a range switches to W+")

    def _on_state(self, topic: str) -> None:
        if topic in ("directions", "latent"):
            self.render_thumbnails()
        if topic in ("directions", "generator"):
            self._rebuild_list()
            self._rebuild_sliders()
        elif topic == "selection":
            self._rebuild_sliders()
        elif topic == "alpha":
            for slider in self.sliders:
                slider.sync()
        if topic in ("layers", "generator"):
            self._sync_range()

    # -- files ------------------------------------------------------------------------------

    def _save_dialog(self) -> None:
        path = self.choose_save_file("Save directions", "directions.safetensors", "*.safetensors")
        if path:
            self.save(path)

    def _load_dialog(self) -> None:
        path = self.choose_file("Load directions", "Directions (*.safetensors *.npy *.npz *.pt);;All (*)")
        if path:
            self.load(path)

    def save(self, path: str) -> None:
        from large_toolkit.io.artifacts import save_directions

        try:
            save_directions(path, self.state.direction_set(), self.state.generator)
            self.status.setText(f"saved {len(self.state.entries)} directions to {path}")
        except Exception as exc:
            self.status.setText(f"error: {exc}")

    def load(self, path: str) -> None:
        """Read our safetensors or any original format the core understands."""
        from large_toolkit.io.direction_formats import load_direction_file

        try:
            dirs = load_direction_file(path, self.state.generator)
        except Exception as exc:
            self.status.setText(f"error: {exc}")
            return
        self.state.set_directions(dirs)
        self.status.setText(f"loaded {len(dirs)} directions from {path}")
