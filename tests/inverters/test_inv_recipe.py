"""What an inversion run carries to its workers: the generator rule, ``--class-idx`` and ``--precision``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from large_inverters.job import invert_chunk
from large_inverters.ray_engine import InvertActor
from large_inverters.spec import ModelSpec
from large_stylegan2 import StyleGAN2Generator

from large_toolkit.precision import set_default_precision
from large_toolkit.types import LatentSpace


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / "g.safetensors"
    StyleGAN2Generator.random(resolution=8, z_dim=16, w_dim=16, channel_base=64, channel_max=16).save_safetensors(path)
    return path


def _spy_autocast(inverter, seen: list[bool]) -> None:
    """Record whether CPU autocast is on while the inverter runs (what --precision bf16 must switch on)."""
    invert = inverter.invert

    def spy(*args, **kwargs):
        seen.append(torch.is_autocast_enabled("cpu"))
        return invert(*args, **kwargs)

    inverter.invert = spy


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_ray_actor_inverts_under_the_precision_it_is_given(checkpoint, precision):
    """The actor runs in another process: the driver's global is not there, so it is passed explicitly."""
    spec = ModelSpec("optim", "stylegan2", str(checkpoint), options={"num_steps": 2, "seed": 0})
    actor = InvertActor(spec, "w", "cpu", 1, None, precision)
    seen: list[bool] = []
    _spy_autocast(actor.inverter, seen)
    images = np.random.RandomState(0).uniform(-1, 1, (1, 2, 3, 8, 8)).astype(np.float32)
    out = actor({"start": np.array([0]), "images": images})
    assert seen == [precision == "bf16"]
    assert out["latents"].dtype == np.float32 and np.isfinite(out["latents"]).all()


def test_the_local_loop_follows_the_global_precision(checkpoint):
    spec = ModelSpec("optim", "stylegan2", str(checkpoint), options={"num_steps": 2, "seed": 0})
    generator, inverter = spec.build("cpu")
    seen: list[bool] = []
    _spy_autocast(inverter, seen)
    images = torch.from_numpy(np.random.RandomState(0).uniform(-1, 1, (2, 3, 8, 8)).astype(np.float32))
    set_default_precision("bf16")
    try:
        tensors, _ = invert_chunk(inverter, generator, LatentSpace.W, images)
    finally:
        set_default_precision("fp32")
    invert_chunk(inverter, generator, LatentSpace.W, images)
    assert seen == [True, False]
    assert tensors["latents"].dtype == torch.float32 and tensors["mse"].dtype == torch.float32


def test_invert_with_a_checkpoint_and_no_backend_follows_the_one_rule(checkpoint, tmp_path):
    """``--checkpoint G --inverter optim`` without ``--backend``: the backend that recognises the file, as in
    every other command (this used to stop with "no generator given")."""
    from PIL import Image
    from typer.testing import CliRunner

    from large_toolkit.cli.app import build_app
    from large_toolkit.io.artifacts import load_latents

    (tmp_path / "imgs").mkdir()
    Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8)).save(tmp_path / "imgs" / "a.png")
    out = tmp_path / "lat.safetensors"
    args = ["invert", "--checkpoint", str(checkpoint), "--images", str(tmp_path / "imgs"), "--inverter", "optim",
            "--steps", "1", "--space", "w", "--no-report", "-o", str(out)]  # fmt: skip
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    _, _, meta = load_latents(out)
    from large_toolkit.generators import resolve_generator

    assert meta["generator"]["fingerprint"] == resolve_generator("stylegan2", str(checkpoint), "cpu").fingerprint()
