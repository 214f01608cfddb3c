"""``large-tk data synth`` through Typer's runner on the real app."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from large_toolkit.cli.app import build_app
from large_toolkit.data.factors import FACTOR_NAMES
from large_toolkit.data.folders import read_image_folder
from large_toolkit.data.synthetic import generate


def _run(*args: str):
    return CliRunner().invoke(build_app(), list(args))


def test_synth_writes_images_and_labels_json(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    result = _run("data", "synth", "--n", "20", "--out", str(out), "--seed", "7", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["n"] == 20 and summary["seed"] == 7 and summary["resolution"] == 32
    assert [f["name"] for f in summary["factors"]] == list(FACTOR_NAMES)
    back = read_image_folder(out, resolution=32)
    expected = generate(20, seed=7)
    assert np.array_equal(back.images, expected.images)
    assert back.labels.columns == list(FACTOR_NAMES)
    assert np.array_equal(back.labels.values, expected.label_matrix())


def test_synth_table_output_and_resolution(tmp_path: Path) -> None:
    result = _run("data", "synth", "--n", "3", "--out", str(tmp_path / "d64"), "--resolution", "64")
    assert result.exit_code == 0, result.output
    assert "head_size" in result.stdout and "wrote 3 images" in result.stdout
    assert read_image_folder(tmp_path / "d64").images.shape == (3, 64, 64, 3)


def test_synth_refuses_non_empty_folder_unless_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    assert _run("data", "synth", "--n", "4", "--out", str(out)).exit_code == 0
    result = _run("data", "synth", "--n", "2", "--out", str(out))
    assert result.exit_code == 2
    assert "not empty" in result.output and "--overwrite" in result.output
    assert len(list(out.glob("*.png"))) == 4
    assert _run("data", "synth", "--n", "2", "--out", str(out), "--overwrite").exit_code == 0
    assert len(list(out.glob("*.png"))) == 2


def test_synth_bad_resolution_is_one_line_exit_2(tmp_path: Path) -> None:
    result = _run("data", "synth", "--n", "2", "--out", str(tmp_path / "x"), "--resolution", "48")
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: --resolution must be one of")
    assert not (tmp_path / "x").exists()


def test_synth_help_has_examples_and_factors() -> None:
    result = _run("data", "synth", "--help")
    assert result.exit_code == 0
    assert "large-tk data synth --n 10000 --out" in result.output
    assert "light_intensity" in result.output
