"""Voynov & Babenko finder: deformator algebra, shift sampling, determinism, resume, registry and CLI.

All on tiny ToyGenerators and a handful of steps, so the file runs in seconds on a busy CPU.
"""

from __future__ import annotations

import json

import pytest
import torch

from large_toolkit.testing import ToyGenerator

# A tiny, easy setting: few directions, big learning rates, so learning shows within ~40 steps.
FAST = {
    "steps": 4,
    "batch_size": 8,
    "directions": 4,
    "eval_per_direction": 2,
    "checkpoint_every": 2,
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def tiny() -> ToyGenerator:
    return ToyGenerator(z_dim=8, w_dim=8, num_ws=2, resolution=8, channels=4, seed=1)


def _finder():
    from large_voynov.finder import VoynovFinder

    return VoynovFinder()


def test_orthonormal_deformator_and_shift_rows() -> None:
    from large_voynov.models import Deformator

    torch.manual_seed(0)
    deform = Deformator(12, 12, "ortho", random_init=True)
    a = deform.matrix().detach().double()
    assert torch.allclose(a.T @ a, torch.eye(12, dtype=torch.float64), atol=1e-5)
    # K < D keeps orthonormal columns; each shift row is eps * A[:, k].
    part = Deformator(12, 5, "ortho", random_init=True)
    m = part.matrix().detach()
    assert m.shape == (12, 5)
    assert torch.allclose(m.T @ m, torch.eye(5), atol=1e-5)
    idx, eps = torch.tensor([0, 4, 2]), torch.tensor([1.5, -0.5, 6.0])
    rows = part(idx, eps).detach()
    assert torch.allclose(rows, eps[:, None] * m.T[idx], atol=1e-6)
    # proj columns have unit norm; linear adds its bias to every shift.
    proj = Deformator(6, 3, "proj", random_init=True)
    assert torch.allclose(proj.matrix().norm(dim=0), torch.ones(3), atol=1e-6)
    lin = Deformator(6, 3, "linear")
    out = lin(torch.tensor([1]), torch.tensor([2.0])).detach()
    assert torch.allclose(out[0], 2.0 * torch.eye(6, 3)[:, 1] + lin.linear.bias.detach())


def test_orthonormality_survives_training(tiny) -> None:
    finder = _finder()
    dirs = finder.find(tiny, {**FAST, "directions": 8, "lr_deformator": 0.05})
    rows = torch.stack([d.vector for d in dirs]).double()
    assert torch.allclose(rows @ rows.T, torch.eye(8, dtype=torch.float64), atol=1e-5)
    assert finder.trainer is not None
    assert float(finder.trainer.deformator.log_mat_half.detach().abs().max()) > 0.01  # it did move


def test_shift_sampling_matches_the_original() -> None:
    from large_voynov.trainer import sample_shifts, step_rng

    k, eps = sample_shifts(10, 4000, step_rng(0, 1, 0), scale=6.0, min_shift=0.5)
    assert k.min() >= 0 and k.max() <= 9 and len(k.unique()) == 10
    assert float(eps.abs().min()) >= 0.5 and float(eps.abs().max()) <= 6.0
    assert 0.4 < float((eps > 0).float().mean()) < 0.6
    k2, eps2 = sample_shifts(10, 4000, step_rng(0, 1, 0), scale=6.0, min_shift=0.5)
    assert torch.equal(k, k2) and torch.equal(eps, eps2)
    k3, _ = sample_shifts(10, 4000, step_rng(0, 1, 1))
    assert not torch.equal(k, k3)


def test_deterministic_given_seed(tiny) -> None:
    a = _finder().find(tiny, FAST)
    b = _finder().find(tiny, FAST)
    c = _finder().find(tiny, {**FAST, "seed": 5})
    va = torch.stack([d.vector for d in a])
    assert torch.equal(va, torch.stack([d.vector for d in b]))
    assert torch.equal(a.scores, b.scores)
    assert not torch.equal(va, torch.stack([d.vector for d in c]))
    assert a.score_name == "accuracy" and len(a) == 4
    assert all(abs(float(d.vector.norm()) - 1) < 1e-5 for d in a)


def test_loss_decreases_on_an_easy_generator() -> None:
    gen = ToyGenerator(z_dim=4, w_dim=4, num_ws=1, resolution=8, channels=4, seed=3)
    finder = _finder()
    finder.find(
        gen,
        {
            **FAST,
            "steps": 60,
            "batch_size": 16,
            "lr_deformator": 1e-3,
            "lr_reconstructor": 3e-3,
        },
    )
    assert finder.trainer is not None
    losses = [r[0] for r in finder.trainer.history]
    first, last = sum(losses[:10]) / 10, sum(losses[-10:]) / 10
    assert last < 0.8 * first, (first, last)


@pytest.mark.slow
def test_checkpoint_resume_reproduces_uninterrupted_run(tiny, tmp_path) -> None:
    from large_toolkit.errors import ArtifactMismatchError
    from large_toolkit.io.artifacts import load_tensors

    base = {**FAST, "deformator": "linear", "reconstructor": "resnet", "steps": 5}
    full = _finder().find(tiny, base)
    ckpt = tmp_path / "state.safetensors"
    _finder().find(tiny, {**base, "steps": 3, "checkpoint": str(ckpt)})
    _, meta = load_tensors(ckpt, "voynov-train-state")
    assert meta["step"] == 3
    resumed_finder = _finder()
    resumed = resumed_finder.find(tiny, {**base, "checkpoint": str(ckpt)})
    assert resumed.metadata["resumed_from"] == 3 and resumed.metadata["steps"] == 5
    assert torch.equal(torch.stack([d.vector for d in full]), torch.stack([d.vector for d in resumed]))
    assert torch.equal(full.scores, resumed.scores)
    assert full.metadata["bias"] == resumed.metadata["bias"]
    assert len(resumed_finder.trainer.history) == 5  # type: ignore[union-attr]
    with pytest.raises(ArtifactMismatchError, match="other options"):
        _finder().find(tiny, {**base, "checkpoint": str(ckpt), "shift_scale": 3.0})
    with pytest.raises(ArtifactMismatchError, match="generator"):
        _finder().find(
            ToyGenerator(z_dim=8, w_dim=8, num_ws=2, resolution=8, channels=4, seed=9),
            {
                **base,
                "checkpoint": str(ckpt),
            },
        )


def test_export_roundtrips_through_the_format_reader(tiny, tmp_path) -> None:
    from large_toolkit.io.direction_formats import load_direction_file

    out = tmp_path / "deformator_4.pt"
    dirs = _finder().find(tiny, {**FAST, "directions": 8, "export": str(out)})
    back = load_direction_file(out, tiny)
    assert torch.allclose(torch.stack([d.vector for d in back]), torch.stack([d.vector for d in dirs]), atol=1e-6)


def test_layer_subset_and_bad_options(tiny) -> None:
    from large_toolkit.errors import UserInputError

    dirs = _finder().find(tiny, {**FAST, "steps": 1, "layers": "1"})
    assert dirs[0].layer_mask.tolist() == [False, True]
    with pytest.raises(UserInputError):
        _finder().find(tiny, {**FAST, "deformator": "fc"})
    with pytest.raises(UserInputError):
        _finder().find(tiny, {**FAST, "directions": 9})
    with pytest.raises(UserInputError, match="unknown option"):
        _finder().find(tiny, {"stepz": 3})


def test_spec_resolution(toy_backend) -> None:
    from large_toolkit.directions import resolve_direction
    from large_toolkit.plugins import load_direction_finder, load_generator

    assert load_direction_finder("voynov").space.value == "w"
    gen = load_generator("toy", None, device="cpu")
    d = resolve_direction("voynov:3", gen, {**FAST, "directions": 6})
    assert d.name == "voynov_3" and d.provenance["finder"] == "voynov" and d.dim == 32
    again = resolve_direction("voynov:3", gen, {**FAST, "directions": 6})  # from the cache
    assert torch.equal(d.vector, again.vector)


def test_cli_find_with_checkpoint(tmp_path, toy_backend) -> None:
    from typer.testing import CliRunner

    from large_toolkit.cli.app import build_app

    out, ckpt = tmp_path / "voynov.safetensors", tmp_path / "train.safetensors"
    args = ["--device", "cpu", "directions", "find", "voynov", "--backend", "toy", "--out", str(out), "--json"]
    for key, value in {**FAST, "checkpoint": str(ckpt)}.items():
        args += ["--option", f"{key}={value}"]
    res = CliRunner().invoke(build_app(), args)
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["count"] == 4 and data["score_name"] == "accuracy"
    assert out.is_file() and ckpt.is_file()
    res = CliRunner().invoke(build_app(), ["directions", "show", f"file:{out}:2", "--json"])
    assert res.exit_code == 0 and "voynov_2" in res.stdout
