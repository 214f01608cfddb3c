"""``large-tk invert`` / ``train-encoder`` end to end, including the SIGKILL resume test.

Subprocesses run ``toy_cli.py`` (large-tk plus a test-only ``toy`` backend);
``TOY_DELAY`` slows synthesis so the kill lands midway.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from large_inverters.job import InvertJob, run_job
from large_inverters.small_encoder import TrainConfig, save_encoder, train_encoder

from large_toolkit.errors import UserInputError
from large_toolkit.io.artifacts import load_latents
from large_toolkit.io.images import read_image, to_uint8, write_image
from large_toolkit.plugins import get_host
from large_toolkit.testing import ToyGenerator
from large_toolkit.types import LatentSpace

TOY_CLI = Path(__file__).with_name("toy_cli.py")


def _write_images(folder: Path, n: int, seed: int = 5) -> list[Path]:
    g = ToyGenerator()
    with torch.no_grad():
        images = g.synthesis(g.mapping(g.sample_z(n, seed)))
    folder.mkdir(parents=True, exist_ok=True)
    return [write_image(folder / f"img{i:04d}.png", a) for i, a in enumerate(to_uint8(images.numpy()))]


def _encoder(tmp_path: Path) -> Path:
    g = ToyGenerator()
    net, history = train_encoder(g, TrainConfig(steps=20, batch_size=8, input_size=16))
    path = tmp_path / "enc.safetensors"
    save_encoder(path, net, g, history)
    return path


def _cli(args: list[str], cwd: Path, delay: float = 0.0) -> subprocess.Popen:
    env = {**os.environ, "TOY_DELAY": str(delay), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, str(TOY_CLI), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_kill_and_resume_gives_identical_latents(tmp_path):
    _write_images(tmp_path / "imgs", 200)
    enc = _encoder(tmp_path)
    args = [
        "invert",
        "--backend",
        "toy",
        "--inverter",
        "encoder",
        "--inverter-checkpoint",
        str(enc),
        "--images",
        "imgs",
        "--batch-size",
        "4",
        "--json",
    ]
    # Uninterrupted reference run.
    ref = _cli([*args, "--out", "ref.safetensors"], tmp_path)
    out, err = ref.communicate(timeout=120)
    assert ref.returncode == 0, err
    # Interrupted run: SIGKILL once ~10 of 50 chunks are on disk.
    proc = _cli([*args, "--out", "lat.safetensors"], tmp_path, delay=0.02)
    parts = tmp_path / ".lat.safetensors.parts"
    deadline = time.time() + 60
    while time.time() < deadline and len(list(parts.glob("chunk-*.safetensors"))) < 10:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    finished = len(list(parts.glob("chunk-*.safetensors")))
    assert 10 <= finished < 50 and not (tmp_path / "lat.safetensors").exists()
    # Re-run with the same arguments: resumes.
    again = _cli([*args, "--out", "lat.safetensors"], tmp_path)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    summary = json.loads(out)
    assert summary["resumed_skipped"] == 4 * finished and summary["computed"] == 200 - 4 * finished
    lat, ids, meta = load_latents(tmp_path / "lat.safetensors")
    ref_lat, ref_ids, _ = load_latents(tmp_path / "ref.safetensors")
    assert ids == ref_ids == [f"img{i:04d}.png" for i in range(200)]
    assert len(set(ids)) == 200 and lat.tensor.shape == (200, 4, 16)
    assert torch.equal(lat.tensor, ref_lat.tensor)
    assert meta["inverter"] == "encoder" and not parts.exists()
    report = json.loads((tmp_path / "lat.report.json").read_text())
    assert [r["id"] for r in report["images"]] == ids and all(0 < r["ssim"] <= 1 for r in report["images"])
    assert read_image(tmp_path / "lat.preview.png").shape == (32, 128, 3)  # 2 rows x 8 previews of 16 px


def _job(tmp_path, paths, out="o.safetensors", **kw):
    g = ToyGenerator()
    inv = get_host().inverter("optim").create(g, num_steps=kw.pop("steps", 30), seed=0)
    return InvertJob(paths, tmp_path / out, inv, "optim", g, LatentSpace.parse(kw.pop("space", "w")), 3, **kw)


def test_projector_job_report_shard_and_resume_rules(tmp_path):
    paths = _write_images(tmp_path / "imgs", 7)
    summary = run_job(_job(tmp_path, paths))
    assert summary["computed"] == 7 and summary["mean_mse"] < 0.02
    lat, ids, _ = load_latents(tmp_path / "o.safetensors")
    assert lat.space is LatentSpace.W and ids == [p.name for p in paths]
    report = json.loads((tmp_path / "o.report.json").read_text())
    assert all("loss" in r for r in report["images"])
    # Same settings again: nothing recomputed.
    assert run_job(_job(tmp_path, paths))["computed"] == 0

    # An interrupted run (stopped after its first chunk of 3)...
    def interrupt(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_job(_job(tmp_path, paths, out="p.safetensors", space="s", progress=interrupt))
    # ...is not mixed with other settings: refused, unless restarted.
    with pytest.raises(UserInputError, match="different settings"):
        run_job(_job(tmp_path, paths, out="p.safetensors", space="wplus"))
    resumed = run_job(_job(tmp_path, paths, out="p.safetensors", space="s"))
    assert (resumed["computed"], resumed["resumed_skipped"]) == (4, 3)
    assert run_job(_job(tmp_path, paths, out="p.safetensors", space="wplus"), restart=True)["computed"] == 7


@pytest.mark.slow
def test_image_validation_and_resize_policy(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    write_image(folder / "big.png", np.full((32, 32, 3), 128, np.uint8))
    args = [
        "invert",
        "--backend",
        "toy",
        "--inverter",
        "optim",
        "--steps",
        "5",
        "--images",
        str(folder),
        "--out",
        "x.safetensors",
        "--no-report",
    ]
    proc = _cli([*args, "--resize", "error"], tmp_path)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "32x32" in err and "--resize" in err and len(err.strip().splitlines()) <= 2
    write_image(folder / "alpha.png", np.zeros((16, 16, 4), np.uint8))  # RGBA: composited onto white
    proc = _cli([*args, "--shard", "1/2", "--json"], tmp_path)  # big.png; default: center-crop, with one note line
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert json.loads(out)["images"] == 1
    assert "center-cropped to a square and resized to 16x16 (--resize center-crop" in err


def test_train_encoder_command(tmp_path):
    proc = _cli(
        [
            "train-encoder",
            "--backend",
            "toy",
            "--steps",
            "5",
            "--batch-size",
            "4",
            "--input-size",
            "16",
            "--out",
            "enc.safetensors",
            "--json",
        ],
        tmp_path,
    )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert json.loads(out)["out"] == "enc.safetensors" and (tmp_path / "enc.safetensors").is_file()
