"""StyleGAN3 per-image synthesis time: our fast filtered leaky ReLU vs straightforward references, in one run.

Networks are the released 256 px shapes with random weights (T: channel_base 16384 / max 512, 3x3;
R: 32768 / 1024, 1x1, radial down filters), batch 1, ``torch.no_grad``, float32.  Rows:

  fast            the shipped path (:func:`large_stylegan3.ops.filtered_lrelu`: polyphase transposed-conv
                  up-sampling, separable 1-D passes, strided down-sampling)
  ref-separable   zero-insert + full-rate 1-D passes + subsample (like NVIDIA's CPU ``_ref`` fallback)
  ref-dense       zero-insert + full 2-D FIR at the full rate + subsample (the straightforward baseline)

Two numbers per row: the whole synthesis network per image (modulated convs included, they are
the same code in every row) and the filtered-lReLU work alone (the same captured layer inputs fed
to each implementation, summed over the 15 layers).  Times are the best of ``--repeats`` runs
(least disturbed by other processes).  The max abs difference of each reference's image from the
fast path's is printed as a correctness check.  ``--sefa`` also runs the SeFa finder on the T net.

Usage: python bench/stylegan3_speed.py [--resolution 256] [--repeats 3] [--threads N] [--device cpu] [--sefa]
"""

from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Callable

import torch
from large_stylegan3 import ops
from large_stylegan3.network import StyleGAN3Generator
from timing import best_time

IMPLS: dict[str, Callable[..., torch.Tensor]] = {
    "fast": ops.filtered_lrelu,
    "ref-separable": functools.partial(ops.filtered_lrelu_reference, separable=True),
    "ref-dense": ops.filtered_lrelu_reference,
}


def run_with(gen: StyleGAN3Generator, impl: Callable[..., torch.Tensor], styles: torch.Tensor) -> torch.Tensor:
    """Synthesis with ``impl`` patched in as the filtered leaky ReLU."""
    saved = ops.filtered_lrelu
    ops.filtered_lrelu = impl  # the network looks the function up at call time
    try:
        return gen.synthesis_from_styles(styles)
    finally:
        ops.filtered_lrelu = saved


def capture_layer_calls(gen: StyleGAN3Generator, styles: torch.Tensor) -> list[tuple[tuple, dict]]:
    """The arguments of every filtered-lReLU call of one synthesis (to time the op alone)."""
    calls: list[tuple[tuple, dict]] = []

    def spy(*args: object, **kwargs: object) -> torch.Tensor:
        calls.append((args, kwargs))
        return ops.filtered_lrelu.__wrapped__(*args, **kwargs)  # type: ignore[attr-defined]

    spy.__wrapped__ = IMPLS["fast"]  # type: ignore[attr-defined]
    saved = ops.filtered_lrelu
    ops.filtered_lrelu = spy
    try:
        gen.synthesis_from_styles(styles)
    finally:
        ops.filtered_lrelu = saved
    return calls


def bench_config(cfg: str, resolution: int, repeats: int, device: torch.device) -> list[dict[str, object]]:
    gen = StyleGAN3Generator.random(resolution=resolution, cfg=cfg, device=device)
    z = torch.randn(1, gen.z_dim, generator=torch.Generator().manual_seed(0)).to(device)
    rows = []
    with torch.no_grad():
        styles = gen.styles(gen.mapping(z))
        calls = capture_layer_calls(gen, styles)
        reference_image = run_with(gen, IMPLS["fast"], styles)
        for name, impl in IMPLS.items():
            image = run_with(gen, impl, styles)
            total = best_time(lambda impl=impl: run_with(gen, impl, styles), device, repeats)
            flrelu = best_time(lambda impl=impl: [impl(*a, **k) for a, k in calls], device, repeats)
            rows.append(
                {
                    "config": f"{cfg}-{resolution}",
                    "impl": name,
                    "total": total,
                    "flrelu": flrelu,
                    "maxdiff": float((image - reference_image).abs().max()),
                    "scale": float(reference_image.abs().max()),
                }
            )
    return rows


def sefa_check(device: torch.device) -> None:
    """SeFa on a StyleGAN3 net: directions exist, are unit length and span the W space sensibly."""
    try:
        from large_toolkit.plugins import load_direction_finder
    except ImportError:  # pragma: no cover
        print("SeFa check skipped: large_toolkit.plugins unavailable")
        return
    gen = StyleGAN3Generator.random(resolution=64, cfg="T", z_dim=64, w_dim=64, device=device)
    try:
        finder = load_direction_finder("sefa")
    except Exception as exc:  # the sefa plugin is optional
        print(f"SeFa check skipped: {exc}")
        return
    t0 = time.perf_counter()
    dirs = finder.find(gen, {})
    print(
        f"SeFa on StyleGAN3-T (64 px): {len(dirs)} directions in {time.perf_counter() - t0:.2f} s, "
        f"top score {float(dirs.scores[0]):.3f}, |d0| = {float(dirs[0].vector.norm()):.4f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resolution", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--configs", default="T,R")
    ap.add_argument("--sefa", action="store_true", help="also run SeFa on a StyleGAN3 net")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    print(
        f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}, batch 1, best of "
        f"{args.repeats}"
    )
    header = (
        f"{'config':<8} {'impl':<14} {'synthesis/img':>14} {'speed-up':>9} {'flrelu/img':>11} {'speed-up':>9} "
        f"{'max|diff|':>10}"
    )
    print(header)
    print("-" * len(header))
    for cfg in args.configs.split(","):
        rows = bench_config(cfg.strip().upper(), args.resolution, args.repeats, device)
        fast = rows[0]
        for row in rows:
            print(
                f"{row['config']:<8} {row['impl']:<14} {row['total'] * 1000:>11.0f} ms "
                f"{row['total'] / fast['total']:>8.2f}x {row['flrelu'] * 1000:>8.0f} ms "
                f"{row['flrelu'] / fast['flrelu']:>8.2f}x {row['maxdiff']:>10.2e}"
            )
        print(f"{'':<8} (image max |value| {fast['scale']:.3g}; speed-up = time / fast time)")
    if args.sefa:
        sefa_check(device)


if __name__ == "__main__":
    main()
