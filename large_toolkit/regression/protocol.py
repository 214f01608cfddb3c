"""The few-shot evaluation protocol of the released ``train_regression_model.py``.

Steps (all from the released script; see ``large_method.md`` §2.5):

1. Seed a legacy numpy RNG (``np.random.seed(2)`` upstream) and split the rows
   like ``train_test_split(df, train_size=1000)``: one ``permutation`` of all
   rows, the *first* ``N - train_size`` positions are the test set, the next
   ``train_size`` the training pool (in permutation order).
2. Optionally trim training outliers (``trim_ratio``, 1-D features only).
3. For each n: ``all`` (or n >= pool size) is one fit on the whole pool;
   otherwise ``repeats`` draws of n labelled points with min-distance
   sampling (``d_min = range / n**1.3`` unless given), one fit per draw.
4. Per draw: MAE and R² on the full test set.  Report MAE mean / std / max and
   R² mean over draws, plus the number of unique subsets.

``mode="exact"`` is a reproduction mode: it makes the released RNG calls in
the released order (split, then for each n in order, for each repeat, the
picks), uses the released per-feature spacing test (see
:mod:`large_toolkit.regression.sampling`), treats every n as the released loop
does (n equal to ``train_size`` -- or ``"all"`` -- is one draw of the whole
pool with ``d_min = 0``; any other n, even one larger than the pool, gets
``repeats`` draws that end when the pool runs out) and fits each draw, however
few points it holds, with scikit-learn; so a seeded run prints the released
numbers.  ``mode="vectorised"`` (default) keeps the identical split, draws all
repeats at once from a PCG64 generator seeded with ``seed`` with the L2 spacing
test and fits them in closed form / batched; with one feature per image the
draws have the released distribution, so the statistics agree within sampling
error.  ``draws="legacy"`` with ``mode="vectorised"`` uses the released draws
with the batched fit (equal to ``exact`` to float precision).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from large_toolkit.errors import UserInputError
from large_toolkit.regression.batched import batched_fit, batched_metrics
from large_toolkit.regression.regressor import as_feature_matrix, canonical_model, make_sklearn_model, trim_mask
from large_toolkit.regression.sampling import (
    resolve_min_distance,
    sample_min_distance_batched,
    sample_min_distance_legacy,
    unique_subsets,
)

DEFAULT_NS: tuple[int | str, ...] = (2, 5, 10, 20, "all")
MODES = ("vectorised", "exact")


@dataclass
class FewShotRow:
    """Statistics for one number of labels."""

    n: int | str
    repeats: int
    min_distance: float
    mean_labels_used: float
    mae_mean: float
    mae_std: float
    mae_max: float
    r2_mean: float
    r2_std: float
    unique_subsets: int
    maes: np.ndarray = field(repr=False)
    r2s: np.ndarray = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("maes")
        data.pop("r2s")
        if not np.isfinite(data["min_distance"]):
            data["min_distance"] = None
        return data


@dataclass
class ProtocolResult:
    """All rows of one protocol run plus its settings."""

    rows: list[FewShotRow]
    settings: dict[str, Any]
    train_index: np.ndarray = field(repr=False)
    test_index: np.ndarray = field(repr=False)

    def row(self, n: int | str) -> FewShotRow:
        for r in self.rows:
            if r.n == n:
                return r
        raise KeyError(n)

    def to_dict(self) -> dict[str, Any]:
        return {"settings": self.settings, "rows": [r.to_dict() for r in self.rows]}


def split_indices(n_samples: int, train_size: int, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    """``train_test_split(..., train_size=k)`` with a legacy RNG: returns ``(train, test)`` positions."""
    if train_size < 2:
        raise UserInputError(f"the training pool needs at least 2 samples, got train_size={train_size}")
    if n_samples - train_size < 1:
        raise UserInputError(
            f"{n_samples} labelled samples leave no test set with a training pool of {train_size}",
            hint="lower --train-size or add labelled samples",
        )
    perm = rng.permutation(n_samples)
    n_test = n_samples - train_size
    return perm[n_test : n_test + train_size], perm[:n_test]


def split_groups(groups: Sequence[Any], train_size: int, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    """A grouped split: whole groups (subjects, sessions, families) go to the pool until it holds
    ``train_size`` samples; every other group is the test set, so no group is ever on both sides."""
    keys = np.asarray([str(g) for g in groups])
    names, inverse = np.unique(keys, return_inverse=True)
    if names.size < 2:
        raise UserInputError(f"--group-column has {names.size} group; a grouped split needs at least 2")
    order = rng.permutation(names.size)
    sizes = np.bincount(inverse, minlength=names.size)[order]
    cut = int(np.searchsorted(np.cumsum(sizes), train_size)) + 1
    cut = min(max(cut, 1), names.size - 1)
    in_train = np.isin(inverse, order[:cut])
    return np.flatnonzero(in_train), np.flatnonzero(~in_train)


MIN_TEST = 10
"""A test set smaller than this gives MAE/R² too noisy to compare label counts; the table says so."""


def _row(n: int | str, d_min: float, used: np.ndarray, maes: np.ndarray, r2s: np.ndarray, uniq: int) -> FewShotRow:
    return FewShotRow(
        n=n,
        repeats=int(maes.shape[0]),
        min_distance=d_min,
        mean_labels_used=float(np.mean(used)),
        mae_mean=float(np.mean(maes)),
        mae_std=float(np.std(maes)),
        mae_max=float(np.max(maes)),
        r2_mean=float(np.mean(r2s)),
        r2_std=float(np.std(r2s)),
        unique_subsets=uniq,
        maes=maes,
        r2s=r2s,
    )


def _check_inputs(X: np.ndarray, y: np.ndarray) -> None:
    if X.shape[0] != y.shape[0]:
        raise UserInputError(f"{X.shape[0]} feature rows but {y.shape[0]} labels")
    if not np.isfinite(y).all():
        raise UserInputError("labels contain NaN or inf", hint="remove or fix those rows")
    if not np.isfinite(X).all():
        raise UserInputError("distances contain NaN or inf", hint="check the latents and the direction")
    if np.ptp(X, axis=0).max() == 0:
        raise UserInputError(
            "all distances are equal, so they cannot predict anything",
            hint="check that the direction matches the latents' generator",
        )


@dataclass
class _Split:
    """The (trimmed) training pool and the test set every fit of one protocol run uses."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


