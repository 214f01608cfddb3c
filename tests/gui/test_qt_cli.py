"""``large-tk gui``: registered, and a clear one-line error when PySide6 is missing."""

from __future__ import annotations

import importlib.util

import pytest
from typer.testing import CliRunner

pytest.importorskip("PySide6")


def test_gui_command_is_listed():
    from large_toolkit.cli.app import build_app

    result = CliRunner().invoke(build_app(), ["gui", "--help"])
    assert result.exit_code == 0 and "--checkpoint" in result.output


def test_missing_pyside6_names_the_extra(monkeypatch):
    from large_toolkit.cli.app import build_app

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "PySide6" else real(name, *a))
    result = CliRunner().invoke(build_app(), ["gui"])
    assert result.exit_code == 2
    assert "pip install 'large-toolkit[gui]'" in result.output


@pytest.mark.parametrize("entry", [["-m", "large_toolkit", "gui", "--no-load"], ["-m", "large_gui"]])
def test_no_display_is_one_line_not_an_abort(tmp_path, entry):
    """Without a display Qt would abort (exit 134); both entry points say what to do instead."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = os.pathsep.join([str(root), str(root / "plugins"), str(root / "gui")])
    proc = subprocess.run([sys.executable, *entry], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    if proc.returncode == 0:
        pytest.skip("this machine can open a window")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "QT_QPA_PLATFORM=offscreen" in lines[0] and "Traceback" not in proc.stderr


def test_preflight_names_the_extra_without_pyside6(monkeypatch):
    from large_gui import preflight

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "PySide6" else real(name, *a))
    assert preflight.problem() == "the GUI needs PySide6: pip install 'large-toolkit[gui]'"
