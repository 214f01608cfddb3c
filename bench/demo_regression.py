"""Does LARGE beat the obvious few-shot alternatives on the bundled demo?  (issue 7, "Benchmark")

Data: the bundled demo set (:func:`large_toolkit.demo.demo_set`, seed 1): images 0..999 are the
unlabelled training pool, 1000..1999 the test set; 8 continuous ground-truth factors.  Latents are
the bundled encoder's W+ inversions (cached); directions come from the bundled generator.

Protocol (one for every method, so differences are the methods', not the draws'): for each n in
2, 5, 10, 20 we draw ``R`` subsets of n pool images uniformly without replacement (seeded); every
method sees exactly those n labels and predicts all 1000 test images; we report the test MAE
averaged over the R draws.  (Upstream LARGE draws labels spread out along the distance; that is
feature-dependent, so it cannot be shared across methods and is not used here.)

Methods:

* ``LARGE label-free dir`` -- one direction among ``sefa:0..K-1`` and ``ganspace:0..K-1``, chosen
  without labels by :func:`large_toolkit.regression.advice.rank_directions` (std of the pool's codes
  along the direction relative to an average direction, times the mean correlation of the per-layer
  distances); the same direction for every factor, then a 1-D OLS line on the n labels.
* ``LARGE LOO dir`` -- per draw, the candidate with the lowest exact leave-one-out MAE on the n
  labels (:func:`~large_toolkit.regression.advice.loo_errors`); LOO needs 3 labels, so at n = 2
  it falls back to the label-free choice.
* ``InterFaceGAN (n labels)`` -- the n labels median-split into positives / negatives (as the
  original thresholds its scores; the middle label of an odd n is dropped), a linear SVM (C=1) on
  the layer-averaged W codes, then the distance to that boundary and a 1-D OLS line.
* ridge on pixels / on the full W+ code / on rotation-prediction features -- kernel (dual) ridge
  on z-scored features; the penalty ``lambda * mean eigenvalue`` is chosen per draw by exact LOO
  from a grid (n >= 3), ``lambda = 0.1`` at n = 2.  The rotation network is a small CNN trained
  self-supervised (predict 0/90/180/270 degrees) on the 1000 pool images, seeded.
* ``k-NN on W+`` -- mean label of the k = min(n, 5) nearest labelled codes (z-scored W+).
* ``mean of labels`` -- predict the mean of the n labels: what "no information" scores.
* ``oracle dir (reference)`` -- the candidate with the highest |Spearman| with the factor on all
  1000 pool labels, then the same 1-D fit on the n labels.  It uses labels the others do not
  have: an upper bound for what direction choice can give, not a method.

Spearman: of the unsupervised sort (test images ordered by the label-free direction's distance)
against each factor, and the best |Spearman| any candidate reaches.

Run: ``python bench/demo_regression.py [--repeats 100] [--readme docs/demo_benchmark.md]``.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from large_toolkit.regression.advice import loo_errors, rank_directions
from large_toolkit.regression.baselines import (  # noqa: F401 - re-exported for the tests
    LAMBDA_N2,
    LAMBDAS,
    draw_subsets,
    kernel_ridge_mae,
    knn_mae,
    line_fit_mae,
    zscore_gram,
)

NS: tuple[int, ...] = (2, 5, 10, 20)
START, END = "<!-- demo-benchmark:start -->", "<!-- demo-benchmark:end -->"
SECTION = "## Does it work? (demo benchmark)"
METHODS: tuple[str, ...] = (
    "LARGE label-free dir",
    "LARGE LOO dir",
    "InterFaceGAN (n labels)",
    "ridge on pixels",
    "ridge on W+",
    "ridge on rotation feats",
    "k-NN on W+",
    "mean of labels",
    "oracle dir (reference)",
)


@dataclass
class BenchData:
    """Everything the methods need, computed once: labels, candidate distances and baseline features."""

    factors: list[str]
    units: dict[str, str]
    y: np.ndarray  # [F, N] ground truth
    pool: np.ndarray  # row indices of the unlabelled training pool
    test: np.ndarray  # row indices of the test set
    cand_names: list[str]
    cand_dist: np.ndarray  # [C, N] scalar LARGE distance per candidate direction
    cand_layers: list[np.ndarray]  # per candidate [N, L] per-layer distances (for the label-free score)
    cand_vectors: list[np.ndarray]  # per candidate W vector
    w_mean: np.ndarray  # [N, w_dim] layer-averaged codes (InterFaceGAN input, spread score)
    feats: dict[str, np.ndarray] = field(default_factory=dict)  # baseline name -> [N, D] raw features
    info: dict[str, object] = field(default_factory=dict)


def prepare(
    n_candidates: int = 10,
    finders: Sequence[str] = ("sefa", "ganspace"),
    seed: int = 0,
    rotation_epochs: int = 2,
) -> BenchData:
    """Render the demo set, invert it (cached), resolve the candidate directions, train the rotation CNN."""
    from large_toolkit.analysis.rotation_features import rotation_features, train_rotation_net
    from large_toolkit.data.factors import factor
    from large_toolkit.demo import DEMO_TEST, DEMO_TRAIN, demo_set
    from large_toolkit.directions import resolve_direction_set
    from large_toolkit.latent_cache import invert_images
    from large_toolkit.plugins import get_host, load_generator
    from large_toolkit.regression.features import distance_features, layer_distances

    timings: dict[str, float] = {}
    t = time.perf_counter()
    data = demo_set()
    gen = load_generator("stylegan2", None)
    inv = get_host().inverter("encoder").create(gen, checkpoint=None)
    lat, cached = invert_images(data.images, gen, inv, "wplus")
    timings["data+inversion"] = time.perf_counter() - t

    t = time.perf_counter()
    names, dists, layers, vectors = [], [], [], []
    for finder in finders:
        dset = resolve_direction_set(finder, gen)
        for k in range(min(n_candidates, len(dset))):
            direction = dset[k]
            names.append(f"{finder}:{k}")
            dists.append(distance_features(lat, direction)[:, 0])
            layers.append(layer_distances(lat, direction))
            vectors.append(direction.vector.detach().double().numpy().reshape(-1))
    timings["directions"] = time.perf_counter() - t

    t = time.perf_counter()
    pool = np.arange(DEMO_TRAIN)
    test = np.arange(DEMO_TRAIN, DEMO_TRAIN + DEMO_TEST)
    rot = train_rotation_net(data.images[pool], seed=seed, epochs=rotation_epochs)
    rot_feats = rotation_features(rot.net, data.images)
    timings["rotation_net"] = time.perf_counter() - t

    codes = lat.tensor.detach().double().numpy()
    factors = list(data.labels.columns)
    return BenchData(
        factors=factors,
        units={f: factor(f).unit for f in factors},
        y=np.stack([data.labels.column(f) for f in factors]).astype(np.float64),
        pool=pool,
        test=test,
        cand_names=names,
        cand_dist=np.stack(dists),
        cand_layers=layers,
        cand_vectors=vectors,
        w_mean=codes.mean(axis=1),
        feats={
            "pixels": data.images.reshape(len(data.images), -1).astype(np.float64) / 255.0,
            "wplus": codes.reshape(len(codes), -1),
            "rotation": rot_feats,
        },
        info={"latents_cached": cached, "rotation_accuracy": rot.accuracy, "timings": timings},
    )


# -- shared pieces ---------------------------------------------------------------------------------


def interfacegan_mae(data: BenchData, lab: np.ndarray, seed: int) -> np.ndarray:
    """Per draw and factor: median-split SVM boundary on the n labelled W codes, then a 1-D line -> ``[F, R]``."""
    from large_interfacegan.finder import select_and_split
    from sklearn.svm import SVC

    w = data.w_mean
    out = np.empty((len(data.factors), lab.shape[0]))
    for f in range(len(data.factors)):
        for r, rows in enumerate(lab):
            y_lab = data.y[f, rows]
            split = select_and_split(y_lab, 0.5, 1.0, seed + r, min_per_class=1)
            pos, neg = split["train_pos"], split["train_neg"]
            x = np.concatenate([w[rows[pos]], w[rows[neg]]])
            svm = SVC(kernel="linear").fit(x, np.r_[np.ones(len(pos)), np.zeros(len(neg))])
            normal = svm.coef_.reshape(-1) / np.linalg.norm(svm.coef_)
            d = w @ normal
            out[f, r] = line_fit_mae(d[rows], y_lab, d[data.test], data.y[f, data.test])
    return out


def label_free_choice(data: BenchData) -> tuple[int, list[str]]:
    """Index of the candidate ranked first by the unsupervised score, computed on pool images only."""
    ranked = rank_directions(
        data.cand_names,
        [p[data.pool] for p in data.cand_layers],
        [d[data.pool] for d in data.cand_dist],
        mean_codes=data.w_mean[data.pool],
        vectors=data.cand_vectors,
    )
    order = [s.name for s in ranked]
    return data.cand_names.index(order[0]), order


# -- the benchmark ---------------------------------------------------------------------------------


@dataclass
class BenchResult:
    """Mean test MAE per method, factor and n; Spearman of the unsupervised sort; the choices made."""

    mae: dict[str, np.ndarray]  # method -> [F, len(ns)], mean over draws
    median: dict[str, np.ndarray]  # method -> [F, len(ns)], median over draws (a typical draw)
    ns: tuple[int, ...]
    factors: list[str]
    units: dict[str, str]
    label_free: str
    label_free_rank: list[str]
    spearman: np.ndarray  # [F] label-free direction vs factor, test set
    best_spearman: np.ndarray  # [F] best |rho| of any candidate, test set
    best_name: list[str]
    loo_pick_share: np.ndarray  # [F, len(ns)] share of draws where LOO picked the oracle direction
    repeats: int
    seconds: float


def run_benchmark(
    data: BenchData,
    ns: Sequence[int] = NS,
    repeats: int = 100,
    seed: int = 0,
    factors: Sequence[str] | None = None,
) -> BenchResult:
    """Every method on the same seeded draws; returns mean test MAE (see the module docstring)."""
    from large_toolkit.regression.sorting import rank_agreement

    t0 = time.perf_counter()
    keep = [data.factors.index(f) for f in factors] if factors is not None else list(range(len(data.factors)))
    y = data.y[keep]
    names = [data.factors[i] for i in keep]
    pool, test = data.pool, data.test
    ns = tuple(int(n) for n in ns)
    draws = draw_subsets(len(pool), ns, repeats, seed)
    free, order = label_free_choice(data)
    rho = np.array([rank_agreement(data.cand_dist[free, test], y[f, test])["spearman"] for f in range(len(keep))])
    all_rho = np.array(
        [[abs(rank_agreement(d[pool], y[f, pool])["spearman"]) for d in data.cand_dist] for f in range(len(keep))]
    )
    oracle = all_rho.argmax(1)  # chosen on pool labels; reported on the test set below
    best_test = np.array(
        [abs(rank_agreement(data.cand_dist[oracle[f], test], y[f, test])["spearman"]) for f in range(len(keep))]
    )
    grams = {name: zscore_gram(x, pool) for name, x in data.feats.items()}
    sub = BenchData(names, data.units, y, pool, test, data.cand_names, data.cand_dist, data.cand_layers,
                    data.cand_vectors, data.w_mean)

    per_draw = {m: np.zeros((len(keep), len(ns), repeats)) for m in METHODS}
    share = np.zeros((len(keep), len(ns)))
    d_test = data.cand_dist[:, test]  # [C, T]
    y_test = y[:, test]  # [F, T]
    for j, n in enumerate(ns):
        lab = pool[draws[n]]  # [R, n] rows
        yl = y[:, lab]  # [F, R, n]
        dl = data.cand_dist[:, lab]  # [C, R, n]
        per_draw["LARGE label-free dir"][:, j] = line_fit_mae(
            dl[free][None], yl, d_test[free][None, None], y_test[:, None]
        )
        per_draw["oracle dir (reference)"][:, j] = [
            line_fit_mae(dl[oracle[f]], yl[f], d_test[oracle[f]][None], y_test[f]) for f in range(len(keep))
        ]
        if n >= 3:
            picks = np.array([[int(np.argmin(loo_errors(dl[:, r], yl[f, r])["mae"])) for r in range(repeats)]
                              for f in range(len(keep))])  # [F, R]
        else:
            picks = np.full((len(keep), repeats), free)
        share[:, j] = (picks == oracle[:, None]).mean(1)
        x_lab = np.take_along_axis(dl.transpose(1, 0, 2)[None], picks[:, :, None, None], axis=2)[:, :, 0]  # [F, R, n]
        x_tst = d_test[picks]  # [F, R, T]
        per_draw["LARGE LOO dir"][:, j] = line_fit_mae(x_lab, yl, x_tst, y_test[:, None])
        per_draw["InterFaceGAN (n labels)"][:, j] = interfacegan_mae(sub, lab, seed)
        per_draw["ridge on pixels"][:, j] = kernel_ridge_mae(grams["pixels"], lab, test, y)
        per_draw["ridge on W+"][:, j] = kernel_ridge_mae(grams["wplus"], lab, test, y)
        per_draw["ridge on rotation feats"][:, j] = kernel_ridge_mae(grams["rotation"], lab, test, y)
        per_draw["k-NN on W+"][:, j] = knn_mae(grams["wplus"], lab, test, y)
        per_draw["mean of labels"][:, j] = np.abs(yl.mean(-1, keepdims=True) - y_test[:, None]).mean(-1)
    return BenchResult(
        mae={m: v.mean(-1) for m, v in per_draw.items()},
        median={m: np.median(v, -1) for m, v in per_draw.items()},
        ns=ns,
        factors=names,
        units={f: data.units[f] for f in names},
        label_free=data.cand_names[free],
        label_free_rank=order,
        spearman=rho,
        best_spearman=best_test,
        best_name=[data.cand_names[i] for i in oracle],
        loo_pick_share=share,
        repeats=repeats,
        seconds=time.perf_counter() - t0,
    )


# -- output ----------------------------------------------------------------------------------------


def markdown(result: BenchResult, info: dict[str, object] | None = None) -> str:
    """The MAE table (best non-reference method per factor and n in bold) and the Spearman table."""
    head = "| factor (unit) | method | " + " | ".join(f"n={n}" for n in result.ns) + " |"
    lines = [
        f"Test MAE (1000 test images) as mean (median) over {result.repeats} draws of n labelled images, uniform "
        "from the 1000-image pool, the same draws for every method. **Bold** = lowest mean MAE for that factor "
        "and n (the oracle row is a reference, not a contender).",
        "",
        head,
        "|" + "---|" * (2 + len(result.ns)),
    ]
    contenders = [m for m in METHODS if m != "oracle dir (reference)"]
    for f, name in enumerate(result.factors):
        best = np.min(np.stack([result.mae[m][f] for m in contenders]), axis=0)
        for i, m in enumerate(METHODS):
            cells = []
            for j in range(len(result.ns)):
                v = result.mae[m][f, j]
                txt = f"{v:.3g} ({result.median[m][f, j]:.3g})"
                cells.append(f"**{txt}**" if m in contenders and np.isclose(v, best[j]) else txt)
            label = f"{name} ({result.units[name]})" if i == 0 else ""
            if m == "oracle dir (reference)":
                m = f"_oracle dir {result.best_name[f]} (reference)_"
            lines.append(f"| {label} | {m} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Unsupervised sorting: Spearman rho between the label-free direction `{result.label_free}` "
        "(chosen by `rank_directions`' spread x layer-agreement score, no labels) and each factor on the test "
        "set, and the best |rho| any of the candidate directions reaches (picked with pool labels).",
        "",
        "| factor | " + " | ".join(result.factors) + " |",
        "|---|" + "---|" * len(result.factors),
        f"| rho, `{result.label_free}` | " + " | ".join(f"{r:+.2f}" for r in result.spearman) + " |",
        "| best candidate abs(rho) | "
        + " | ".join(f"{r:.2f} ({n})" for r, n in zip(result.best_spearman, result.best_name, strict=True))
        + " |",
        "| LOO picks the best candidate (n=20) | "
        + " | ".join(f"{100 * s:.0f}%" for s in result.loo_pick_share[:, -1])
        + " |",
    ]
    if info:
        lines += ["", f"_{info}_"]
    return "\n".join(lines) + "\n"


def write_readme(path: Path, block: str) -> None:
    """Replace the text between the markers (adding the section heading above them if it is missing), or append
    the section with its markers; everything outside the markers is left alone, because others edit the README."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    body = f"{START}\n{block}{END}"
    if START in text and END in text:
        text = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: body, text, count=1, flags=re.S)
        if SECTION not in text:
            text = text.replace(START, f"{SECTION}\n\n{START}", 1)
    else:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n\n{body}\n"
    path.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=100, help="draws per n (default 100)")
    parser.add_argument("--candidates", type=int, default=10, help="directions per finder (sefa:0..K-1 etc.)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the CPU is shared)")
    parser.add_argument("--readme", type=Path, default=None, help="markdown file with demo-benchmark markers")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t0 = time.perf_counter()
    data = prepare(args.candidates, seed=args.seed)
    result = run_benchmark(data, repeats=args.repeats, seed=args.seed)
    total = time.perf_counter() - t0
    timings = {k: round(v, 1) for k, v in data.info["timings"].items()}  # type: ignore[union-attr]
    footer = (
        f"python bench/demo_regression.py --repeats {args.repeats} --candidates {args.candidates} "
        f"--seed {args.seed}: {total:.0f} s on CPU (setup {timings}, methods {result.seconds:.0f} s); "
        f"rotation CNN pretext accuracy {data.info['rotation_accuracy']:.2f}"
    )
    block = markdown(result, footer)
    print(block)
    print(f"label-free ranking: {result.label_free_rank}")
    if args.readme is not None:
        write_readme(args.readme, block)
        print(f"wrote {args.readme}")


if __name__ == "__main__":
    main()