@dataclass
class _Fit:
    """The estimator settings: a canonical model name and its regularisation."""

    model: str
    alpha: float
    l1_ratio: float

    def make(self) -> Any:
        return make_sklearn_model(self.model, self.alpha, self.l1_ratio)


def fewshot_protocol(
    X: Any,
    y: Any,
    *,
    train_size: int = 1000,
    ns: Sequence[int | str] = DEFAULT_NS,
    repeats: int = 1000,
    min_distance: float | None = None,
    model: str = "ols",
    alpha: float = 1.0,
    l1_ratio: float = 0.5,
    trim_ratio: float = 1.0,
    seed: int = 2,
    mode: str = "vectorised",
    draws: str | None = None,
    groups: Sequence[Any] | None = None,
) -> ProtocolResult:
    """Run the few-shot protocol on features ``X [N, k]`` and labels ``y [N]`` (see the module docstring).

    ``groups`` (one key per row) makes the split grouped (:func:`split_groups`).  Label counts that cannot be
    evaluated (n at least the training pool, which would repeat the ``all`` row) are not run but listed in
    ``settings["not_evaluated"]``; ``settings["warnings"]`` holds the lines the caller should print.
    """
    if mode not in MODES:
        raise UserInputError(f"unknown protocol mode {mode!r}", hint=f"use one of {MODES}")
    draws = draws or ("legacy" if mode == "exact" else "batched")
    if mode == "exact" and draws != "legacy":
        raise UserInputError("exact mode uses the released (legacy) draws")
    if repeats < 1:
        raise UserInputError(f"repeats must be >= 1, got {repeats}")
    fit = _Fit(canonical_model(model), alpha, l1_ratio)
    feats = as_feature_matrix(X)
    target = np.asarray(y, dtype=np.float64).reshape(-1)
    _check_inputs(feats, target)

    legacy = np.random.RandomState(seed)
    if groups is None:
        train_idx, test_idx = split_indices(feats.shape[0], train_size, legacy)
    else:
        train_idx, test_idx = split_groups(groups, train_size, legacy)
    keep = trim_mask(feats[train_idx], trim_ratio)
    split = _Split(feats[train_idx][keep], target[train_idx][keep], feats[test_idx], target[test_idx])
    if mode == "exact":
        rows = [_exact_row(n, train_size, split, repeats, min_distance, legacy, fit) for n in ns]
        not_evaluated: list[int] = []
    else:
        rows, not_evaluated = _vectorised_rows(ns, split, repeats, min_distance, draws, legacy, seed, fit)
    pool, test = int(train_idx.shape[0]), int(test_idx.shape[0])
    settings = {
        "mode": mode,
        "draws": draws,
        "seed": seed,
        "train_size": pool,
        "train_used": int(split.X_train.shape[0]),
        "test_size": test,
        "repeats": repeats,
        "model": fit.model,
        "alpha": alpha,
        "l1_ratio": l1_ratio,
        "trim_ratio": trim_ratio,
        "min_distance": min_distance,
        "features": int(feats.shape[1]),
        "grouped": groups is not None,
        "not_evaluated": not_evaluated,
        "warnings": _warnings(not_evaluated, pool, test),
    }
    return ProtocolResult(rows, settings, train_idx, test_idx)


