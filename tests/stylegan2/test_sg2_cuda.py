"""CUDA path of the StyleGAN2 backend and the demo flow (run on a GPU machine; skipped without one)."""

import pytest
import torch

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


def test_cuda_matches_cpu_reference():
    from large_stylegan2.network import StyleGAN2Generator

    cpu = StyleGAN2Generator.random(resolution=64, z_dim=64, w_dim=64, channel_base=2048, channel_max=64, seed=3)
    gpu = StyleGAN2Generator.random(
        resolution=64, z_dim=64, w_dim=64, channel_base=2048, channel_max=64, seed=3, device="cuda"
    )
    z = cpu.sample_z(4, seed=0)
    for noise in ("const", "none"):
        a = cpu.synthesis(cpu.mapping(z, psi=0.7), noise)
        b = gpu.synthesis(gpu.mapping(z.cuda(), psi=0.7), noise).cpu()
        assert (a - b).abs().max() < 1e-4


def test_demo_regress_on_cuda(tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    from large_toolkit.cli.app import build_app

    monkeypatch.setenv("LARGE_TK_CACHE", str(tmp_path / "cache"))
    result = CliRunner().invoke(
        build_app(), ["--device", "cuda", "regress", "--direction", "sefa:3", "--repeats", "100", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["factor"] == "light_intensity" and data["spearman"] > 0.9
