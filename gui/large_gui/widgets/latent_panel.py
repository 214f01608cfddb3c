"""Latent panel: seed, truncation psi, W / W+ mode, and starting from a real image by inversion."""

from __future__ import annotations

import random
from typing import Any

import torch
from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from large_gui.state import ExplorerState
from large_gui.widgets.options_form import OptionsForm
from large_gui.widgets.panel import Panel, fill_inverters

MODE_LABELS = {"w": "W (one code, every layer)", "wplus": "W+ (edit chosen layers)"}


def image_to_tensor(path: str, resolution: int) -> torch.Tensor:
    """An image file -> float ``[1, 3, R, R]`` in [-1, 1] through the core reader (every format, EXIF, the
    ``center-crop`` resize rule), exactly as ``large-tk invert`` reads it."""
    from large_toolkit.io.images import fit_to_resolution, read_image

    frame = fit_to_resolution(read_image(path), resolution)
    return torch.from_numpy(frame).permute(2, 0, 1).float().unsqueeze(0) / 127.5 - 1.0


IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff);;All (*)"


class LatentPanel(Panel):
    """Seed / psi / mode bound to the state; "Invert image…" runs a registered inverter in a worker."""

    def __init__(self, state: ExplorerState, device: str = "auto", parent: QWidget | None = None) -> None:
        super().__init__("Latent", state, device, parent)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(state.seed)
        self.seed.valueChanged.connect(state.set_seed)
        shuffle = QPushButton("Random")
        shuffle.clicked.connect(lambda: self.seed.setValue(random.randrange(0, 100000)))
        self.psi = QDoubleSpinBox()
        self.psi.setRange(-1.0, 2.0)
        self.psi.setSingleStep(0.05)
        self.psi.setValue(state.psi)
        self.psi.valueChanged.connect(state.set_psi)
        self.mode = QComboBox()
        for key, label in MODE_LABELS.items():
            self.mode.addItem(label, key)
        self.mode.currentIndexChanged.connect(lambda _i: state.set_mode(self.mode.currentData()))
        self.inverter = QComboBox()
        self.inverter_checkpoint = QLineEdit()
        self.inverter_checkpoint.setPlaceholderText("inverter weights (e4e/pSp .pt, encoder .safetensors)")
        self.inverter_form = OptionsForm()  # the chosen inverter's declared options (projector steps, ...)
        self.inverter.currentTextChanged.connect(self._inverter_changed)
        self.invert_button = QPushButton("Invert image…")
        self.invert_button.clicked.connect(self._choose_image)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(shuffle)
        inv_row = QHBoxLayout()
        inv_row.addWidget(self.inverter, 1)
        inv_row.addWidget(self.invert_button)
        form = QFormLayout(self)
        form.addRow("Seed", seed_row)
        form.addRow("Truncation ψ", self.psi)
        form.addRow("Space", self.mode)
        form.addRow("Inverter", inv_row)
        form.addRow("Weights", self.inverter_checkpoint)
        form.addRow(self.inverter_form)
        form.addRow(self.status)
        self.refresh_inverters()
        state.changed.connect(self._on_state)

    def refresh_inverters(self) -> None:
        fill_inverters(self.inverter)
        self.invert_button.setEnabled(self.inverter.count() > 0)
        if self.inverter.count() == 0:
            self.inverter.addItem("(no inverter installed)")

    def _inverter_changed(self, name: str) -> None:
        """Rebuild the options form from the inverter's registered declaration."""
        from large_toolkit.plugins import get_host

        registry = get_host().registries["inverter"]
        declared = registry[name].meta.get("options") if name in registry else None
        self.inverter_form.set_options(declared, f"inverter {name}")

    def _on_state(self, topic: str) -> None:
        if topic == "generator":  # capabilities decide which controls apply
            from large_toolkit.interfaces import Capability

            self.psi.setEnabled(self.state.truncates)
            self.psi.setToolTip("" if self.state.truncates else "this generator has no truncation")
            has_wplus = self.state.generator is not None and self.state.generator.has(Capability.WPLUS)
            self.mode.setEnabled(has_wplus)
        if topic == "layers":
            index = self.mode.findData(self.state.mode)
            if index != self.mode.currentIndex():
                self.mode.blockSignals(True)
                self.mode.setCurrentIndex(index)
                self.mode.blockSignals(False)
        elif topic == "latent":
            self.status.setText(f"start: {self.state.base_source}")

    def _choose_image(self) -> None:
        path = self.choose_file("Image to invert", IMAGE_FILTER)
        if path:
            self.invert(path)

    def invert(self, path: str) -> None:
        """Read ``path`` and invert it with the chosen inverter; the result becomes the base code (W+)."""
        generator, name = self.state.generator, self.inverter.currentText()
        if generator is None:
            self.status.setText("load a model first")
            return
        from large_toolkit.errors import UserInputError

        try:
            images = image_to_tensor(path, generator.resolution)
        except UserInputError as exc:
            self.status.setText(f"error: {exc.one_line()}")
            return
        device = self.device
        try:
            options = self.inverter_form.values()
        except ValueError as exc:  # the core's one-line UserInputError for a bad typed value
            self.status.setText(f"error: {exc}")
            return
        checkpoint = self.inverter_checkpoint.text().strip() or None

        def work(_progress: Any, _token: Any) -> Any:
            from large_toolkit.plugins import get_host
            from large_toolkit.runner import resolve_device
            from large_toolkit.types import LatentSpace

            inverter = (
                get_host()
                .inverter(name)
                .create(generator=generator, checkpoint=checkpoint, device=str(resolve_device(device)), **options)
            )
            result = inverter.invert(images.to(generator.device), generator, LatentSpace.WPLUS)
            return result.latents.to_wplus(generator.num_ws).tensor

        self.run_in_worker(work, self._inverted, self.invert_button, f"inverting with {name}…")

    @Slot(object)
    def _inverted(self, ws: torch.Tensor) -> None:
        self.state.set_base_latent(ws, f"inverted ({self.inverter.currentText()})")
        self.state.set_mode("wplus")
