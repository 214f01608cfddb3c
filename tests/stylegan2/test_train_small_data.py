"""Small-data training: ADA pipeline and controller, per-snapshot metrics, exact resume, fewer labels (S³GAN).

The end-to-end tests run ``large-tk`` as a subprocess (stderr is a pipe, not a terminal) on tiny 16 px
models, so they also prove the plain progress lines a job under nohup/CI sees.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from large_stylegan2.trainer import discriminator as D
from large_stylegan2.trainer.augment import AdaState, augment, geometric_matrix
from large_stylegan2.trainer.loop import Trainer, TrainOptions
from large_stylegan2.trainer.metrics import read_metrics

from large_toolkit.data.folders import write_image_folder
from large_toolkit.data.synthetic import generate

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--resolution", "16", "--z-dim", "16", "--w-dim", "16", "--channel-base", "128", "--channel-max", "16"]
TINY_OPTS = dict(resolution=16, z_dim=16, w_dim=16, mapping_layers=2, channel_base=128, channel_max=16, batch=4)


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "plugins"), env.get("PYTHONPATH", "")])
    env.update(LARGE_TK_CACHE=str(tmp_path / "cache"), LARGE_TK_PROGRESS_INTERVAL="0", OMP_NUM_THREADS="1")
    env.pop("LARGE_TK_PROGRESS", None)
    return env


def _large_tk(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "large_toolkit", "--device", "cpu", *args],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        cwd=tmp_path,
        timeout=600,
    )


# -- the augmentation pipeline ----------------------------------------------------------------------


def test_augment_is_identity_at_p0_deterministic_and_differentiable():
    x = torch.randn(6, 3, 16, 16, requires_grad=True)
    assert augment(x, 0.0, torch.Generator().manual_seed(0)) is x
    a = augment(x, 0.7, torch.Generator().manual_seed(3), cutout=True)
    b = augment(x, 0.7, torch.Generator().manual_seed(3), cutout=True)
    assert torch.equal(a, b) and not torch.equal(a, x)
    a.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_each_transform_applies_with_probability_p():
    n, p = 20000, 0.3
    m = geometric_matrix(n, 16, 16, p, torch.Generator().manual_seed(0))
    assert m.shape == (n, 3, 3)
    # with p, x-flip happens to half of the images that draw it: p/2 of all have det < 0
    flipped = (torch.linalg.det(m[:, :2, :2]) < 0).double().mean().item()
    assert abs(flipped - p / 2) < 0.015
    ident = torch.isclose(m, torch.eye(3, dtype=torch.float64)).all(dim=(1, 2)).double().mean().item()
    # no transform at all: every one of the 8 gates closed (two rotations at 1 - sqrt(1 - p))
    expected = (1 - p) ** 6 * (math.sqrt(1 - p) ** 2) + 0.0  # flip/rot90 may draw 0 too: >= this
    assert ident >= expected - 0.015


def test_integer_translation_and_flip_resample_exactly():
    from kornia.geometry.transform import warp_affine
    from large_stylegan2.trainer import augment as A

    x = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    centre = A._translate(7.5, 7.5, 1)  # float32 sampling-grid round-off: ~1e-6 relative
    for inverse, want in ((A._scale(-1.0, 1.0, 1), x.flip(-1)), (A._translate(3.0, 0.0, 1), None)):
        fwd = centre @ torch.linalg.inv(inverse) @ torch.linalg.inv(centre)
        y = warp_affine(x, fwd[:, :2].float(), (16, 16), align_corners=True, padding_mode="reflection")
        if want is None:  # output(x) = input(x + 3)
            torch.testing.assert_close(y[..., :13], x[..., 3:], atol=1e-4, rtol=0)
        else:
            torch.testing.assert_close(y, want, atol=1e-4, rtol=0)


def test_ada_controller_follows_the_sign_of_d_on_reals():
    ada = AdaState(p=0.5)
    for step in range(1, 5):
        ada.accumulate(torch.tensor([1.0, 2.0, 3.0, -1.0]))  # r_t = 0.5 < 0.6 -> p goes down
        ada.maybe_update(step, 4, 0.6, 0.1)
    assert ada.p == pytest.approx(0.5 - 16 / 100) and ada.last_rt == pytest.approx(0.5)
    for step in range(5, 9):
        ada.accumulate(torch.ones(4))  # r_t = 1 > 0.6 -> up
        ada.maybe_update(step, 4, 0.6, 0.1)
    assert ada.p == pytest.approx(0.5)


def test_conditional_discriminator_projects_on_the_class():
    p = D.init_discriminator(16, 128, 16, c_dim=3)
    x = torch.randn(4, 3, 16, 16)
    c0 = torch.nn.functional.one_hot(torch.zeros(4, dtype=torch.long), 3).float()
    c1 = torch.nn.functional.one_hot(torch.ones(4, dtype=torch.long), 3).float()
    assert D.logits(p, x, c0).shape == (4,)
    assert not torch.allclose(D.logits(p, x, c0), D.logits(p, x, c1))
    assert D.c_dim_of(p) == 3 and p["b4.out.weight"].shape == (16, 16)


# -- resume ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_resume_with_ada_labels_and_metrics_is_exact(tmp_path, monkeypatch):
    monkeypatch.setenv("LARGE_TK_CACHE", str(tmp_path / "cache"))
    images = torch.from_numpy(generate(32, seed=0, resolution=16).images)
    labels = torch.arange(32) % 2
    opts = dict(TINY_OPTS, augment="ada", augment_p=0.2, ada_kimg=0.05, snapshot_kimg=0.012, fd_n=16, c_dim=2)
    straight = Trainer(images, TrainOptions(kimg=0.024, **opts), tmp_path / "a", torch.device("cpu"), labels=labels)
    straight.train()
    first = Trainer(images, TrainOptions(kimg=0.012, **opts), tmp_path / "b", torch.device("cpu"), labels=labels)
    first.train()
    resumed = Trainer.resume(images, tmp_path / "b", torch.device("cpu"), kimg=0.024)
    assert resumed.ada is not None and resumed.ada.p == first.ada.p
    assert torch.equal(resumed.labels, labels)
    resumed.train()
    assert resumed.step == straight.step and resumed.ada.p == straight.ada.p
    for k, v in straight.G_ema.params.items():
        assert torch.equal(resumed.G_ema.params[k], v), k

    def strip(records):
        return [{k: v for k, v in r.items() if k != "time_s"} for r in records]

    assert strip(read_metrics(tmp_path / "b")) == strip(read_metrics(tmp_path / "a"))


# -- end to end (subprocess, stderr not a terminal) -------------------------------------------------------


def test_train_help_offers_the_small_data_options(tmp_path):
    result = _large_tk(["train", "--help"], tmp_path)
    assert result.returncode == 0
    for flag in (
        "--augment",
        "--augment-p",
        "--ada-target",
        "--mirror",
        "--threads",
        "--labels",
        "--label-column",
        "--label-bins",
        "--batch-size",
        "--out",
        "--seed",
    ):
        assert flag in result.stdout, flag
    assert "--batch " not in result.stdout


@pytest.mark.slow
def test_ada_run_on_64_images_logs_p_fd_and_progress(tmp_path):
    data = tmp_path / "data"
    write_image_folder(data, generate(64, seed=2, resolution=16).images)
    run = tmp_path / "run"
    args = ["train", "--data", str(data), *TINY, "--kimg", "0.2", "--batch-size", "4", "--snapshot-kimg", "0.05"]
    result = _large_tk([*args, "--fd-n", "64", "--mirror", "--threads", "1", "-o", str(run)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "--augment ada (64 images" in result.stderr  # the small-data default
    progress = [line for line in result.stderr.splitlines() if line.startswith("train ") and "s/kimg" in line]
    assert progress and "ETA" in "".join(progress) and "0.200/0.2 kimg" in progress[-1]
    records = read_metrics(run)
    assert [r["kimg"] for r in records] == [0.052, 0.1, 0.152, 0.2]
    assert all(np.isfinite(r["fd"]) and r["fd"] >= 0 for r in records)
    assert len({r["fd_extractor_fingerprint"] for r in records}) == 1 and records[0]["fd_n"] == 64
    assert all({"loss_G", "loss_D", "augment_p", "time_s"} <= r.keys() for r in records)
    history = json.loads((run / "log.json").read_text())["history"]
    assert len({round(h["augment_p"], 6) for h in history}) > 1  # p moved
    assert (run / "metrics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (run / "log.txt").read_text().count("snapshot") == 4
    # the run's G_ema is used as is, and `fid` with the stored extractor reproduces the last snapshot's FD
    fid = _large_tk(
        ["fid", "--checkpoint", str(run / "G_ema.safetensors"), "--real", str(data), "--n", "64", "--json"], tmp_path
    )
    assert fid.returncode == 0, fid.stderr
    out = json.loads(fid.stdout)
    assert out["cached"]["extractor"] is True
    assert out["extractor_fingerprint"] == records[-1]["fd_extractor_fingerprint"]
    assert out["fd"] == pytest.approx(records[-1]["fd"], rel=1e-9)


@pytest.mark.slow
def test_twenty_percent_labels_infer_classes_and_generate_per_class(tmp_path):
    data = tmp_path / "synth"
    made = _large_tk(["data", "synth", "--out", str(data), "--n", "160", "--resolution", "16", "--seed", "0"], tmp_path)
    assert made.returncode == 0, made.stderr
    rows = list(csv.DictReader((data / "labels.csv").open()))
    rng = np.random.default_rng(0)
    keep = rng.permutation(len(rows))[: len(rows) // 5]
    table = tmp_path / "few.csv"
    with table.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "light_azimuth"])
        for i, r in enumerate(rows):
            w.writerow([r["image"], r["light_azimuth"] if i in keep else ""])
    run = tmp_path / "run"
    args = ["train", "--data", str(data), *TINY, "--kimg", "0.04", "--batch-size", "4", "--fd-n", "32"]
    result = _large_tk(
        [*args, "--labels", str(table), "--label-column", "light_azimuth", "--label-bins", "3", "-o", str(run)],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "32/160 images labelled" in result.stderr
    assert "inferred-label accuracy on 8 held-out labelled images" in result.stderr
    report = json.loads((run / "labels.json").read_text())
    assert report["n_inferred"] == 128 and 0.0 <= report["holdout_accuracy"] <= 1.0
    assert len(report["classes"]) == 3
    options = json.loads((run / "log.json").read_text())["options"]
    assert options["c_dim"] == 3 and options["rotation_loss"] is True
    outs = []
    for k in range(3):
        gen = _large_tk(
            [
                "generate",
                "--checkpoint",
                str(run / "G_ema.safetensors"),
                "--class-idx",
                str(k),
                "--seeds",
                "0-1",
                "--out",
                str(tmp_path / f"c{k}.npy"),
            ],
            tmp_path,
        )
        assert gen.returncode == 0, gen.stderr
        outs.append(np.load(tmp_path / f"c{k}.npy"))
    assert outs[0].shape[0] == 2 and not np.array_equal(outs[0], outs[1])
    refused = _large_tk(
        ["generate", "--checkpoint", str(run / "G_ema.safetensors"), "--seeds", "0", "--out", str(tmp_path / "x.npy")],
        tmp_path,
    )
    assert refused.returncode == 2 and "--class-idx" in refused.stderr
    _regress_under_one_class(run / "G_ema.safetensors", data, tmp_path)


def _regress_under_one_class(checkpoint: Path, data: Path, tmp_path: Path) -> None:
    """The trained run folder's conditional G_ema drives the LARGE workflow for one class: invert, regress."""
    model = ["--checkpoint", str(checkpoint), "--class-idx", "1"]
    latents = tmp_path / "lat1.safetensors"
    inverted = _large_tk(
        ["invert", *model, "--images", str(data), "--inverter", "optim", "--steps", "2", "--space", "w",
         "--no-report", "-o", str(latents)],
        tmp_path,
    )  # fmt: skip
    assert inverted.returncode == 0, inverted.stderr
    regressed = _large_tk(
        ["regress", *model, "--latents", str(latents), "--direction", "sefa:0", "--labels", str(data / "labels.csv"),
         "--label-column", "light_azimuth", "--n-labels", "2,5", "--repeats", "5", "-o", str(tmp_path / "reg"),
         "--json"],
        tmp_path,
    )  # fmt: skip
    assert regressed.returncode == 0, regressed.stderr
    assert json.loads(regressed.stdout)
    other_class = ["--checkpoint", str(checkpoint), "--class-idx", "2"]
    refused = _large_tk(
        ["regress", *other_class, "--latents", str(latents), "--direction", "sefa:0", "--labels",
         str(data / "labels.csv"), "--label-column", "light_azimuth", "-o", str(tmp_path / "reg2")],
        tmp_path,
    )  # fmt: skip
    assert refused.returncode == 2 and f"not {checkpoint} class 2" in refused.stderr


