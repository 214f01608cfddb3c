"""``large-tk gui``: start the desktop explorer (needs the ``gui`` extra, i.e. PySide6)."""

from __future__ import annotations

import importlib.util
import sys
from typing import Annotated

import typer

from large_toolkit.cli import options as opts
from large_toolkit.cli.state import OPTIONS

INSTALL_HINT = "error: the GUI needs PySide6: pip install 'large-toolkit[gui]'"


def install(app: typer.Typer) -> None:
    @app.command("gui", epilog="Examples:\n\n  large-tk gui\n\n  large-tk --device cpu gui --checkpoint ffhq.pkl")
    def gui(
        backend: Annotated[str | None, opts.backend("Generator backend to load at start.")] = None,
        checkpoint: Annotated[str | None, opts.checkpoint()] = None,
        no_load: Annotated[bool, typer.Option("--no-load", help="Start without loading a model.")] = False,
    ) -> None:
        """Open the desktop explorer: directions, sliders, per-layer importance, few-shot regression."""
        if importlib.util.find_spec("PySide6") is None or importlib.util.find_spec("large_gui") is None:
            print(INSTALL_HINT, file=sys.stderr)
            raise typer.Exit(2)
        from large_gui import main

        argv = ["--device", OPTIONS.device]
        if backend:
            argv += ["--backend", backend]
        if checkpoint:
            argv += ["--checkpoint", checkpoint]
        if no_load:
            argv.append("--no-load")
        raise typer.Exit(main(argv))
