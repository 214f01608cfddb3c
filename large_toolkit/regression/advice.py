"""Beyond the released code: which images to label, how sure a few-shot fit is, and which direction to use.

Three questions users of a 2-label method ask before and after labelling:

1. **Which images should I label?**  A line through n labelled points has
   slope variance ``sigma^2 / S_xx`` with ``S_xx = sum (d_i - mean d)^2``;
   the released min-distance sampler exists because close distances give
   wild slopes.  :func:`suggest_labels` takes that to its conclusion and
   *designs* the labelled set: K points at evenly spaced quantiles of the
   distance (the outer ``edge`` quantiles are skipped, because the extremes
   of inverted latents are where inversion outliers live), or, when some
   images are labelled already, greedy farthest-point picks along ``d``.
2. **How sure is the fit?**  :func:`ols_interval` is the textbook OLS
   prediction interval (needs 3+ labels: with 2 the line interpolates and
   there is no residual to estimate noise from); :func:`bootstrap_interval`
   is a seeded pairs bootstrap plus resampled residuals, which does not
   assume Gaussian noise.
3. **Which direction?**  Without labels, :func:`unsupervised_scores` ranks
   candidates by how much the data varies along them (``spread``, relative
   to an average direction), how consistently the W+ layers agree on an
   image's position (``layer_agreement``) and bimodality; with a few labels
   :func:`loo_errors` gives the exact leave-one-out error of the 1-D OLS fit
   for every candidate at once (hat-matrix identity, no refits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from large_toolkit.errors import UserInputError

# -- (a) labelling advice ------------------------------------------------------------------------


@dataclass
class LabelAdvice:
    """Images to label next (row indices, in the order to label them) and why."""

    rows: np.ndarray
    distances: np.ndarray
    quantiles: np.ndarray
    efficiency: float
    """``S_xx`` of the resulting labelled set / its expectation for a random set of the same size:
    how many times smaller the slope variance is than with randomly chosen labels."""

    def to_dict(self, ids: Sequence[str] | None = None) -> dict[str, Any]:
        rows = self.rows.tolist()
        return {
            "rows": rows,
            "ids": [ids[r] for r in rows] if ids is not None else None,
            "distances": self.distances.tolist(),
            "quantiles": self.quantiles.tolist(),
            "efficiency_vs_random": self.efficiency,
        }


def _sxx(x: np.ndarray) -> float:
    return float(((x - x.mean()) ** 2).sum()) if x.size else 0.0


def suggest_labels(
    distances: np.ndarray, k: int = 2, labelled: Sequence[int] | None = None, edge: float = 0.05
) -> LabelAdvice:
    """Pick ``k`` unlabelled images whose labels would best constrain the line (see the module docstring)."""
    d = np.asarray(distances, dtype=np.float64).reshape(-1)
    if not np.isfinite(d).all():
        raise UserInputError("distances contain NaN or inf", hint="check the latents and the direction")
    if not 0.0 <= edge < 0.5:
        raise UserInputError(f"edge must be in [0, 0.5), got {edge}")
    done = np.unique(np.asarray(list(labelled or []), dtype=np.int64))
    free = np.ones(d.size, dtype=bool)
    free[done] = False
    if k < 1 or k > int(free.sum()):
        raise UserInputError(f"cannot suggest {k} images out of {int(free.sum())} unlabelled ones")
    order = np.argsort(d, kind="stable")
    rank = np.empty(d.size, dtype=np.int64)
    rank[order] = np.arange(d.size)
    qpos = rank / max(d.size - 1, 1)  # each image's quantile position
    lo, hi = np.quantile(d, [edge, 1.0 - edge])
    inner = free & (d >= lo) & (d <= hi)
    if int(inner.sum()) < k:
        inner = free
    picked: list[int] = []
    if done.size == 0:
        # evenly spaced quantile targets; each takes the nearest still-free image by rank
        targets = np.linspace(edge, 1.0 - edge, k) if k > 1 else np.array([0.5])
        avail = inner.copy()
        for t in targets:
            cand = np.flatnonzero(avail)
            j = int(cand[np.argmin(np.abs(qpos[cand] - t))])
            picked.append(j)
            avail[j] = False
    else:
        # greedy farthest-point along d: each pick maximises its gap to every labelled/picked image
        gap = np.min(np.abs(d[:, None] - d[done][None, :]), axis=1)
        avail = inner.copy()
        for _ in range(k):
            score = np.where(avail, gap, -np.inf)
            j = int(np.argmax(score))
            picked.append(j)
            avail[j] = False
            gap = np.minimum(gap, np.abs(d - d[j]))
    rows = np.asarray(picked, dtype=np.int64)
    final = np.concatenate([d[done], d[rows]])
    expected = (final.size - 1) * float(d.var(ddof=1)) if d.size > 1 else 0.0
    eff = _sxx(final) / expected if expected > 0 else float("nan")
    return LabelAdvice(rows, d[rows], qpos[rows], eff)


# -- (b) uncertainty -----------------------------------------------------------------------------


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """Slope, intercept, mean x and S_xx of a 1-D least-squares line."""
    xm = float(x.mean())
    sxx = _sxx(x)
    if sxx == 0:
        raise UserInputError("the labelled images all have the same distance, so no line can be fitted")
    a = float((x - xm) @ (y - y.mean())) / sxx
    return a, float(y.mean()) - a * xm, xm, sxx


def _xy(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xa = np.asarray(x, dtype=np.float64).reshape(-1)
    ya = np.asarray(y, dtype=np.float64).reshape(-1)
    if xa.shape != ya.shape:
        raise UserInputError(f"{xa.size} distances for {ya.size} labels")
    if not (np.isfinite(xa).all() and np.isfinite(ya).all()):
        raise UserInputError("distances or labels contain NaN or inf")
    return xa, ya


def ols_interval(x: np.ndarray, y: np.ndarray, x_new: np.ndarray, level: float = 0.9) -> dict[str, np.ndarray]:
    """Prediction, lower and upper bound of the Student-t OLS prediction interval at ``x_new``.

    ``yhat +- t_{n-2} s sqrt(1 + 1/n + (x - mean x)^2 / S_xx)``: the interval
    for a *new image's* label (the fit's own uncertainty plus the residual
    noise), which is what a user reading one prediction needs.
    """
    from scipy.stats import t as student_t

    xa, ya = _xy(x, y)
    n = xa.size
    if n < 3:
        raise UserInputError(
            f"an analytic interval needs at least 3 labels, got {n}",
            hint="with 2 labels the line passes through both; label one more image",
        )
    a, b, xm, sxx = _ols(xa, ya)
    resid = ya - (a * xa + b)
    s = float(np.sqrt(resid @ resid / (n - 2)))
    xn = np.asarray(x_new, dtype=np.float64).reshape(-1)
    pred = a * xn + b
    half = student_t.ppf(0.5 + level / 2.0, n - 2) * s * np.sqrt(1.0 + 1.0 / n + (xn - xm) ** 2 / sxx)
    return {"prediction": pred, "lower": pred - half, "upper": pred + half}


def bootstrap_interval(
    x: np.ndarray,
    y: np.ndarray,
    x_new: np.ndarray,
    level: float = 0.9,
    n_boot: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Seeded pairs bootstrap of the line plus a resampled (variance-corrected) residual per draw.

    All ``n_boot`` fits are closed-form and vectorised.  Resamples whose
    distances are all equal cannot define a line and are dropped; their
    share is returned as ``degenerate``.  With 2 labels every usable
    resample is the original pair, so the interval collapses to the fit:
    the bootstrap cannot see noise that two points do not show.
    """
    xa, ya = _xy(x, y)
    n = xa.size
    if n < 2:
        raise UserInputError(f"a bootstrap interval needs at least 2 labels, got {n}")
    a0, b0, _, _ = _ols(xa, ya)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    bx, by = xa[idx], ya[idx]
    bxm, bym = bx.mean(1, keepdims=True), by.mean(1, keepdims=True)
    sxx = ((bx - bxm) ** 2).sum(1)
    ok = sxx > 1e-12 * max(_sxx(xa), 1e-300)
    a = ((bx - bxm) * (by - bym)).sum(1)[ok] / sxx[ok]
    b = bym[ok, 0] - a * bxm[ok, 0]
    xn = np.asarray(x_new, dtype=np.float64).reshape(-1)
    lines = a[:, None] * xn[None, :] + b[:, None]
    resid = ya - (a0 * xa + b0)
    if n > 2:
        resid = resid * np.sqrt(n / (n - 2))  # OLS residuals are shrunk by the two fitted parameters
        lines = lines + resid[rng.integers(0, n, size=lines.shape)]
    alpha = (1.0 - level) / 2.0
    lower, upper = np.quantile(lines, [alpha, 1.0 - alpha], axis=0)
    return {
        "prediction": a0 * xn + b0,
        "lower": lower,
        "upper": upper,
        "degenerate": float(1.0 - ok.mean()),
        "draws": int(ok.sum()),
    }