def _vectorised_rows(
    ns: Sequence[int | str],
    split: _Split,
    repeats: int,
    min_distance: float | None,
    draws: str,
    legacy: np.random.RandomState,
    seed: int,
    fit: _Fit,
) -> tuple[list[FewShotRow], list[int]]:
    """One row per n: ``repeats`` spaced draws fitted in one batch; n that would repeat the whole-pool fit is
    listed as not evaluated."""
    batched_rng = np.random.default_rng(seed)
    X_train = split.X_train
    rows: list[FewShotRow] = []
    not_evaluated: list[int] = []
    for n in ns:
        full = n == "all" or int(n) >= X_train.shape[0]
        if full and n != "all" and ("all" in ns or any(r.n == "all" for r in rows) or not_evaluated):
            not_evaluated.append(int(n))  # would repeat the whole-pool fit
            continue
        if full:
            rows.append(_full_fit(n, split, fit))
            continue
        n = int(n)
        if n < 2:
            raise UserInputError(f"a fit needs at least 2 labels, got n={n}")
        d_min = resolve_min_distance(X_train, n, min_distance)
        if draws == "legacy":
            indices, counts = _legacy_draws(X_train, n, d_min, repeats, legacy)
        else:
            indices, counts = sample_min_distance_batched(X_train, n, d_min, repeats, batched_rng)
        mask = np.arange(indices.shape[1])[None, :] < counts[:, None]
        safe = np.maximum(indices, 0)
        coef, b = batched_fit(X_train[safe], split.y_train[safe], mask, fit.model, fit.alpha, fit.l1_ratio)
        maes, r2s = batched_metrics(coef, b, split.X_test, split.y_test)
        rows.append(_row(n, d_min, counts, maes, r2s, unique_subsets(indices)))
    return rows, not_evaluated


def _warnings(not_evaluated: list[int], pool: int, test: int) -> list[str]:
    lines = []
    if not_evaluated:
        shown = ", ".join(map(str, not_evaluated))
        lines.append(f"n = {shown} not evaluated: the training pool has only {pool} labelled images (= 'all')")
    if test < MIN_TEST:
        lines.append(f"the test set has only {test} images (< {MIN_TEST}): MAE/R² are rough; label more images")
    return lines


def _legacy_draws(
    X_train: np.ndarray, n: int, d_min: float, repeats: int, rng: np.random.RandomState
) -> tuple[np.ndarray, np.ndarray]:
    """``repeats`` released draws as ``indices [R, n]`` (``-1`` padded) and ``counts [R]``."""
    picks = [sample_min_distance_legacy(X_train, n, d_min, rng) for _ in range(repeats)]
    counts = np.array([len(p) for p in picks])
    indices = np.full((repeats, max(1, int(counts.max()))), -1, dtype=np.int64)
    for r, p in enumerate(picks):
        indices[r, : len(p)] = p
    return indices, counts


def _exact_row(
    n: int | str,
    train_size: int,
    split: _Split,
    repeats: int,
    min_distance: float | None,
    rng: np.random.RandomState,
    fit: _Fit,
) -> FewShotRow:
    """One n of the released loop (module docstring): its draws, a scikit-learn fit per draw."""
    count = train_size if n == "all" else int(n)
    if count < 2:
        raise UserInputError(f"a fit needs at least 2 labels, got n={n}")
    if count == train_size:  # the released script: one draw, no spacing threshold
        reps, d_min = 1, 0.0
    else:
        reps, d_min = repeats, resolve_min_distance(split.X_train, count, min_distance)
    indices, counts = _legacy_draws(split.X_train, count, d_min, reps, rng)
    maes, r2s = _sklearn_loop(indices, counts, split, fit)
    return _row(n, d_min, counts, maes, r2s, unique_subsets(indices))


def _full_fit(n: int | str, split: _Split, fit: _Fit) -> FewShotRow:
    """The reference fit on the whole (trimmed) pool: no draw, ``min_distance = 0``."""
    est = fit.make().fit(split.X_train, split.y_train)
    mae = float(np.mean(np.abs(est.predict(split.X_test) - split.y_test)))
    r2 = float(est.score(split.X_test, split.y_test))
    return _row(n, 0.0, np.array([split.X_train.shape[0]]), np.array([mae]), np.array([r2]), 1)


def _sklearn_loop(indices: np.ndarray, counts: np.ndarray, split: _Split, fit: _Fit) -> tuple[np.ndarray, np.ndarray]:
    """The released per-draw loop: a fresh scikit-learn model per draw, scored on the test set."""
    maes = np.empty(indices.shape[0])
    r2s = np.empty(indices.shape[0])
    for r in range(indices.shape[0]):
        rows = indices[r, : counts[r]]
        est = fit.make().fit(split.X_train[rows], split.y_train[rows])
        maes[r] = np.mean(np.abs(est.predict(split.X_test) - split.y_test))
        r2s[r] = est.score(split.X_test, split.y_test)
    return maes, r2s
