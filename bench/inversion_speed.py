"""Inversion throughput: encoders (images/s) and the projector (image-steps/s), batch 1 vs 16 vs a per-image loop.

Why: batching is the main speed lever on both CPU and GPU; this shows what it
buys for each inverter against the naive loop users otherwise write
(one image at a time, as the original projector forces).

    python bench/inversion_speed.py                       # ToyGenerator, demo SG2, NVIDIA-made SG2 fixture; CPU
    python bench/inversion_speed.py --device cuda --e4e   # also the full IR-SE-50 encoder (random weights)

Generators: the bundled demo StyleGAN2 (32 px, w_dim 64, 8 ws) and ``official/sg2_tiny`` from the
repository's reference fixtures (``tests/fixtures/reference.tar.xz``, unpacked once by
``tests/conftest.py``), so the bench runs from a plain clone.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import torch
from large_inverters.projector import Projector, ProjectorConfig
from large_inverters.small_encoder import EncoderArch, SmallEncoder
from timing import best_time

from large_toolkit.testing import ToyGenerator
from large_toolkit.types import LatentSpace

CONFTEST = Path(__file__).resolve().parents[1] / "tests" / "conftest.py"


def reference_fixture(name: str) -> Path:
    """A file of the shipped reference fixtures, through the tests' own (cached) unpacker."""
    spec = importlib.util.spec_from_file_location("large_tk_test_conftest", CONFTEST)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.reference_dir() / name


def generators(device: torch.device) -> list[tuple[str, object]]:
    from large_stylegan2 import load_stylegan2
    from large_stylegan2.demo import DEMO_GENERATOR

    return [
        ("toy16", ToyGenerator().to(device)),
        ("demo sg2 32px", load_stylegan2(DEMO_GENERATOR, device=str(device))),
        ("sg2_tiny 32px", load_stylegan2(reference_fixture("official/sg2_tiny.safetensors"), device=str(device))),
    ]


def bench_encoder(name: str, g: object, device: torch.device, rows: list[list[str]]) -> None:
    torch.manual_seed(0)
    net = SmallEncoder(EncoderArch(g.num_ws, g.w_dim, g.resolution, min(64, g.resolution)), g.w_avg).to(device).eval()
    with torch.no_grad():
        images = g.synthesis(g.mapping(g.sample_z(16, 0)))
        t1 = best_time(lambda: net(images[:1]), device)
        t16 = best_time(lambda: net(images), device)
        loop = best_time(lambda: [net(images[i : i + 1]) for i in range(16)], device)
    rows.append(
        [
            f"small encoder / {name}",
            f"{1 / t1:.1f} img/s",
            f"{16 / t16:.1f} img/s",
            f"{16 / loop:.1f} img/s",
            f"{loop / t16:.1f}x",
        ]
    )


def bench_projector(name: str, g: object, device: torch.device, steps: int, rows: list[list[str]]) -> None:
    with torch.no_grad():
        images = g.synthesis(g.mapping(g.sample_z(16, 0)))
    cfg = ProjectorConfig(num_steps=steps, patience=10**9, std_samples=1000, seed=0)
    proj = Projector(cfg)

    def run(batch: torch.Tensor) -> None:
        proj.invert(batch, g, LatentSpace.WPLUS)

    t1 = best_time(lambda: run(images[:1]), device, repeats=2)
    t16 = best_time(lambda: run(images), device, repeats=2)
    loop = best_time(lambda: [run(images[i : i + 1]) for i in range(16)], device, repeats=1)
    rows.append(
        [
            f"projector W+ / {name}",
            f"{steps / t1:.1f} steps/s",
            f"{16 * steps / t16:.1f} img-steps/s",
            f"{16 * steps / loop:.1f} img-steps/s",
            f"{loop / t16:.1f}x",
        ]
    )


def bench_e4e(device: torch.device, rows: list[list[str]]) -> None:
    from large_inverters.irse import IRSEStyleEncoder

    torch.manual_seed(0)
    net = IRSEStyleEncoder(18, "e4e").to(device).eval()
    x = torch.rand(4, 3, 256, 256, device=device) * 2 - 1
    with torch.no_grad():
        t1 = best_time(lambda: net(x[:1]), device, repeats=1)
        t4 = best_time(lambda: net(x), device, repeats=1)
        loop = best_time(lambda: [net(x[i : i + 1]) for i in range(4)], device, repeats=1)
    rows.append(
        [
            "e4e IR-SE-50 256px (batch 4)",
            f"{1 / t1:.2f} img/s",
            f"{4 / t4:.2f} img/s",
            f"{4 / loop:.2f} img/s",
            f"{loop / t4:.1f}x",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=50, help="projector steps per run")
    parser.add_argument("--e4e", action="store_true", help="also time the full 267M-parameter e4e encoder")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    rows: list[list[str]] = []
    for name, g in generators(device):
        bench_encoder(name, g, device, rows)
        bench_projector(name, g, device, args.steps, rows)
    if args.e4e:
        bench_e4e(device, rows)
    header = ["inverter / generator", "batch 1", "batch 16", "per-image loop (16)", "batch16 vs loop"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    for r in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
