"""Model panel: pick a backend from the plugin registry and a checkpoint, load it off the UI thread."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

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
    """Backend combo, checkpoint path (empty = the backend's bundled demo), Load, model summary."""

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
        self.info = QLabel("no model loaded")
        self.info.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.checkpoint, 1)
        row.addWidget(browse)
        row.addWidget(self.load_button)
        form = QFormLayout(self)
        form.addRow("Backend", self.backend)
        form.addRow("Checkpoint", row)
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
        self.state.set_generator(generator, backend, checkpoint)

    def _on_state(self, topic: str) -> None:
        if topic == "generator" and self.state.generator is not None:
            name = self.state.generator_name or type(self.state.generator).__name__
            self.status.setText(f"{name}: {self.state.checkpoint or 'bundled'} on {self.state.generator.device}")
            self.info.setText(describe_generator(self.state.generator))