# -- (c) choosing a direction --------------------------------------------------------------------


def layer_agreement(per_layer: np.ndarray) -> float:
    """Mean Pearson correlation between the per-layer distances of different layers (NaN for one layer).

    A direction that carries one semantic attribute places an image at the
    same relative position in every W+ layer the encoder fills consistently;
    a direction of mostly-noise dimensions does not.
    """
    d = np.asarray(per_layer, dtype=np.float64)
    if d.ndim != 2 or d.shape[1] < 2:
        return float("nan")
    sd = d.std(0)
    keep = sd > 0
    if keep.sum() < 2:
        return float("nan")
    c = np.corrcoef(d[:, keep], rowvar=False)
    m = int(keep.sum())  # c is m x m
    return float((c.sum() - m) / (m * (m - 1)))


def bimodality(values: np.ndarray) -> float:
    """Sarle's bimodality coefficient ``(g^2 + 1) / (kappa + 3 (n-1)^2 / ((n-2)(n-3)))``; > 0.555 hints two modes.

    Binary-ish attributes (glasses, open mouth) give bimodal distances; a
    hint, not a score to maximise for continuous attributes.
    """
    from scipy.stats import kurtosis, skew

    v = np.asarray(values, dtype=np.float64).reshape(-1)
    n = v.size
    if n < 4 or v.std() == 0:
        return float("nan")
    g = float(skew(v, bias=False))
    kappa = float(kurtosis(v, bias=False))
    return (g * g + 1.0) / (kappa + 3.0 * (n - 1) ** 2 / ((n - 2) * (n - 3)))


