"""What the side panels share: a status line, slow work in a worker, the file chooser, the inverter list.

Every panel runs model calls off the GUI thread the same way (button off while the
job runs, the error as one status line, the button back on when it ends); keeping
that here means a fix to it reaches every panel at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QComboBox, QFileDialog, QGroupBox, QLabel, QPushButton, QWidget

from large_gui.state import ExplorerState
from large_gui.workers import CancelToken, Job, start_job

Work = Callable[[Callable[[int, int], None], CancelToken], Any]

DEFAULT_INVERTER = "encoder"  # works with no weights file for the bundled demo model


def fill_inverters(combo: QComboBox) -> None:
    """List the registered inverters in ``combo``, the default one chosen."""
    from large_toolkit.plugins import get_host

    combo.clear()
    combo.addItems(sorted(get_host().registries["inverter"]))
    combo.setCurrentText(DEFAULT_INVERTER)


class Panel(QGroupBox):
    """A titled side panel bound to the explorer state, with a status line its jobs report to."""

    def __init__(self, title: str, state: ExplorerState, device: str = "auto", parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.state, self.device = state, device
        self.status = QLabel("")
        self.job: Job | None = None
        self._busy_button: QPushButton | None = None

    def run_in_worker(self, work: Work, on_result: Callable[[Any], None], button: QPushButton, text: str) -> Job:
        """Start ``work`` off the GUI thread; ``button`` stays off until it ends, an error lands in the status."""
        self.status.setText(text)
        button.setEnabled(False)
        self._busy_button = button
        self.job = Job(work)
        self.job.signals.result.connect(on_result)
        self.job.signals.error.connect(self._failed)
        self.job.signals.finished.connect(self._done)
        start_job(self.job)
        return self.job

    def choose_file(self, title: str, filters: str) -> str:
        """The path the user picks in an open-file dialog; empty when cancelled."""
        path, _ = QFileDialog.getOpenFileName(self, title, "", filters)
        return path

    def choose_save_file(self, title: str, suggested: str, filters: str) -> str:
        """The path the user picks to write to (``suggested`` prefilled); empty when cancelled."""
        path, _ = QFileDialog.getSaveFileName(self, title, suggested, filters)
        return path

    def choose_folder(self, title: str) -> str:
        """The folder the user picks; empty when cancelled."""
        return QFileDialog.getExistingDirectory(self, title)

    @Slot(str)
    def _failed(self, message: str) -> None:
        self.status.setText(f"error: {message}")

    @Slot()
    def _done(self) -> None:
        if self._busy_button is not None:
            self._busy_button.setEnabled(True)
