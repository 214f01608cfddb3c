"""InterFaceGAN: a linear-SVM boundary between high- and low-scoring latents.

Selection and split follow the reference ``train_boundary`` exactly:

1. drop rows whose score equals ``invalid_value``;
2. order with ``np.argsort(scores[N,1], axis=0)[::-1, 0]`` (literally, so ties
   in 0/1 labels land where the reference puts them);
3. ``chosen = int(N*ratio)`` if ``0 < ratio <= 1`` else ``int(ratio)``, capped
   at ``N//2``: top ``chosen`` are positives, bottom ``chosen`` negatives;
4. ``train_num = int(chosen*split_ratio)``; the positive then the negative index
   lists are shuffled with ``np.random.RandomState(seed)`` — the same draws as
   the reference's ``np.random.seed(seed)`` + global ``np.random.shuffle``;
5. ``sklearn.svm.SVC(kernel='linear')`` (libsvm, C=1) — the exact path;
   ``solver=linearsvc`` is a fast, *not* equivalent option (cos ~0.99);
6. normal ``coef / ||coef||`` points toward high scores.  The reference drops
   the intercept; we keep ``intercept / ||coef||`` on the Direction (edits
   still use the hyperplane through the origin, as the reference).

Labels come from a CSV (``scores=path``): a ``seed`` column (W = mapping of
that seed's z, psi=1, untruncated like the reference's stored ``w``) or an
``index`` column into ``latents=path`` (our latents safetensors or an ``.npy``
``[N, w_dim]``); every other numeric column is one attribute, giving one
boundary each (``interfacegan:smile``).  Or ``scorer=module:function`` (a
callable ``images [N,3,H,W] in [-1,1] -> scores [N]`` or ``[N, A]``) with
``num_samples`` seeded samples, drawn in chunks of ``chunk_size`` whose z come from per-chunk seeds
``(seed, k)``; ``engine=ray`` (``ray_address``, ``ray_workers``) scores the chunks on Ray workers and
concatenates them in chunk order, so the SVM sees exactly the local inputs whatever the worker count
(a callable scorer must then be picklable; ``module:function`` is imported on each worker).
``conditions`` (direction specs) are projected out (conditional manipulation, ``project_boundary``).
"""

from __future__ import annotations

import csv
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from large_toolkit.api import (
    Direction,
    DirectionFinder,
    DirectionSet,
    EngineOptions,
    ExecutionOptions,
    Generator,
    LatentSpace,
    UserInputError,
    chunk_ranges,
    chunk_z,
    generator_meta,
    option,
    run_chunks,
)


def project_boundary(primal: np.ndarray, *conditions: np.ndarray) -> np.ndarray:
    """Remove the condition directions from ``primal`` and renormalise (the reference's closed forms).

    One condition: ``n - (n·c)c``; two: the reference's closed form with its
    1e-8 regulariser; more: solve ``(C Cᵀ) x = C n`` and take ``n - xᵀC``.
    """
    n = np.asarray(primal, dtype=np.float64).reshape(-1)
    conds = [np.asarray(c, dtype=np.float64).reshape(-1) for c in conditions]
    if not conds:
        return n / np.linalg.norm(n)
    if len(conds) == 1:
        c = conds[0]
        out = n - (n @ c) * c
    elif len(conds) == 2:
        c1, c2 = conds
        p1, p2, c12 = n @ c1, n @ c2, c1 @ c2
        alpha = (p1 - p2 * c12) / (1 - c12**2 + 1e-8)
        beta = (p2 - p1 * c12) / (1 - c12**2 + 1e-8)
        out = n - alpha * c1 - beta * c2
    else:
        cmat = np.stack(conds)
        x = np.linalg.solve(cmat @ cmat.T, cmat @ n)
        out = n - x @ cmat
    norm = np.linalg.norm(out)
    if norm < 1e-12:
        raise UserInputError("the conditions span the boundary: nothing is left after projecting them out")
    return out / norm


