"""StyleGAN3 loading: no code runs from pickles, structure-based detection, safetensors round trip, CLI."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from large_stylegan3 import is_stylegan3_state, load_stylegan3, save_safetensors
from typer.testing import CliRunner

from large_toolkit.errors import CheckpointError


def _official(shared_fixtures: Path) -> Path:
    return shared_fixtures / "official"


class _Poison(types.ModuleType):
    """A module whose every attribute access fails: importing or using it from a pickle is detected."""

    def __getattr__(self, name: str):
        raise AssertionError(f"pickle tried to use {self.__name__}.{name}")


@pytest.mark.parametrize("name", ["sg3_tiny_stripped.pkl", "sg3r_tiny_stripped.pkl"])
def test_pickle_loading_executes_no_code(shared_fixtures, monkeypatch, name):
    poisoned = ("torch_utils", "torch_utils.persistence", "dnnlib", "dnnlib.util", "training", "training.networks")
    for mod in poisoned:
        monkeypatch.setitem(sys.modules, mod, _Poison(mod))
    gen = load_stylegan3(_official(shared_fixtures) / name)  # a global lookup of the real modules would fail
    assert all(isinstance(sys.modules[mod], _Poison) for mod in poisoned)
    assert gen.num_ws == 16 and gen.resolution == 32


def test_structure_detection(shared_fixtures):
    from safetensors.torch import load_file

    off = _official(shared_fixtures)
    assert is_stylegan3_state(load_file(str(off / "sg3t_tiny.safetensors")))
    assert is_stylegan3_state(load_file(str(off / "sg3r_tiny.safetensors")))
    assert not is_stylegan3_state(load_file(str(off / "sg2_tiny.safetensors")))
    assert is_stylegan3_state(["G_ema.synthesis.L0_36_512.weight"])
    assert not is_stylegan3_state(["synthesis.b4.const", "mapping.fc0.weight"])


@pytest.mark.parametrize("name", ["sg2_tiny_stripped.pkl", "sg2_tiny.safetensors", "sg2_tiny_tf_stripped.pkl"])
def test_stylegan2_files_are_refused_with_a_pointer(shared_fixtures, name):
    with pytest.raises(CheckpointError, match="backend stylegan2"):
        load_stylegan3(_official(shared_fixtures) / name)


def test_truncated_state_is_refused(shared_fixtures):
    from safetensors.torch import load_file

    state = load_file(str(_official(shared_fixtures) / "sg3t_tiny.safetensors"))
    del state["synthesis.L3_36_32.affine.weight"]
    with pytest.raises(CheckpointError, match="missing"):
        load_stylegan3(state)


def test_safetensors_roundtrip_keeps_config(shared_fixtures, tmp_path):
    gen = load_stylegan3(_official(shared_fixtures) / "sg3r_tiny_stripped.pkl")
    out = save_safetensors(gen, tmp_path / "r.safetensors")
    again = load_stylegan3(out)
    assert again.config == gen.config
    assert again.fingerprint() == gen.fingerprint()
    from safetensors import safe_open

    with safe_open(str(out), "pt") as handle:
        meta = json.loads(handle.metadata()["large_toolkit"])
    assert meta["format"] == "large-tk/stylegan3-generator"
    assert meta["init_kwargs"]["conv_kernel"] == 1 and meta["init_kwargs"]["use_radial_filters"] is True


def test_checkpoint_transform_is_reset(shared_fixtures):
    from safetensors.torch import load_file

    state = load_file(str(_official(shared_fixtures) / "sg3t_tiny.safetensors"))
    state["synthesis.input.transform"] = torch.tensor([[1.0, 0, 0.3], [0, 1, 0], [0, 0, 1]])
    gen = load_stylegan3(state)
    assert torch.equal(gen.input_transform, torch.eye(3))
    assert torch.equal(gen.state_tensors()["synthesis.input.transform"], torch.eye(3))


def test_missing_filters_are_redesigned(shared_fixtures):
    """Filters absent from a file are designed from the schedule and match the stored ones (T and R)."""
    from large_stylegan3 import StyleGAN3Generator
    from safetensors.torch import load_file

    for cfg in ("t", "r"):
        state = load_file(str(_official(shared_fixtures) / f"sg3{cfg}_tiny.safetensors"))
        stripped = {k: v for k, v in state.items() if not k.endswith("_filter")}
        # radial (R) cannot be told from shapes once the 2-D filters are gone: say so explicitly
        gen = StyleGAN3Generator.from_state_dict(stripped, use_radial_filters=cfg == "r")
        for key, value in state.items():
            if key.endswith("_filter"):
                assert float((gen.params[key] - value).abs().max()) < 1e-6, key


def test_random_configs_build():
    from large_stylegan3 import StyleGAN3Generator

    for cfg, first in (("T", "L0_36_512"), ("R", "L0_36_1024")):
        gen = StyleGAN3Generator.random(resolution=256, cfg=cfg, z_dim=8, w_dim=8)
        names = [spec.name for spec in gen.layers]
        assert names[0] == first and names[-1] == "L14_256_3"
    t = StyleGAN3Generator.random(resolution=256, cfg="T", z_dim=8, w_dim=8)
    assert [s.name for s in t.layers][7] == "L7_148_362"


def test_cli_convert_and_generate(shared_fixtures, tmp_path):
    from large_toolkit.cli.app import build_app

    app = build_app()
    if "generate" not in {c.name for c in app.registered_commands}:
        pytest.skip("the generate/convert commands (stylegan2 plugin) are not installed")
    runner = CliRunner()
    st = tmp_path / "t.safetensors"
    res = runner.invoke(
        app,
        [
            "convert",
            str(_official(shared_fixtures) / "sg3_tiny_stripped.pkl"),
            str(st),
            "--backend",
            "stylegan3",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    base = ["--device", "cpu", "generate", "--backend", "stylegan3", "--checkpoint", str(st), "--seeds", "0-1"]
    res = runner.invoke(app, [*base, "--out", str(tmp_path / "a.npy")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, [*base, "--translate", "0.1,-0.05", "--rotate", "10", "--out", str(tmp_path / "b.npy")])
    assert res.exit_code == 0, res.output
    a, b = np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")
    assert a.shape == (2, 3, 32, 32) and np.abs(a - b).max() > 1e-3
    gen = load_stylegan3(st)
    z = torch.from_numpy(np.random.RandomState(1).randn(1, gen.z_dim).astype(np.float32))
    with torch.no_grad():
        expected = gen.synthesis(gen.mapping(z)).numpy()
    assert np.abs(a[1:2] - expected).max() < 1e-5
    res = runner.invoke(app, [*base, "--translate", "oops", "--out", str(tmp_path / "c.npy")])
    assert res.exit_code == 2
