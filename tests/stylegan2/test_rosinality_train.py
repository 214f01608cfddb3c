"""rosinality ``train.py`` checkpoints: ``{g, d, g_ema, g_optim, d_optim, args, ada_aug_p}`` with a Namespace.

Fixture made by tests/fixtures/make_rosinality_train.py with rosinality's own ``model.py``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from large_toolkit.errors import UnsafePickleError
from large_toolkit.io.checkpoint import SavedNamespace, read_checkpoint

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "rosinality_train"
CKPT = HERE / "rosi_train_tiny.pt"
IMG_ATOL = 1e-4


def _maxerr(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape
    return float((a - b).abs().max())


def test_train_layout_is_read_as_data() -> None:
    ckpt = read_checkpoint(CKPT)
    assert set(ckpt) == {"g", "d", "g_ema", "g_optim", "d_optim", "args", "ada_aug_p"}
    args = ckpt["args"]
    assert isinstance(args, SavedNamespace)
    assert args.size == 16 and args.latent == 32 and args.n_mlp == 2 and args.ckpt is None
    assert args.as_dict()["arch"] == "stylegan2"
    assert ckpt["g_optim"]["state"]  # Adam moments after one step


def test_generator_renders_like_rosinality() -> None:
    from large_stylegan2 import load_stylegan2

    io = load_file(HERE / "rosi_train_tiny_io.safetensors")
    G = load_stylegan2(CKPT)
    with torch.no_grad():
        assert _maxerr(G.synthesis(G.mapping(io["z"])), io["img_psi1"]) <= IMG_ATOL
        # no latent_avg in a train.py file: w_avg is the mean W of 10,000 z ~ randn(seed 0)
        assert _maxerr(G.w_avg, io["w_avg_10k_seed0"]) <= 1e-5
        assert _maxerr(G.synthesis(G.mapping(io["z"], psi=0.7)), io["img_psi07"]) <= IMG_ATOL


class TrapNamespace(argparse.Namespace):
    """A Namespace subclass whose unpickling would run a payload."""

    def __reduce__(self):
        return (os.system, (f"touch {self.canary}",))


class ReduceWithArgs:
    """Pickles as ``argparse.Namespace(*args)`` (a REDUCE call with arguments)."""

    def __reduce__(self):
        return (argparse.Namespace, ("payload",))


class BadState:
    """Pickles as an ``argparse.Namespace`` whose state is not a dict of names."""

    def __reduce__(self):
        return (argparse.Namespace, (), {1: "not a name"})


@pytest.mark.parametrize("make", [TrapNamespace, ReduceWithArgs, BadState])
def test_namespace_tricks_are_refused(tmp_path: Path, make) -> None:
    canary = tmp_path / "ran"
    obj = make()
    obj.canary = canary
    path = tmp_path / "trap.pt"
    torch.save({"g_ema": {}, "args": obj}, path)
    with pytest.raises(UnsafePickleError) as info:
        read_checkpoint(path)
    assert "\n" not in info.value.one_line()
    assert not canary.exists()


def test_plain_namespace_values_are_still_restricted(tmp_path: Path) -> None:
    canary = tmp_path / "ran"
    trap = TrapNamespace()
    trap.canary = canary
    path = tmp_path / "nested.pt"
    torch.save({"args": argparse.Namespace(size=16, hook=trap)}, path)
    with pytest.raises(UnsafePickleError):
        read_checkpoint(path)
    assert not canary.exists()
