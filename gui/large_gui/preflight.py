"""Can a Qt window open here?  Checked before any QApplication exists, so a missing piece is one line.

Why: without PySide6 the import fails with a traceback, and without a display Qt *aborts* the process
(exit 134, a core dump message) from inside ``QApplication()``, which no ``try`` can catch.  So the display is
probed in a short child process first; its failure is translated into the fix: install the ``gui`` extra,
install ``libxcb-cursor0`` (Qt >= 6.5 on X11 needs it), set ``DISPLAY``, or run headless with
``QT_QPA_PLATFORM=offscreen``.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

_PROBE = "from PySide6.QtWidgets import QApplication; QApplication(['probe'])"
HEADLESS = ("offscreen", "minimal", "vnc")


def problem() -> str | None:
    """None when a window can open; else one line naming the problem and the fix."""
    if importlib.util.find_spec("PySide6") is None:
        return "the GUI needs PySide6: pip install 'large-toolkit[gui]'"
    platform = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0]
    if platform in HEADLESS:
        return None
    try:
        proc = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return None  # slow, not broken: let the real start decide
    if proc.returncode == 0:
        return None
    err = proc.stderr
    cursor = "xcb-cursor" in err
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        extra = "; on a desktop Qt's X11 plugin also needs libxcb-cursor0" if cursor else ""
        return f"no display to open a window on: set DISPLAY, or run with QT_QPA_PLATFORM=offscreen{extra}"
    if cursor:
        return "Qt cannot load its X11 plugin: install libxcb-cursor0 (apt install libxcb-cursor0)"
    last = next((ln.strip() for ln in reversed(err.splitlines()) if ln.strip()), f"exit {proc.returncode}")
    return f"Qt cannot open a window ({last}); try QT_QPA_PLATFORM=offscreen, or install libxcb-cursor0"
