"""large-tk desktop GUI: explore directions and layers of a generator, and regress, interactively.

The package is split so that the logic is testable without a display:
:mod:`large_gui.state`, :mod:`large_gui.edits` and :mod:`large_gui.render` import no
Qt; the widgets under :mod:`large_gui.widgets` only bind to the state and hand heavy
work to the background workers in :mod:`large_gui.workers`.
"""

from __future__ import annotations

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Start the GUI (imported lazily so ``import large_gui`` does not need Qt); a missing piece is one line."""
    import sys

    from large_gui.preflight import problem

    issue = problem()
    if issue is not None:
        print(f"error: {issue}", file=sys.stderr)
        return 2
    from large_gui.app import main as _main

    return _main(argv)
