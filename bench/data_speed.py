"""Throughput of the procedural dataset renderer vs straightforward baselines, in one run.

Rows:
  per-image loop      render_batch called once per image (what a plain renderer does)
  4x4 supersampling   the obvious anti-aliasing: render 16x the pixels and box-filter
  batched, 1 thread   the shipped path, chunks of 256 images, one thread
  batched, N threads  the shipped path as ``generate`` runs it (threads = usable cores, max 8)
  + PNG folder write  generate + write_image_folder (what ``large-tk data synth`` does)

Usage: python bench/data_speed.py [--n 4000] [--resolution 32]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from large_toolkit.data.factors import sample_factors
from large_toolkit.data.folders import write_image_folder
from large_toolkit.data.render import render_batch
from large_toolkit.data.synthetic import default_workers, generate, render_labels


def timed(fn: Callable[[], object], repeats: int = 3) -> float:
    """Best wall time of ``repeats`` runs (the least disturbed by other processes)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--resolution", type=int, default=32)
    args = ap.parse_args()
    n, res = args.n, args.resolution
    labels = sample_factors(n, seed=0)
    small = labels[: max(1, n // 8)]
    workers = default_workers()

    def write_folder() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            ds = generate(n, seed=0, resolution=res)
            write_image_folder(Path(tmp) / "ds", ds.images, ds.labels)

    rows = [
        (
            "per-image loop (baseline)",
            len(small),
            timed(lambda: [render_batch(small[i : i + 1], res) for i in range(len(small))], 1),
        ),
        ("4x4 supersampling (baseline)", len(small), timed(lambda: render_batch(small, res, supersample=4), 1)),
        ("batched, 1 thread", n, timed(lambda: render_labels(labels, res, workers=1))),
        (f"batched, {workers} threads (shipped)", n, timed(lambda: render_labels(labels, res, workers=workers))),
        ("generate + PNG folder write", n, timed(write_folder, 1)),
    ]
    base = rows[0][1] / rows[0][2]
    print(f"procedural dataset throughput, {res}x{res}, {workers} usable cores")
    print(f"{'method':<34}{'images':>8}{'seconds':>10}{'img/s':>10}{'vs loop':>9}")
    for name, count, secs in rows:
        rate = count / secs
        print(f"{name:<34}{count:>8}{secs:>10.3f}{rate:>10.0f}{rate / base:>8.1f}x")


if __name__ == "__main__":
    main()
