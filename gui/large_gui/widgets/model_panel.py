"""Model panel: pick a backend from the plugin registry and a checkpoint, load it off the UI thread.

A class-conditional model (``c_dim > 0``) shows a class selector: the state holds the model bound to the
chosen class (:func:`large_toolkit.conditional.bind_class`, what ``--class-idx`` does in the CLI), so every
panel computes on that class without knowing about labels.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from large_gui.state import ExplorerState
from large_gui.widgets.panel import Panel


def describe_generator(generator: Any) -> str:
    """The one-glance summary: resolution, num_ws, w_dim and the style layers with their w index."""
    layers = ", ".join(f"{layer.name}→w{layer.w_index}" for layer in generator.style_layers)
    return (
        f"resolution {generator.resolution} · num_ws {generator.num_ws} · w_dim {generator.w_dim}\n"
        f"style layers ({len(generator.style_layers)}): {layers}"
    )


CHECKPOINT_FILTER = "Checkpoints (*.pkl *.pt *.pth *.safetensors);;All files (*)"


class ModelPanel(Panel):
    """Backend combo, checkpoint path (empty = the backend's bundled demo), Load, class (conditional models
    only), model summary."""

    def __init__(self, state: ExplorerState, device: str = "auto", parent: QWidget | None = None) -> None:
        super().__init__("Model", state, device, parent)
        self.backend = QComboBox()
        self.checkpoint = QLineEdit()
        self.checkpoint.setPlaceholderText("bundled demo (leave empty)")
        browse = QPushButton("…")
        browse.setToolTip("Choose a checkpoint file")
        browse.clicked.connect(self._browse)
        self.load_button = QPushButton("Load")
        self.load_button.clicked.connect(self.load)
        self.class_idx = QSpinBox()
        self.class_idx.setToolTip("Class of the class-conditional model (the CLI's --class-idx)")
        self.class_idx.valueChanged.connect(self._class_changed)
        self.class_label = QLabel("Class")
        self._model: Any = None  # the model as loaded (a conditional one unbound)
        self.info = QLabel("no model loaded")
        self.info.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.checkpoint, 1)
        row.addWidget(browse)
        row.addWidget(self.load_button)
        form = QFormLayout(self)
        form.addRow("Backend", self.backend)
        form.addRow("Checkpoint", row)
        form.addRow(self.class_label, self.class_idx)
        self._show_class_selector(0)
        form.addRow(self.status)
        form.addRow(self.info)
        self.refresh_backends()
        state.changed.connect(self._on_state)

    def refresh_backends(self) -> None:
        from large_toolkit.plugins import get_host

        current = self.backend.currentText()
        self.backend.clear()
        for name, reg in sorted(get_host().registries["generator"].items()):
            self.backend.addItem(name)
            self.backend.setItemData(self.backend.count() - 1, reg.description)
        if current:
            self.backend.setCurrentText(current)

    def _browse(self) -> None:
        path = self.choose_file("Checkpoint", CHECKPOINT_FILTER)
        if path:
            self.checkpoint.setText(path)

    def load(self) -> None:
        """Build the generator in a worker; the state adopts it when it arrives."""
        backend = self.backend.currentText()
        if not backend:
            self.status.setText("no generator backend is installed")
            return
        checkpoint = self.checkpoint.text().strip() or None
        device = self.device

        def work(_progress: Any, _token: Any) -> Any:
            from large_toolkit.plugins import load_generator

            return load_generator(backend, checkpoint, device)

        self._pending = (backend, checkpoint)
        self.run_in_worker(work, self._loaded, self.load_button, f"loading {backend}…")

    @Slot(object)
    def _loaded(self, generator: Any) -> None:
        backend, checkpoint = self._pending
        self._model = generator
        self._show_class_selector(generator.c_dim)
        self._adopt(backend, checkpoint)

    def _adopt(self, backend: str, checkpoint: str | None) -> None:
        """Hand the state the loaded model, bound to the selected class when it is conditional."""
        from large_toolkit.conditional import bind_class

        class_idx = self.class_idx.value() if self._model.c_dim else None
        self.state.set_generator(bind_class(self._model, class_idx), backend, checkpoint)

    def _show_class_selector(self, classes: int) -> None:
        self.class_idx.blockSignals(True)
        self.class_idx.setRange(0, max(classes - 1, 0))
        self.class_idx.setValue(0)
        self.class_idx.blockSignals(False)
        self.class_idx.setVisible(classes > 0)
        self.class_label.setVisible(classes > 0)

    @Slot(int)
    def _class_changed(self, _value: int) -> None:
        if self._model is not None and self._model.c_dim:
            self._adopt(self.state.generator_name, self.state.checkpoint)

    def _on_state(self, topic: str) -> None:
        if topic == "generator" and self.state.generator is not None:
            name = self.state.generator_name or type(self.state.generator).__name__
            self.status.setText(f"{name}: {self.state.checkpoint or 'bundled'} on {self.state.generator.device}")
            generator = self.state.generator
            if getattr(generator, "inner", generator) is not self._model:  # set by someone else: no selector
                self._model = None
                self._show_class_selector(0)
            bound = (
                f"class {generator.class_idx} of {generator.classes} · "
                if self._model is not None and self._model.c_dim
                else ""
            )
            self.info.setText(bound + describe_generator(generator))