@pytest.mark.slow
def test_label_table_errors_are_one_line(tmp_path):
    data = tmp_path / "d"
    write_image_folder(data, generate(8, seed=0, resolution=16).images)
    table = tmp_path / "t.csv"
    table.write_text("image,a,b\n000000.png,1,2\n")
    result = _large_tk(
        ["train", "--data", str(data), *TINY, "--labels", str(table), "-o", str(tmp_path / "r")], tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: --labels")
    assert "--label-column" in result.stderr and not (tmp_path / "r").exists()


@pytest.mark.slow
def test_train_json_report_on_stdout_only(tmp_path):
    """``train --json``: one JSON object on stdout (run, G_ema, kimg, last snapshot's FD and p, labels)."""
    data = tmp_path / "synth"
    made = _large_tk(["data", "synth", "--out", str(data), "--n", "32", "--resolution", "16", "--seed", "0"], tmp_path)
    assert made.returncode == 0, made.stderr
    run = tmp_path / "run"
    args = ["train", "--data", str(data), *TINY, "--kimg", "0.04", "--batch-size", "4", "--fd-n", "16"]
    labels = ["--labels", str(data / "labels.csv"), "--label-column", "light_azimuth", "--label-bins", "2"]
    result = _large_tk([*args, *labels, "--threads", "1", "-o", str(run), "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)  # the whole of stdout: progress and notes stay on stderr
    assert report["run"] == str(run) and Path(report["generator"]) == run / "G_ema.safetensors"
    assert report["kimg"] == 0.04 and isinstance(report["seconds"], float) and math.isfinite(report["seconds"])
    last = read_metrics(run)[-1]
    assert report["last_snapshot"] == {"kimg": last["kimg"], "fd": last["fd"], "augment_p": last["augment_p"]}
    assert math.isfinite(report["last_snapshot"]["fd"])
    assert report["labels"]["n_images"] == 32 and len(report["labels"]["classes"]) == 2
    assert "trained to 0.04 kimg" in result.stderr
