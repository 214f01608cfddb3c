"""``large-tk generate`` / ``large-tk convert`` through the real app and one real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from large_toolkit.cli.app import build_app
from large_toolkit.io.images import read_image


def _run(*args: str):
    return CliRunner().invoke(build_app(), ["--device", "cpu", *args])


def test_generate_grid_folder_and_npy(shared_fixtures: Path, tmp_path: Path) -> None:
    ckpt = str(shared_fixtures / "official" / "sg2_tiny_stripped.pkl")
    res = _run(
        "generate", "--checkpoint", ckpt, "--seeds", "0-7", "--trunc", "0.7", "--out", str(tmp_path / "grid.png")
    )
    assert res.exit_code == 0, res.output
    assert read_image(tmp_path / "grid.png").shape == (96, 96, 3)
    frames = str(tmp_path / "frames")
    res = _run("generate", "--checkpoint", ckpt, "--seeds", "1,5", "--noise-mode", "none", "--out", frames)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == ["seed0001.png", "seed0005.png"]
    res = _run(
        "generate",
        "--checkpoint",
        ckpt,
        "--seeds",
        "0-2",
        "--trunc",
        "0.7",
        "--trunc-cutoff",
        "4",
        "--out",
        str(tmp_path / "x.npy"),
        "--json",
    )
    assert res.exit_code == 0, res.output
    arr = np.load(tmp_path / "x.npy")
    assert arr.shape == (3, 3, 32, 32) and arr.dtype == np.float32

    import torch
    from large_stylegan2 import load_stylegan2

    G = load_stylegan2(ckpt)
    z = torch.from_numpy(np.random.RandomState(2).randn(1, 64).astype(np.float32))  # generate.py convention
    with torch.no_grad():
        ref = G.generate(z, psi=0.7, trunc_cutoff=4).numpy()
    assert np.abs(arr[2:3] - ref).max() < 1e-4  # batched vs single-image modconv paths


def test_generate_conditional_needs_class(shared_fixtures: Path, tmp_path: Path) -> None:
    ckpt = str(shared_fixtures / "official" / "sg2_tiny_cond.safetensors")
    res = _run("generate", "--checkpoint", ckpt, "--seeds", "0-3", "--out", str(tmp_path / "c.png"))
    assert res.exit_code == 2 and "--class-idx" in res.output and not (tmp_path / "c.png").exists()
    res = _run("generate", "--checkpoint", ckpt, "--seeds", "0-3", "--class-idx", "2", "--out", str(tmp_path / "c.png"))
    assert res.exit_code == 0 and (tmp_path / "c.png").exists()


def test_corrupt_checkpoint_exit_2_one_line_no_output(shared_fixtures: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pkl"
    bad.write_bytes((shared_fixtures / "official" / "sg2_tiny_stripped.pkl").read_bytes()[:5000])
    out = tmp_path / "grid.png"
    res = _run("generate", "--checkpoint", str(bad), "--out", str(out))
    assert res.exit_code == 2
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.output
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]


def test_convert_round_trip(shared_fixtures: Path, tmp_path: Path) -> None:
    out = tmp_path / "tf.safetensors"
    res = _run("convert", str(shared_fixtures / "official" / "sg2_tiny_tf_stripped.pkl"), str(out))
    assert res.exit_code == 0, res.output
    from large_stylegan2 import load_stylegan2

    assert (
        load_stylegan2(out).fingerprint()
        == load_stylegan2(shared_fixtures / "official" / "sg2_tiny.safetensors").fingerprint()
    )
    res = _run("convert", str(shared_fixtures / "official" / "rosi_tiny.pt"), str(tmp_path / "x.bin"))
    assert res.exit_code == 2


def test_help_has_examples() -> None:
    for cmd in ("generate", "convert"):
        res = _run(cmd, "--help")
        assert res.exit_code == 0 and "Examples" in res.output


@pytest.mark.slow
def test_real_subprocess_generate(shared_fixtures: Path, tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("large-tk")
    if not exe.exists():
        pytest.skip("large-tk console script is not installed")
    out = tmp_path / "grid.png"
    env = {**os.environ, "LARGE_TK_DEVICE": "cpu"}
    proc = subprocess.run(
        [
            str(exe),
            "generate",
            "--backend",
            "stylegan2",
            "--checkpoint",
            str(shared_fixtures / "official" / "rosi_tiny.pt"),
            "--seeds",
            "0-3",
            "--trunc",
            "0.7",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert read_image(out).shape == (64, 64, 3)