def spread_ratio(codes: np.ndarray, unit_vector: np.ndarray) -> float:
    """Std of the codes along a unit vector / the RMS std over all dimensions (1 = an average direction)."""
    x = np.asarray(codes, dtype=np.float64)
    v = np.asarray(unit_vector, dtype=np.float64).reshape(-1)
    avg = float(np.sqrt(x.var(0).mean()))
    return float((x @ v).std() / avg) if avg > 0 else float("nan")


def loo_errors(features: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Exact leave-one-out MAE and RMSE of 1-D OLS for ``C`` candidate features at once.

    ``features`` is ``[C, n]`` (one row of labelled distances per candidate).
    The LOO residual is ``e_i / (1 - h_ii)`` with leverage
    ``h_ii = 1/n + (x_i - mean x)^2 / S_xx``: no refits.  Needs 3+ labels
    (with 2, leaving one out leaves a single point and no line).
    """
    x = np.atleast_2d(np.asarray(features, dtype=np.float64))
    ya = np.asarray(y, dtype=np.float64).reshape(-1)
    n = ya.size
    if x.shape[1] != n:
        raise UserInputError(f"{x.shape[1]} distances per candidate for {n} labels")
    if n < 3:
        raise UserInputError(f"leave-one-out needs at least 3 labels, got {n}")
    xc = x - x.mean(1, keepdims=True)
    sxx = (xc * xc).sum(1, keepdims=True)
    safe = np.where(sxx > 0, sxx, 1.0)
    a = (xc * (ya - ya.mean())[None, :]).sum(1, keepdims=True) / safe
    resid = (ya - ya.mean())[None, :] - a * xc
    h = 1.0 / n + xc * xc / safe
    loo = resid / np.maximum(1.0 - h, 1e-12)
    mae = np.abs(loo).mean(1)
    rmse = np.sqrt((loo * loo).mean(1))
    bad = sxx[:, 0] == 0
    mae[bad] = np.inf
    rmse[bad] = np.inf
    return {"mae": mae, "rmse": rmse}


@dataclass
class DirectionScore:
    """One candidate's scores; ``loo_mae`` is None without labels."""

    name: str
    spread: float
    layer_agreement: float
    bimodality: float
    loo_mae: float | None = None
    loo_rmse: float | None = None
    spearman: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _unit_flat(vector: np.ndarray) -> np.ndarray:
    v = np.asarray(vector, dtype=np.float64).reshape(-1)
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def rank_directions(
    names: Sequence[str],
    per_layer: Sequence[np.ndarray],
    scalar: Sequence[np.ndarray],
    mean_codes: np.ndarray | None = None,
    vectors: Sequence[np.ndarray] | None = None,
    label_rows: Sequence[int] | None = None,
    label_values: Sequence[float] | None = None,
) -> list[DirectionScore]:
    """Score every candidate; sorted best first (by LOO MAE when labels exist, else spread x agreement).

    ``per_layer[c]`` is ``[N, L]``, ``scalar[c]`` ``[N]`` (what sorting or
    regression would use).  ``mean_codes`` ``[N, D]`` (codes averaged over
    layers) and ``vectors`` (each candidate's W vector, or its layer mean)
    enable the ``spread`` score.
    """
    rows = None if label_rows is None else np.asarray(label_rows, dtype=np.int64)
    loo = None
    if rows is not None and label_values is not None:
        from scipy.stats import spearmanr

        y = np.asarray(label_values, dtype=np.float64)
        loo = loo_errors(np.stack([np.asarray(s)[rows] for s in scalar]), y)
        rhos = [float(spearmanr(np.asarray(s)[rows], y).statistic) for s in scalar]
    scores: list[DirectionScore] = []
    for c, name in enumerate(names):
        spread = (
            spread_ratio(mean_codes, _unit_flat(vectors[c]))
            if mean_codes is not None and vectors is not None
            else float("nan")
        )
        score = DirectionScore(name, spread, layer_agreement(per_layer[c]), bimodality(scalar[c]))
        if loo is not None:
            score.loo_mae = float(loo["mae"][c])
            score.loo_rmse = float(loo["rmse"][c])
            score.spearman = rhos[c]
        scores.append(score)

    def key(s: DirectionScore) -> float:
        if s.loo_mae is not None:
            return s.loo_mae
        agree = s.layer_agreement if np.isfinite(s.layer_agreement) else 1.0
        spread = s.spread if np.isfinite(s.spread) else 1.0
        return -spread * max(agree, 0.0)

    return sorted(scores, key=key)
