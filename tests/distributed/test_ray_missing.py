"""Without the ``distributed`` extra, ``--engine ray`` fails with one line naming the install command.

Runs whether or not Ray is installed: the import is blocked through ``sys.modules``.
"""

from __future__ import annotations

import sys

from typer.testing import CliRunner


def test_engine_ray_without_ray_names_the_extra(monkeypatch, tmp_path):
    from large_toolkit.cli.app import build_app

    monkeypatch.setitem(sys.modules, "ray", None)  # makes ``import ray`` raise ImportError
    monkeypatch.setitem(sys.modules, "ray.data", None)
    args = ["invert", "--backend", "stylegan2", "--inverter", "encoder", "--images", str(tmp_path)]
    args += ["--out", str(tmp_path / "x.safetensors"), "--engine", "ray"]
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 2
    text = result.output.strip()
    assert "pip install 'large-toolkit[distributed]'" in text
    assert len(text.splitlines()) == 1


def test_unknown_engine_is_refused(tmp_path):
    from large_toolkit.cli.app import build_app

    args = ["invert", "--backend", "stylegan2", "--images", str(tmp_path), "--out", str(tmp_path / "x.safetensors")]
    result = CliRunner().invoke(build_app(), [*args, "--engine", "dask"])
    assert result.exit_code == 2
    assert "unknown --engine" in result.output
