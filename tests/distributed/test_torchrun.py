"""``torchrun --nproc_per_node 2`` (gloo, CPU) training versus the 1-process run with the same global batch.

Tolerance: both runs see exactly the same samples (each rank keeps its block of the global batch
drawn from one shared seeded stream), so they differ only in float summation order: DDP averages two
half-batch gradients instead of one full-batch mean, ~1e-7 relative per step in float32.  Adam divides
by sqrt(v) + 1e-8, which can magnify differences only for gradients near eps, where the update itself
is tiny.  After 3 steps at lr 1e-3 we therefore allow atol 1e-5 on weights (~1% of one step's move)
and rtol 1e-4 on the logged loss; a sharding bug (a rank seeing other samples, grads summed instead of
averaged, a rank not reduced) moves weights by ~1e-3 per step and fails by orders of magnitude.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from large_toolkit.io.artifacts import load_tensors

ARGS = ["train-encoder", "--backend", "stylegan2", "--steps", "3", "--batch-size", "8", "--input-size", "16"]
ARGS += ["--seed", "3", "--json"]


def _env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", LARGE_TK_DEVICE="cpu")
    env.pop("WORLD_SIZE", None)
    return env


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.mark.slow
def test_train_encoder_two_gloo_ranks_match_one_process(tmp_path: Path) -> None:
    one, two = tmp_path / "one.safetensors", tmp_path / "two.safetensors"
    single = _run([sys.executable, "-m", "large_toolkit", "--device", "cpu", *ARGS, "--out", str(one)])
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    multi = _run([*torchrun, "-m", "large_toolkit", "--device", "cpu", *ARGS, "--out", str(two)])
    a, meta_a = load_tensors(one, "large-tk/encoder")
    b, meta_b = load_tensors(two, "large-tk/encoder")
    assert meta_b["training"]["world_size"] == 2 and meta_a["training"]["world_size"] == 1
    assert a.keys() == b.keys()
    worst = max(float((a[k] - b[k]).abs().max()) for k in a)
    assert worst < 1e-5, f"max |w1 - w2| = {worst:.3g}"
    s1, s2 = json.loads(single.stdout), json.loads(multi.stdout)  # only rank 0 printed JSON
    assert s1["loss"] == pytest.approx(s2["loss"], rel=1e-4)
    assert not torch.equal(a["net.head.weight"], torch.zeros_like(a["net.head.weight"]))


GAN_ARGS = ["train", "--backend", "stylegan2", "--data", "synthetic", "--n-synthetic", "64", "--resolution", "16"]
GAN_ARGS += ["--batch-size", "8", "--kimg", "0.024", "--channel-base", "256", "--channel-max", "32", "--z-dim", "16"]
GAN_ARGS += ["--w-dim", "16", "--seed", "1", "--augment", "none", "--fd-n", "0"]


@pytest.mark.slow
def test_stylegan2_trainer_under_torchrun(tmp_path: Path) -> None:
    """3 steps, global batch 8, 2 gloo ranks vs 1 process.

    The trainer refuses to finish if the ranks' weights differ at all (``_check_in_sync``), so a
    passing run proves the gradient all-reduce keeps replicas identical.  Against the 1-process run
    only a loose bound holds: per-rank synthesis noise and per-rank minibatch-stddev groups (as in
    NVIDIA's multi-GPU training) change the gradients, and Adam moves each weight by at most about
    lr = 0.0025 per step whatever the gradient, so after 3 steps |w1 - w2| <= ~3 * 2 * 1.5 * lr.
    What the bound still catches: a summed (not averaged) gradient or an exploding rank.
    """
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    _run([*torchrun, "-m", "large_toolkit", "--device", "cpu", *GAN_ARGS, "--out", str(tmp_path / "two")])
    _run([sys.executable, "-m", "large_toolkit", "--device", "cpu", *GAN_ARGS, "--out", str(tmp_path / "one")])
    a, _ = load_tensors(tmp_path / "one" / "training-state.safetensors", "large-tk/stylegan2-training-state")
    b, meta = load_tensors(tmp_path / "two" / "training-state.safetensors", "large-tk/stylegan2-training-state")
    assert meta["step"] == 3 and meta["nimg"] == 24
    worst = max(float((a[k] - b[k]).abs().max()) for k in a if k.startswith(("G.", "D.")))
    assert worst < 3 * 2 * 1.5 * 0.0025, worst
    log = json.loads((tmp_path / "two" / "log.json").read_text())
    assert all(torch.isfinite(torch.tensor(h["loss_D"])) for h in log["history"])
