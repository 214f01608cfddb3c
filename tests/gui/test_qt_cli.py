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
