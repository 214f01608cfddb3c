"""``Runner(precision=...)``: bf16 autocast on CPU, fp16/bf16 on CUDA, checked against the fp32 reference.

Stated tolerance, as max |Δ| relative to the fp32 image's max |value|: bf16 (8-bit mantissa) within 3 %
for StyleGAN2 and 8 % for StyleGAN3 (measured 1.4-1.6 % and 2.9-4.1 % on these nets: StyleGAN3's 15 layers
of up/down FIRs accumulate more rounding); fp16 on CUDA within 1 %.
"""

from __future__ import annotations

import pytest
import torch
from large_stylegan2 import StyleGAN2Generator
from large_stylegan3.network import StyleGAN3Generator

from large_toolkit.errors import UserInputError
from large_toolkit.runner import Runner


def _generators(device: str) -> list:
    sg2 = StyleGAN2Generator.random(32, z_dim=64, w_dim=64, channel_base=1024, channel_max=64, device=device)
    sg3 = StyleGAN3Generator.random(resolution=16, cfg="T", z_dim=32, w_dim=32, channel_base=256, channel_max=32)
    return [sg2, sg3.to(device)]


def _images(gen, precision: str, device: str, z: torch.Tensor) -> torch.Tensor:
    runner = Runner(device=device, batch_size=3, precision=precision, show_progress=False)
    return runner.map(lambda t: gen.synthesis(gen.mapping(t, psi=0.7)), z)


@pytest.mark.parametrize("batch", [1, pytest.param(5, marks=pytest.mark.slow)])
def test_bf16_autocast_on_cpu_is_close_to_fp32(batch):
    for gen in _generators("cpu"):
        z = torch.randn(batch, gen.z_dim, generator=torch.Generator().manual_seed(0))
        ref = _images(gen, "fp32", "cpu", z)
        low = _images(gen, "bf16", "cpu", z)
        assert low.dtype == torch.float32 and low.shape == ref.shape
        err = float((low - ref).abs().max() / ref.abs().max())
        assert 0 < err < (0.03 if isinstance(gen, StyleGAN2Generator) else 0.08), (
            err
        )  # bf16 really ran (not bit-equal) and stays close


def test_autocast_context_uses_the_requested_dtype_on_cpu():
    with Runner(device="cpu", precision="bf16", show_progress=False).autocast():
        y = torch.randn(4, 8) @ torch.randn(8, 2)
    assert y.dtype == torch.bfloat16
    with Runner(device="cpu", precision="fp32", show_progress=False).autocast():
        assert (torch.randn(4, 8) @ torch.randn(8, 2)).dtype == torch.float32


def test_fp16_on_cpu_is_refused_with_a_hint():
    with pytest.raises(UserInputError, match="fp16 needs a CUDA device") as info:
        Runner(device="cpu", precision="fp16")
    assert "bf16" in (info.value.hint or "")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_reduced_precision_on_cuda_is_close_to_fp32(precision):
    for gen in _generators("cuda"):
        z = torch.randn(4, gen.z_dim, generator=torch.Generator().manual_seed(0))
        ref = _images(gen, "fp32", "cuda", z)
        low = _images(gen, precision, "cuda", z)
        tol = 0.01 if precision == "fp16" else 0.03 if isinstance(gen, StyleGAN2Generator) else 0.08
        assert float((low - ref).abs().max() / ref.abs().max()) < tol


# -- the global --precision: W and S stay fp32, the synthesis follows the option -------------------------


@pytest.fixture
def fp32_after():
    """``--precision`` sets a process-wide default: put fp32 back so other tests see the reference."""
    from large_toolkit.precision import set_default_precision

    yield
    set_default_precision("fp32")


def test_mapping_and_styles_stay_fp32_under_autocast():
    for gen in _generators("cpu"):
        z = torch.randn(3, gen.z_dim, generator=torch.Generator().manual_seed(1))
        ws, styles = gen.mapping(z, psi=0.7), gen.styles(gen.mapping(z, psi=0.7))
        with Runner(device="cpu", precision="bf16", show_progress=False).autocast():
            low_ws = gen.mapping(z, psi=0.7)
            low_styles = gen.styles(low_ws)
        assert low_ws.dtype == torch.float32 and torch.equal(low_ws, ws)  # W distances cannot move
        assert low_styles.dtype == torch.float32 and torch.equal(low_styles, styles)


def test_global_precision_is_the_runner_default(fp32_after):
    from large_toolkit.precision import set_default_precision

    set_default_precision("bf16")
    assert Runner(device="cpu", show_progress=False).precision == "bf16"
    with pytest.raises(UserInputError, match="unknown precision"):
        set_default_precision("fp8")


