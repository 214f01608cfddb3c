"""Few-shot protocol speed: vectorised vs the released per-repeat scikit-learn loop.

1000 train / 10 000 test synthetic 1-D distances, R = 1000 draws for n in
2, 5, 10, 20 plus the full fit.  Baseline = ``mode="exact"``: legacy-RNG
min-distance draws in Python and a fresh scikit-learn LinearRegression per
draw scored on the test set (the released approach).  Also checks that the
batched fit on the *same* draws gives identical statistics (``draws=legacy``)
and that the fully vectorised draws agree within sampling error.

Run: ``python bench/fewshot_speed.py [--repeats 1000]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from large_toolkit.regression.protocol import fewshot_protocol


def _timed(fn, runs: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.normal(size=11000)
    y = 3.0 * x + 0.4 * np.sin(3 * x) + rng.normal(size=11000) * 0.5
    kw = {"train_size": 1000, "repeats": args.repeats, "seed": args.seed}

    t_exact, exact = _timed(lambda: fewshot_protocol(x, y, mode="exact", **kw), 1)
    t_legacy, legacy = _timed(lambda: fewshot_protocol(x, y, draws="legacy", **kw), 1)
    t_vec, vec = _timed(lambda: fewshot_protocol(x, y, **kw), 5)

    print(f"{'variant':<34}{'time [s]':>10}{'speed-up':>10}")
    for name, t in (
        ("released loop (exact)", t_exact),
        ("batched fit, released draws", t_legacy),
        ("vectorised (default)", t_vec),
    ):
        print(f"{name:<34}{t:>10.3f}{t_exact / t:>9.1f}x")
    print()
    head = f"{'n':>5} {'exact MAE mean±std (max)':>34} {'same-draws max|diff|':>21}"
    print(f"{head} {'vectorised MAE mean±std':>26} {'z':>6}")
    for a, b, c in zip(exact.rows, legacy.rows, vec.rows, strict=True):
        diff = float(np.max(np.abs(a.maes - b.maes)))
        se = np.hypot(a.mae_std, c.mae_std) / np.sqrt(a.repeats) if a.n != "all" else 0.0
        z = (c.mae_mean - a.mae_mean) / se if se > 0 else 0.0
        print(
            f"{a.n!s:>5} {a.mae_mean:>14.6f} ± {a.mae_std:.6f} ({a.mae_max:.5f}) {diff:>21.2e} "
            f"{c.mae_mean:>14.6f} ± {c.mae_std:.6f} {z:>6.2f}"
        )


if __name__ == "__main__":
    main()
