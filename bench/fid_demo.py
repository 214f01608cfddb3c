"""Fréchet distance of the bundled demo generator vs held-out real images, the real-vs-real floor and bad baselines.

Run: ``python bench/fid_demo.py [--n 5000] [--epochs 4] [--threads 2]`` (CPU).  Prints a markdown table.

Protocol (why): the demo generator was trained on procedural images with seed 0, so the reference
real set is rendered with seed 1 (held out); the rotation extractor is trained on that reference set
(seed 0 for its own init), exactly as ``large-tk fid --real synthetic`` does.  A second, disjoint
real set (seed 2) gives the floor -- the FD of a perfect generator at this n.  Trivially bad
baselines: an untrained StyleGAN2 of the demo's shape, and the seed-2 real images blurred or noised.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator

import numpy as np
import torch
from torch.nn import functional as F

from large_toolkit.analysis.fid_extractors import RotationExtractor, generator_batches
from large_toolkit.analysis.frechet import (
    GaussianStats,
    feature_statistics,
    frechet_distance,
    image_batches,
    quantize,
)
from large_toolkit.data.synthetic import generate
from large_toolkit.plugins import load_generator


def blurred(images: np.ndarray, sigma: float, batch: int) -> Iterator[torch.Tensor]:
    """Gaussian blur (separable, reflect padding) of uint8 NHWC images, returned 8-bit quantised."""
    radius = int(3 * sigma + 0.5)
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    k = k / k.sum()
    for img in image_batches(images, batch):
        c = img.shape[1]
        y = F.pad(img, (radius, radius, 0, 0), mode="reflect")
        y = F.conv2d(y, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
        y = F.pad(y, (0, 0, radius, radius), mode="reflect")
        y = F.conv2d(y, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)
        yield quantize(y)


def noised(images: np.ndarray, std: float, batch: int, seed: int) -> Iterator[torch.Tensor]:
    """Add seeded Gaussian noise (std in [-1, 1] units) and quantise."""
    gen = torch.Generator().manual_seed(seed)
    for img in image_batches(images, batch):
        yield quantize(img + std * torch.randn(img.shape, generator=gen))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=250)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    n, batch = args.n, args.batch
    from large_stylegan2.network import StyleGAN2Generator

    t = time.perf_counter()
    ref = generate(n, seed=1).images
    other = generate(n, seed=2).images
    t_render = time.perf_counter() - t
    t = time.perf_counter()
    ext = RotationExtractor.train(ref, seed=0, epochs=args.epochs)
    t_train = time.perf_counter() - t
    t = time.perf_counter()
    ref_stats = feature_statistics(ext, image_batches(ref, batch))
    t_ref = time.perf_counter() - t
    print(
        f"rendered 2 x {n} real images in {t_render:.1f} s; rotation extractor trained in {t_train:.1f} s "
        f"(pretext accuracy {ext.accuracy:.3f}); reference statistics in {t_ref:.1f} s; "
        f"tr(C_real) = {np.trace(ref_stats.cov):.4g}"
    )

    demo = load_generator("stylegan2", None, "cpu")
    cfg = demo.config
    rand = StyleGAN2Generator.random(
        resolution=cfg.img_resolution,
        z_dim=cfg.z_dim,
        w_dim=cfg.w_dim,
        channel_base=4096,
        channel_max=128,
        mapping_layers=cfg.mapping_layers,
        seed=0,
    )
    assert rand.describe()["style_layers"] == demo.describe()["style_layers"], "random G must match the demo's shape"

    cases: list[tuple[str, object]] = [
        ("real seed 2 vs real seed 1 (floor)", lambda: image_batches(other, batch)),
        ("demo generator (EMA, 420 kimg), psi 1", lambda: generator_batches(demo, n, 0, 1.0, batch)),
        ("demo generator, psi 0.7", lambda: generator_batches(demo, n, 0, 0.7, batch)),
        ("real seed 2, noise std 0.1 (~13/255)", lambda: noised(other, 0.1, batch, 0)),
        ("real seed 2, Gaussian blur sigma 1 px", lambda: blurred(other, 1.0, batch)),
        ("real seed 2, Gaussian blur sigma 2 px", lambda: blurred(other, 2.0, batch)),
        ("untrained StyleGAN2, same shape (seed 0)", lambda: generator_batches(rand, n, 0, 1.0, batch)),
    ]
    rows = []
    for name, make in cases:
        t = time.perf_counter()
        stats: GaussianStats = feature_statistics(ext, make())  # type: ignore[operator]
        value = frechet_distance(stats, ref_stats)
        rows.append((name, value, value / np.trace(ref_stats.cov), time.perf_counter() - t))
    print(f"\n| images (n = {n} each) vs {n} real (seed 1) | FD | FD / tr(C_real) | seconds |")
    print("|---|---|---|---|")
    for name, value, rel, secs in rows:
        print(f"| {name} | {value:.4g} | {rel:.4g} | {secs:.1f} |")


if __name__ == "__main__":
    main()