def test_channels_last_only_on_cuda():
    from large_toolkit.precision import use_channels_last

    assert use_channels_last("cuda") and not use_channels_last("cpu") and not use_channels_last("mps")


def _cli(*args: str, env: dict | None = None):
    from typer.testing import CliRunner

    from large_toolkit.cli.app import build_app

    return CliRunner().invoke(build_app(), list(args), env=env)


@pytest.mark.parametrize("how", ["option", "env"])
def test_fp16_on_cpu_is_refused_in_one_line_before_any_work(tmp_path, fp32_after, how):
    out = tmp_path / "x.npy"
    args, env = (["--precision", "fp16"], None) if how == "option" else ([], {"LARGE_TK_PRECISION": "fp16"})
    result = _cli(*args, "--device", "cpu", "generate", "--seeds", "0", "-o", str(out), env=env)
    assert result.exit_code == 2 and not out.exists()
    assert result.stderr.strip().splitlines() == [
        "error: precision fp16 needs a CUDA device, this run uses cpu (use --precision bf16 (or fp32) on CPU, "
        "or --device cuda)"
    ]
    assert _cli(*args, "--device", "cpu", "generate", "--help", env=env).exit_code == 0  # help still shows


def test_bf16_generate_on_cpu_is_close_to_fp32(tmp_path, fp32_after):
    """The bundled demo generator: measured max |Δ| / max |fp32| = 1.0 % (16 seeds, 2-core CPU), bound 3 %."""
    import numpy as np

    for precision in ("fp32", "bf16"):
        result = _cli("--device", "cpu", "--precision", precision, "generate", "--seeds", "0-3",
                      "-o", str(tmp_path / f"{precision}.npy"))  # fmt: skip
        assert result.exit_code == 0, result.output
    ref, low = np.load(tmp_path / "fp32.npy"), np.load(tmp_path / "bf16.npy")
    err = float(np.abs(low - ref).max() / np.abs(ref).max())
    assert 0 < err < 0.03, err


def test_channels_last_synthesis_matches_nchw(monkeypatch):
    """The CUDA-only NHWC layout, forced on the CPU: same images as NCHW (to float rounding)."""
    import large_stylegan2.network as network

    gen = _generators("cpu")[0]
    ws = gen.mapping(torch.randn(3, gen.z_dim, generator=torch.Generator().manual_seed(2)))
    ref = gen.synthesis(ws)
    monkeypatch.setattr(network, "use_channels_last", lambda device_type: True)
    out = gen.synthesis(ws)
    assert out.is_contiguous() and torch.allclose(out, ref, atol=1e-4)


def test_an_unknown_precision_is_one_line_but_help_still_shows(tmp_path, fp32_after):
    out = tmp_path / "x.npy"
    for args, env in ((["--precision", "xyz"], None), ([], {"LARGE_TK_PRECISION": "bogus"})):
        result = _cli(*args, "generate", "--seeds", "0", "-o", str(out), env=env)
        assert result.exit_code == 2 and not out.exists()
        assert len(result.stderr.strip().splitlines()) == 1
        assert "unknown precision" in result.stderr and "use fp32, bf16 or fp16" in result.stderr
        assert _cli(*args, "generate", "--help", env=env).exit_code == 0


def test_training_commands_say_they_run_at_fp32(tmp_path, fp32_after):
    """--precision used to be ignored by train and train-encoder without a word."""
    enc = ["train-encoder", "--steps", "1", "--batch-size", "2", "--input-size", "8", "--out", str(tmp_path / "e.st")]
    tiny = ["--kimg", "0.002", "--batch-size", "2", "--fd-n", "0", "--z-dim", "8", "--w-dim", "8", "--resolution", "8",
            "--channel-base", "64", "--channel-max", "8", "--n-synthetic", "4"]  # fmt: skip
    train = ["train", "--data", "synthetic", *tiny, "-o", str(tmp_path / "run")]
    for command in (enc, train):
        result = _cli("--device", "cpu", "--precision", "bf16", *command)
        assert result.exit_code == 0, result.output
        assert f"warning: --precision bf16 does not apply to {command[0]} (it trains at fp32)" in result.stderr


def test_fp16_from_the_environment_does_not_stop_commands_without_a_forward_pass(fp32_after):
    env = {"LARGE_TK_PRECISION": "fp16"}
    assert _cli("--device", "cpu", "plugins", "--json", env=env).exit_code == 0
    assert _cli("--device", "cpu", "models", "list", "--json", env=env).exit_code == 0
