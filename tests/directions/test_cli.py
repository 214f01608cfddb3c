"""``large-tk directions`` through Typer's runner, on the in-process ``toy`` backend."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner


def _run(args: list[str]):
    from large_toolkit.cli.app import build_app

    return CliRunner().invoke(build_app(), args)


def test_find_show_export(tmp_path, toy_backend) -> None:
    out = tmp_path / "sefa.safetensors"
    res = _run(
        [
            "--device",
            "cpu",
            "directions",
            "find",
            "sefa",
            "--backend",
            "toy",
            "--option",
            "layers=0-1",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["count"] == 32 and data["score_name"] == "eigenvalue"
    assert data["directions"][0]["dominant_layers"].split(",")[0] in ("layer0", "layer1")
    assert out.is_file()
    res = _run(["directions", "show", str(out), "--json"])
    assert res.exit_code == 0, res.output
    shown = json.loads(res.stdout)
    assert [r["index"] for r in shown["directions"]] == list(range(32))
    assert shown["directions"][0]["dominant_layers"] == "w0-1"
    res = _run(["directions", "show", f"file:{out}:2"])
    assert res.exit_code == 0 and "sefa_2" in res.stdout
    res = _run(["directions", "export", f"file:{out}:2", "--out", str(tmp_path / "b.npy")])
    assert res.exit_code == 0, res.output
    assert np.load(tmp_path / "b.npy").shape == (1, 32)


def test_edit_writes_grid(tmp_path, toy_backend) -> None:
    from large_toolkit.io.images import read_image

    out = tmp_path / "strip.png"
    res = _run(
        [
            "--device",
            "cpu",
            "directions",
            "edit",
            "--backend",
            "toy",
            "--direction",
            "ganspace:0",
            "--option",
            "num_samples=20000",
            "--seeds",
            "0-1",
            "--steps",
            "-2..2",
            "--layers",
            "0-1",
            "--out",
            str(out),
            "--json",
            "--raw",
        ]
    )
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert info["layers"] == [0, 1] and info["step_scale"] > 0
    img = read_image(out)
    assert img.shape == (32, 80, 3)
    # columns differ along the direction, the centre column is the unedited image
    assert np.abs(img[:, :16].astype(int) - img[:, 64:].astype(int)).mean() > 0.5


def test_edit_grid_is_annotated_by_default(tmp_path, toy_backend) -> None:
    from large_toolkit.io.images import read_image

    out = tmp_path / "grid.png"
    args = ["--device", "cpu", "directions", "edit", "--backend", "toy", "--direction", "ganspace:0"]
    res = _run([*args, "--option", "num_samples=2000", "--seeds", "0-1", "--steps", "-2..2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    img = read_image(out)
    # a matplotlib figure with labelled rows/columns, larger than the bare 32x80 pixel grid
    assert img.shape[0] > 32 * 2 and img.shape[1] > 80 * 2


def test_cli_errors_are_one_line(tmp_path, toy_backend) -> None:
    res = _run(["directions", "edit", "--backend", "toy", "--direction", "sefa:999", "--out", str(tmp_path / "x.png")])
    assert res.exit_code == 2
    assert "out of range" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    res = _run(["directions", "find", "nope", "--backend", "toy"])
    assert res.exit_code == 2 and "unknown direction finder 'nope'" in res.stderr
    labels = tmp_path / "labels.csv"
    labels.write_text("seed,smile\n" + "".join(f"{s},{int(s < 2)}\n" for s in range(300)))
    res = _run(["directions", "find", "interfacegan", "--backend", "toy", "--option", f"scores={labels}"])
    assert res.exit_code == 2 and "too few positives" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_options_lists_the_declared_options(toy_backend) -> None:
    res = _run(["directions", "options", "ganspace", "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in json.loads(res.stdout)["options"]}
    assert rows["num_samples"]["type"] == "int" and rows["num_samples"]["default"] == 1_000_000
    assert rows["engine"]["execution"] and not rows["seed"]["execution"]


def test_options_show_the_declared_bounds(toy_backend) -> None:
    res = _run(["directions", "options", "ganspace", "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in json.loads(res.stdout)["options"]}
    assert (rows["num_samples"]["low"], rows["num_samples"]["high"]) == (2, None)
    assert rows["num_samples"]["bounds"] == ">= 2" and rows["seed"]["bounds"] == ""
    res = _run(["directions", "options", "ganspace"])
    assert res.exit_code == 0, res.output
    assert "int >= 2" in res.stdout and "int >= 1" in res.stdout


def test_export_json_and_format_suffix(tmp_path, toy_backend) -> None:
    """``export --json`` reports what was written; an explicit --format refuses another format's suffix."""
    out = tmp_path / "sefa.safetensors"
    res = _run(["--device", "cpu", "directions", "find", "sefa", "--backend", "toy", "--out", str(out)])
    assert res.exit_code == 0, res.output
    res = _run(["directions", "export", str(out), "--out", str(tmp_path / "s.npz"), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["format"] == "sefa-npz" and report["count"] == 32 and report["out"].endswith("s.npz")
    assert isinstance(report["generator_fingerprint"], str) and report["generator_fingerprint"]
    res = _run(["directions", "export", str(out), "--out", str(tmp_path / "x.npy"), "--format", "sefa-npz"])
    assert res.exit_code == 2 and not (tmp_path / "x.npy").exists()
    assert "--format sefa-npz writes .npz files, not .npy" in res.stderr and "x.npz" in res.stderr
    assert res.stdout == ""
    res = _run(["directions", "export", str(out), "--out", str(tmp_path / "f.pth"), "--format", "rosinality-factor"])
    assert res.exit_code == 0, res.output  # a format with several suffixes accepts any of them
    bad = tmp_path / "y.npy"
    find = ["--device", "cpu", "directions", "find", "sefa", "--backend", "toy"]
    res = _run([*find, "-o", str(bad), "--format", "large-tk"])
    assert res.exit_code == 2 and not bad.exists() and "name the output y.safetensors" in res.stderr