def select_and_split(
    scores: np.ndarray,
    ratio: float,
    split_ratio: float,
    seed: int,
    invalid_value: float | None = None,
    min_per_class: int = 2,
    source: str = "the labels",
) -> dict[str, np.ndarray]:
    """Indices (into the original rows) of train/val positives/negatives, as the reference picks them."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1, 1)
    keep = np.arange(len(scores))
    if invalid_value is not None:
        keep = keep[scores[:, 0] != invalid_value]
    s = scores[keep]
    n = len(s)
    if not 0 < split_ratio <= 1:
        raise UserInputError(f"split_ratio must be in (0, 1], got {split_ratio}")
    chosen = int(n * ratio) if 0 < ratio <= 1 else int(ratio)
    chosen = min(chosen, n // 2)
    order = np.argsort(s, axis=0)[::-1, 0]
    pos, neg = order[:chosen], order[-chosen:] if chosen else order[:0]
    train_num = int(chosen * split_ratio)
    n_high = int((s[:, 0] > s[:, 0].min()).sum()) if n else 0
    if train_num < min_per_class or (chosen and s[pos, 0].min() <= s[neg, 0].max()):
        raise UserInputError(
            f"too few positives in {source}: {n} usable rows, {n_high} score above the minimum; the top and bottom "
            f"{chosen} (ratio {ratio}) must not overlap and give >= {min_per_class} training samples per class",
            hint="label more samples, add positives, or lower ratio",
        )
    rng = np.random.RandomState(int(seed))
    pos, neg = pos.copy(), neg.copy()
    rng.shuffle(pos)
    rng.shuffle(neg)
    return {
        "train_pos": keep[pos[:train_num]],
        "val_pos": keep[pos[train_num:]],
        "train_neg": keep[neg[:train_num]],
        "val_neg": keep[neg[train_num:]],
    }


def train_boundary(
    codes: np.ndarray,
    scores: np.ndarray,
    ratio: float = 0.02,
    split_ratio: float = 0.7,
    seed: int = 0,
    invalid_value: float | None = None,
    solver: str = "svc",
    source: str = "the labels",
) -> dict[str, Any]:
    """Fit the boundary; returns ``normal [D]`` (unit, float64), ``intercept``, accuracies, counts."""
    codes = np.asarray(codes, dtype=np.float64).reshape(len(codes), -1)
    split = select_and_split(scores, ratio, split_ratio, seed, invalid_value, source=source)
    x_train = np.concatenate([codes[split["train_pos"]], codes[split["train_neg"]]])
    y_train = np.concatenate([np.ones(len(split["train_pos"])), np.zeros(len(split["train_neg"]))])
    if solver == "svc":
        from sklearn.svm import SVC

        clf: Any = SVC(kernel="linear")
    elif solver == "linearsvc":
        from sklearn.svm import LinearSVC

        clf = LinearSVC(random_state=int(seed))
    else:
        raise UserInputError(f"unknown InterFaceGAN solver {solver!r}", hint="use svc (exact) or linearsvc (fast)")
    clf.fit(x_train, y_train)
    coef = np.asarray(clf.coef_, dtype=np.float64).reshape(-1)
    norm = float(np.linalg.norm(coef))
    result: dict[str, Any] = {
        "normal": coef / norm,
        "intercept": float(np.asarray(clf.intercept_).reshape(-1)[0]) / norm,
        "train_accuracy": float(clf.score(x_train, y_train)),
        "num_train": len(x_train),
    }
    x_val = np.concatenate([codes[split["val_pos"]], codes[split["val_neg"]]])
    if len(x_val):
        y_val = np.concatenate([np.ones(len(split["val_pos"])), np.zeros(len(split["val_neg"]))])
        result["val_accuracy"] = float(clf.score(x_val, y_val))
    result["num_val"] = len(x_val)
    return result


def _read_csv(path: Path) -> tuple[list[str], dict[str, np.ndarray]]:
    if not path.is_file():
        raise UserInputError(f"score file not found: {path}")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames:
            raise UserInputError(f"{path}: empty CSV", hint="expected a header like seed,smile")
        names = [f.strip() for f in reader.fieldnames]
        rows = list(reader)
    cols: dict[str, np.ndarray] = {}
    for name, raw in zip(names, reader.fieldnames, strict=True):
        try:
            cols[name] = np.asarray([float(r[raw]) if r[raw] not in ("", None) else np.nan for r in rows])
        except ValueError:
            continue  # a text column (file names): not an attribute
    if not rows:
        raise UserInputError(f"{path}: no rows")
    return names, cols


def _load_codes(path: Path, generator: Generator) -> np.ndarray:
    if path.suffix == ".npy":
        from large_toolkit.api import load_npy

        arr = load_npy(path)
    else:
        from large_toolkit.api import load_latents

        latents, _, _ = load_latents(path, generator)
        if latents.space is LatentSpace.WPLUS:
            return latents.tensor[:, 0].double().numpy()
        arr = latents.tensor.double().numpy()
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 3:
        arr = arr[:, 0]
    if arr.ndim != 2 or arr.shape[1] != generator.w_dim:
        raise UserInputError(f"{path}: expected W latents [N, {generator.w_dim}], got {list(arr.shape)}")
    return arr


def w_from_seeds(generator: Generator, seeds: Sequence[int], batch_size: int = 1024) -> np.ndarray:
    """W codes (psi=1) for the given seeds, one z per seed via ``generator.sample_z(1, seed)``."""
    out = []
    with torch.inference_mode():
        for i in range(0, len(seeds), batch_size):
            z = torch.cat([generator.sample_z(1, int(s)) for s in seeds[i : i + batch_size]])
            c = torch.zeros(len(z), generator.c_dim, device=z.device) if generator.c_dim else None
            out.append(generator.mapping(z, c, psi=1.0)[:, 0].double().cpu())
    return torch.cat(out).numpy()


def _import_scorer(spec: Any) -> Callable[[torch.Tensor], Any]:
    if callable(spec):
        return spec
    text = str(spec)
    if ":" not in text:
        raise UserInputError(f"bad scorer {text!r}", hint="use module:function")
    mod, _, attr = text.partition(":")
    try:
        fn = getattr(importlib.import_module(mod), attr)
    except (ImportError, AttributeError) as exc:
        raise UserInputError(f"cannot import scorer {text!r}: {exc}") from None
    return fn


def score_chunk(generator: Generator, task: tuple[int, int, int, int, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Chunk worker (local or a Ray actor): chunk ``k``'s W codes ``[n, w_dim]`` and scores ``[n, A]``, float64.

    z comes from the chunk's own seed, so a chunk's rows are the same wherever it runs; synthesis and
    scoring go ``batch_size`` images at a time inside the chunk (memory), in a fixed order.
    """
    k, n, seed, batch_size, scorer = task
    fn = _import_scorer(scorer)
    z_all = chunk_z(generator.z_dim, n, seed, k).to(generator.device)
    codes, scores = [], []
    with torch.inference_mode():
        for i in range(0, n, batch_size):
            z = z_all[i : i + batch_size]
            c = torch.zeros(len(z), generator.c_dim, device=z.device) if generator.c_dim else None
            ws = generator.mapping(z, c, psi=1.0)
            s = torch.as_tensor(fn(generator.synthesis(ws))).reshape(len(z), -1)
            codes.append(ws[:, 0].double().cpu())
            scores.append(s.double().cpu())
    return torch.cat(codes).numpy(), torch.cat(scores).numpy()


