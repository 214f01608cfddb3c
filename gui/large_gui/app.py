"""Application entry point: ``large-tk gui`` and the ``large-tk-gui`` script both end here."""

from __future__ import annotations

import argparse
import os
import sys


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="large-tk-gui", description="Explore directions and layers, and regress.")
    parser.add_argument("--backend", default=None, help="generator backend to load at start (default: stylegan2)")
    parser.add_argument("--checkpoint", default=None, help="checkpoint file (default: the backend's bundled demo)")
    parser.add_argument("--device", default=os.environ.get("LARGE_TK_DEVICE", "auto"), help="auto, cpu, cuda:N")
    parser.add_argument("--no-load", action="store_true", help="start without loading a model")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Create the QApplication, show the window, and load the default model in the background."""
    args = parse_args(argv)
    import torch
    from PySide6.QtWidgets import QApplication

    from large_gui.main_window import MainWindow

    torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))  # leave the UI thread a core
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow(device=args.device)
    if args.checkpoint:
        window.model_panel.checkpoint.setText(args.checkpoint)
    window.show()
    if not args.no_load:
        registry = window.model_panel.backend
        default = args.backend or ("stylegan2" if registry.findText("stylegan2") >= 0 else None)
        window.load_default_model(default)
    return int(app.exec())
