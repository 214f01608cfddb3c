"""``python -m large_gui.screenshot OUT.png``: the main window on a real generator, for the README.

Runs offscreen: loads the backend's bundled demo, computes SeFa, moves the first
slider, renders an edit strip, then fills the regression panel the way the demo
test does (synthetic demo images + their ``labels.csv``, the ``encoder``
inverter, two labels typed on the advised images) so the picture shows every
panel in use, not empty placeholders.  It waits for the workers, then grabs the window.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _wait(app: Any, predicate: Callable[[], bool], timeout: float = 120.0) -> None:
    end = time.time() + timeout
    while not predicate() and time.time() < end:
        app.processEvents()
        time.sleep(0.02)


def _label_through_ui(win: Any, image_id: str, value: float) -> None:
    """Select the image in the strip, type its value, press Enter (as a user would)."""
    from PySide6.QtCore import Qt

    panel = win.regression_panel
    for row in range(panel.strip.count()):
        if panel.strip.item(row).data(Qt.ItemDataRole.UserRole) == image_id:
            panel.strip.setCurrentRow(row)
            break
    panel.value.setText(f"{value:.3g}")
    panel.value.returnPressed.emit()


def fill_regression(
    app: Any, win: Any, folder: Path, *, n: int, seed: int, direction: int, column: str, inverter: str
) -> None:
    """Demo images with ground truth → invert in the worker → two labels on the advised images."""
    from large_toolkit.data.folders import LABELS_FILE, write_image_folder
    from large_toolkit.data.synthetic import generate

    data = generate(n, seed)
    write_image_folder(folder, data.images, data.labels)
    win.directions_panel.list.setCurrentRow(direction)
    panel = win.regression_panel
    panel.labels.setText(str(folder / LABELS_FILE))
    panel.column.setCurrentText(column)
    panel.folder.setText(str(folder))
    panel.inverter.setCurrentText(inverter)
    panel.load()
    _wait(app, lambda: len(win.state.regression.ids) == n)
    reg = win.state.regression
    for image_id in reg.suggestions[:2]:
        _label_through_ui(win, image_id, reg.truth[image_id])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out")
    parser.add_argument("--backend", default="stylegan2")
    parser.add_argument("--finder", default="sefa")
    parser.add_argument("--images", type=int, default=64, help="demo images to regress (0: none)")
    parser.add_argument("--direction", type=int, default=3, help="list row the regression measures (sefa:3 = light)")
    parser.add_argument("--column", default="light_intensity", help="labels.csv column used as ground truth")
    parser.add_argument("--inverter", default="encoder")
    parser.add_argument("--seed", type=int, default=5, help="seed of the demo images")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import torch
    from PySide6.QtCore import QThreadPool
    from PySide6.QtWidgets import QApplication

    from large_gui.main_window import MainWindow

    torch.set_num_threads(1)  # the demo is tiny; more threads only add start-up jitter
    app = QApplication.instance() or QApplication([])
    win = MainWindow(device="cpu")
    win.show()
    win.load_default_model(args.backend)
    _wait(app, lambda: win.view.frame is not None)
    win.directions_panel.finder.setCurrentText(args.finder)
    win.directions_panel.compute()
    _wait(app, lambda: win.directions_panel.list.count() > 0)
    win.directions_panel.list.item(1).setCheckState(win.directions_panel.list.item(1).checkState().Checked)
    win.directions_panel.sliders[0].slider.setValue(30)
    win.view.make_strip()
    _wait(app, lambda: win.view.strip.frame is not None and win.state.importance is not None)
    with tempfile.TemporaryDirectory() as tmp:
        if args.images > 0:
            fill_regression(
                app,
                win,
                Path(tmp) / "demo_images",
                n=args.images,
                seed=args.seed,
                direction=args.direction,
                column=args.column,
                inverter=args.inverter,
            )
        _wait(app, lambda: QThreadPool.globalInstance().activeThreadCount() == 0)
        app.processEvents()
        win.grab().save(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
