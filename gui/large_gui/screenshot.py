"""``python -m large_gui.screenshot OUT.png``: the main window on a real generator, for the README.

Runs offscreen: loads the backend's bundled demo, computes SeFa, moves the first
slider, renders an edit strip, waits for the workers, then grabs the window.
"""

from __future__ import annotations

import argparse
import os
import time


def _wait(app: object, predicate: object, timeout: float = 120.0) -> None:
    end = time.time() + timeout
    while not predicate() and time.time() < end:  # type: ignore[operator]
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.02)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out")
    parser.add_argument("--backend", default="stylegan2")
    parser.add_argument("--finder", default="sefa")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QThreadPool
    from PySide6.QtWidgets import QApplication

    from large_gui.main_window import MainWindow

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
    _wait(app, lambda: QThreadPool.globalInstance().activeThreadCount() == 0)
    app.processEvents()
    win.grab().save(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
