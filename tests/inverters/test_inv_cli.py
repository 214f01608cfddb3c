"""``large-tk invert`` / ``train-encoder`` end to end, including the SIGKILL resume test.

Subprocesses run ``toy_cli.py`` (large-tk plus a test-only ``toy`` backend);
``TOY_DELAY`` slows synthesis so the kill lands midway.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from large_inverters.job import InvertJob, run_job
from large_inverters.small_encoder import TrainConfig, save_encoder, train_encoder

from large_toolkit.errors import UserInputError
from large_toolkit.io.artifacts import load_latents
from large_toolkit.io.images import read_image, write_image
from large_toolkit.plugins import get_host
from large_toolkit.testing import ToyGenerator
from large_toolkit.types import LatentSpace


def _encoder(tmp_path: Path) -> Path:
    g = ToyGenerator()
    net, history = train_encoder(g, TrainConfig(steps=20, batch_size=8, input_size=16))
    path = tmp_path / "enc.safetensors"
    save_encoder(path, net, g, history)
    return path


@pytest.mark.slow
def test_kill_and_resume_gives_identical_latents(tmp_path, write_toy_images, toy_cli):
    write_toy_images(tmp_path / "imgs", 200)
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
    ref = toy_cli([*args, "--out", "ref.safetensors"], tmp_path)
    out, err = ref.communicate(timeout=120)
    assert ref.returncode == 0, err
    # Interrupted run: SIGKILL once ~10 of 50 chunks are on disk.
    proc = toy_cli([*args, "--out", "lat.safetensors"], tmp_path, delay=0.02)
    parts = tmp_path / ".lat.safetensors.parts"
    deadline = time.time() + 60
    while time.time() < deadline and len(list(parts.glob("chunk-*.safetensors"))) < 10:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    finished = len(list(parts.glob("chunk-*.safetensors")))
    assert 10 <= finished < 50 and not (tmp_path / "lat.safetensors").exists()
    # Re-run with the same arguments: resumes.
    again = toy_cli([*args, "--out", "lat.safetensors"], tmp_path)
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


@pytest.mark.slow
def test_projector_job_report_shard_and_resume_rules(tmp_path, write_toy_images):
    paths = write_toy_images(tmp_path / "imgs", 7)
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
def test_image_validation_and_resize_policy(tmp_path, toy_cli):
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
    proc = toy_cli([*args, "--resize", "error"], tmp_path)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "32x32" in err and "--resize" in err and len(err.strip().splitlines()) <= 2
    write_image(folder / "alpha.png", np.zeros((16, 16, 4), np.uint8))  # RGBA: composited onto white
    proc = toy_cli([*args, "--shard", "1/2", "--json"], tmp_path)  # big.png; default: center-crop, with one note line
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert json.loads(out)["images"] == 1
    assert "center-cropped to a square and resized to 16x16 (--resize center-crop" in err


@pytest.mark.slow
def test_train_encoder_command(tmp_path, toy_cli):
    proc = toy_cli(
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


def test_finished_output_with_other_settings_is_refused_not_overwritten(tmp_path, write_toy_images):
    # Before: a re-run with other settings silently re-inverted and replaced a finished --out.
    paths = write_toy_images(tmp_path / "imgs", 3)
    run_job(_job(tmp_path, paths, steps=2, report=False))
    before = (tmp_path / "o.safetensors").read_bytes()
    assert run_job(_job(tmp_path, paths, steps=2, report=False)).get("already_complete") is True
    with pytest.raises(
        UserInputError, match=r"finished inversion made with different settings \(inverter settings"
    ) as e:
        run_job(_job(tmp_path, paths, steps=3, report=False))
    assert "--restart" in str(e.value.hint) and "another --out" in str(e.value.hint)
    with pytest.raises(UserInputError, match=r"different settings \(--space\)"):
        run_job(_job(tmp_path, paths, steps=2, space="wplus", report=False))
    assert (tmp_path / "o.safetensors").read_bytes() == before
    redone = run_job(_job(tmp_path, paths, steps=3, report=False), restart=True)
    assert redone["computed"] == 3
    assert run_job(_job(tmp_path, paths, steps=3, report=False)).get("already_complete") is True