@dataclass(frozen=True)
class InterFaceGANOptions(ExecutionOptions):
    scores: str | None = option(None, "CSV of labels: a seed or index column + one column per attribute", path=True)
    latents: str | None = option(None, "latents the index column refers to (.safetensors or .npy)", path=True)
    scorer: Any = option(None, "module:function scoring images [N,3,H,W] -> [N] or [N, A] (instead of scores)")
    num_samples: int = option(10_000, "seeded samples scored by the scorer", low=1)
    batch_size: int = option(64, "images per scorer call", low=1)
    chunk_size: int = option(1024, "samples per chunk: the unit of work and of seeding", low=1)
    attributes: Any = option(None, "attribute columns to use (comma list; default all)")
    ratio: float = option(0.02, "fraction (<= 1) or count of top/bottom samples used as positives/negatives", low=0)
    split_ratio: float = option(0.7, "training share of the chosen samples (the rest validates)", low=0, high=1)
    invalid_value: float | None = option(None, "score value marking a sample to drop")
    seed: int = option(0, "seed of the samples and of the train/validation shuffle")
    solver: str = option("svc", "svc (the reference, exact) or linearsvc (fast)", choices=("svc", "linearsvc"))
    conditions: Any = option(None, "direction specs projected out (conditional manipulation), comma list")


class InterFaceGANFinder(DirectionFinder):
    """One W boundary per labelled attribute; scores are validation (or train) accuracies."""

    space = LatentSpace.W
    Options = InterFaceGANOptions

    def _labelled(self, generator: Generator, cfg: Mapping[str, Any]) -> tuple[np.ndarray, dict[str, np.ndarray], str]:
        if cfg["scores"]:
            path = Path(str(cfg["scores"]))
            _, cols = _read_csv(path)
            if cfg["latents"]:
                codes = _load_codes(Path(str(cfg["latents"])), generator)
                idx = cols.pop("index", None)
                if idx is not None:
                    codes = codes[idx.astype(int)]
                elif len(codes) != len(next(iter(cols.values()))):
                    raise UserInputError(
                        f"{path} has {len(next(iter(cols.values())))} rows but the latents have {len(codes)}",
                        hint="add an index column",
                    )
            elif "seed" in cols:
                codes = w_from_seeds(generator, [int(s) for s in cols.pop("seed")])
            else:
                raise UserInputError(
                    f"{path} has no seed column and no latents were given",
                    hint="add a seed column, or pass latents=codes.safetensors with an index column",
                )
            return codes, cols, str(path)
        if cfg["scorer"]:
            spec = cfg["scorer"]
            _import_scorer(spec)  # fail on the driver, in one line, before any worker starts
            n, bs, size = int(cfg["num_samples"]), int(cfg["batch_size"]), int(cfg["chunk_size"])  # >= 1: Options
            tasks = [(k, b - a, int(cfg["seed"]), bs, spec) for k, (a, b) in enumerate(chunk_ranges(n, size))]
            codes_c, scores_c, done = [], [], 0
            for codes_k, scores_k in run_chunks(generator, score_chunk, tasks, EngineOptions.from_config(cfg)):
                codes_c.append(codes_k)
                scores_c.append(scores_k)
                done += len(codes_k)
                if self.progress is not None:
                    self.progress("InterFaceGAN scoring", done, n)
            sc = np.concatenate(scores_c)
            cols = {("score" if sc.shape[1] == 1 else f"score{j}"): sc[:, j] for j in range(sc.shape[1])}
            return np.concatenate(codes_c), cols, f"scorer {cfg['scorer']}"
        raise UserInputError(
            "interfacegan needs labels",
            hint="pass --option scores=labels.csv (columns seed,ATTR...) or scorer=module:fn",
        )

    def find(self, generator: Generator, config: Mapping[str, Any] | None = None) -> DirectionSet:
        cfg = self.merged(config)
        codes, cols, source = self._labelled(generator, cfg)
        wanted = cfg["attributes"]
        if wanted:
            wanted = [a.strip() for a in wanted.split(",")] if isinstance(wanted, str) else list(wanted)
            missing = [a for a in wanted if a not in cols]
            if missing:
                raise UserInputError(f"attribute(s) {missing} not in {source}", hint=f"columns: {sorted(cols)}")
            cols = {a: cols[a] for a in wanted}
        if not cols:
            raise UserInputError(f"{source} has no numeric score column")
        conds = []
        if cfg["conditions"]:
            from large_toolkit.api import resolve_direction

            specs = cfg["conditions"].split(",") if isinstance(cfg["conditions"], str) else cfg["conditions"]
            for spec in specs:
                d = spec if isinstance(spec, Direction) else resolve_direction(str(spec).strip(), generator)
                v = d.vector.double().cpu().numpy()
                conds.append(v / np.linalg.norm(v))
        fingerprint = generator.fingerprint()
        prov_cfg = {k: (v if isinstance(v, (int, float, str, bool, type(None))) else str(v)) for k, v in cfg.items()}
        directions, accs = [], []
        for name, scores in cols.items():
            ok = ~np.isnan(scores)
            res = train_boundary(
                codes[ok],
                scores[ok],
                float(cfg["ratio"]),
                float(cfg["split_ratio"]),
                int(cfg["seed"]),
                cfg["invalid_value"],
                str(cfg["solver"]),
                f"{source} ({name})",
            )
            normal = project_boundary(res["normal"], *conds) if conds else res["normal"]
            acc = res.get("val_accuracy", res["train_accuracy"])
            accs.append(acc)
            directions.append(
                Direction(
                    torch.from_numpy(normal).float(),
                    LatentSpace.W,
                    name,
                    res["intercept"] if not conds else 0.0,
                    None,
                    None,
                    {
                        "finder": "interfacegan",
                        "config": prov_cfg,
                        "generator": fingerprint,
                        "scale": "unit",
                        "train_accuracy": res["train_accuracy"],
                        "val_accuracy": res.get("val_accuracy"),
                        "num_train": res["num_train"],
                        "num_val": res["num_val"],
                        "conditional": bool(conds),
                    },
                )
            )
        return DirectionSet(
            directions,
            torch.tensor(accs, dtype=torch.float64),
            "accuracy",
            {
                "finder": "interfacegan",
                "config": prov_cfg,
                "generator": generator_meta(generator),
                "truncation_policy": "untruncated_w",
            },
        )
