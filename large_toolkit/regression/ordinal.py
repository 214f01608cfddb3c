"""Ordinal regression: K ordered classes from one latent distance per image.

The released code has no classification code; the research notes (§2.9)
infer the most plausible procedure, which is what we implement: order the
images by their scalar distance ``d`` and cut the line into K intervals.

* **Unsupervised** (:func:`quantile_thresholds`): without labels the only
  information is the class *priors*; the cut points are the quantiles of
  ``d`` at the cumulative priors, so the predicted class sizes match the
  priors.  The direction's orientation (does ``d`` grow with the class?) is
  unknown without labels and must be given (``descending``).
* **Few-shot** (:func:`fit_thresholds`): a handful of labelled images fix
  the orientation and place the cut points.

  - ``midpoint``: the cut between classes k and k+1 is the midpoint of their
    class-conditional median distances; a class with no labels (common with
    2-5 labels) falls back to the linear calibration ``class ~ a d + b``
    (LARGE's own assumption) evaluated at ``k + 1/2``.
  - ``linear``: only that linear calibration (the regression of the paper,
    rounded): robust with as few as two labels from different classes.
  - ``logistic``: a 1-D cumulative-link (proportional-odds) model
    ``P(c <= k) = sigmoid(theta_k - beta d)`` fitted by penalised maximum
    likelihood; cut points ``theta_k / beta`` predict the *median* class,
    which is the MAE-optimal decision.  A small ridge on ``beta`` keeps the
    fit finite when a few labels are perfectly separable.

Everything is vectorised over images (``searchsorted``); classes are 0-based
integers.  Accuracy and MAE are in class units (the notes do not say which
metric the paper used, so both are reported).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from large_toolkit.errors import UserInputError

FEWSHOT_METHODS = ("midpoint", "linear", "logistic")


@dataclass
class OrdinalModel:
    """Cut points on the (oriented) distance axis: class = #thresholds below ``sign * d``."""

    thresholds: np.ndarray
    sign: float = 1.0
    method: str = "quantile"
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return int(self.thresholds.shape[0]) + 1

    def predict(self, distances: np.ndarray) -> np.ndarray:
        """Class index ``[N]`` (int64) for every distance."""
        d = self.sign * np.asarray(distances, dtype=np.float64).reshape(-1)
        return np.searchsorted(self.thresholds, d, side="right").astype(np.int64)

    def to_dict(self) -> dict[str, Any]:
        # thresholds are reported on the raw distance axis (unoriented) so users can read them off a plot
        raw = np.sort(self.sign * self.thresholds)
        return {
            "method": self.method,
            "classes": self.num_classes,
            "orientation": "ascending" if self.sign > 0 else "descending",
            "thresholds": raw.tolist(),
            **self.info,
        }


def _check_distances(distances: np.ndarray) -> np.ndarray:
    d = np.asarray(distances, dtype=np.float64).reshape(-1)
    if d.size == 0:
        raise UserInputError("no distances to classify")
    if not np.isfinite(d).all():
        raise UserInputError("distances contain NaN or inf", hint="check the latents and the direction")
    return d


def parse_priors(text: str | Sequence[float] | None, k: int) -> np.ndarray:
    """``"1,2,1"`` or a sequence -> K priors summing to 1 (uniform when None)."""
    if text is None:
        return np.full(k, 1.0 / k)
    if isinstance(text, str):
        try:
            values = [float(p) for p in text.split(",") if p.strip()]
        except ValueError:
            raise UserInputError(f"bad priors {text!r}", hint="use comma-separated numbers, e.g. 0.2,0.5,0.3") from None
    else:
        values = [float(p) for p in text]
    p = np.asarray(values, dtype=np.float64)
    if p.size != k:
        raise UserInputError(f"{p.size} priors for {k} classes", hint="give one prior per class")
    if not np.isfinite(p).all() or (p <= 0).any():
        raise UserInputError("class priors must be positive numbers")
    return p / p.sum()


def quantile_thresholds(
    distances: np.ndarray, k: int, priors: str | Sequence[float] | None = None, descending: bool = False
) -> OrdinalModel:
    """Unsupervised K-class model: cut points at the quantiles of ``d`` given by the cumulative priors."""
    if k < 2:
        raise UserInputError(f"ordinal regression needs at least 2 classes, got {k}")
    d = _check_distances(distances)
    sign = -1.0 if descending else 1.0
    p = parse_priors(priors, k)
    cuts = np.quantile(sign * d, np.cumsum(p)[:-1])
    return OrdinalModel(np.maximum.accumulate(cuts), sign, "quantile", {"priors": p.tolist()})


def _orientation(d: np.ndarray, c: np.ndarray) -> float:
    """+1 when the distance grows with the class (covariance sign; +1 on a tie)."""
    cov = float(np.mean((d - d.mean()) * (c - c.mean())))
    return -1.0 if cov < 0 else 1.0


def _linear_cuts(x: np.ndarray, c: np.ndarray, k: int) -> np.ndarray:
    """Cut points from the OLS calibration ``c = a x + b`` (x oriented so that a > 0) at k + 1/2."""
    xc = x - x.mean()
    sxx = float(xc @ xc)
    a = float(xc @ (c - c.mean())) / sxx if sxx > 0 else 0.0
    if a <= 0:
        raise UserInputError(
            "the labelled images do not order with the distance, so no cut points can be placed",
            hint="label images of different classes, or check the direction",
        )
    b = c.mean() - a * x.mean()
    return (np.arange(k - 1) + 0.5 - b) / a


def _logistic_cuts(x: np.ndarray, c: np.ndarray, k: int, ridge: float) -> tuple[np.ndarray, dict[str, Any]]:
    """Penalised proportional-odds fit; returns cut points ``theta / beta``."""
    from scipy.optimize import minimize
    from scipy.special import expit, log_expit

    scale = float(x.std()) or 1.0
    z = (x - x.mean()) / scale  # standardised so the ridge and the start point are scale-free
    ci = c.astype(np.int64)

    def unpack(p: np.ndarray) -> tuple[float, np.ndarray]:
        theta = p[1] + np.concatenate([[0.0], np.cumsum(np.exp(p[2:]))])
        return float(p[0]), theta

    def nll(p: np.ndarray) -> float:
        beta, theta = unpack(p)
        # P(c = j) = sigmoid(theta_j - beta z) - sigmoid(theta_{j-1} - beta z), with theta_{-1} = -inf, theta_K = inf
        hi = np.where(ci < k - 1, theta[np.minimum(ci, k - 2)] - beta * z, np.inf)
        lo = np.where(ci > 0, theta[np.maximum(ci - 1, 0)] - beta * z, -np.inf)
        prob = np.where(np.isinf(hi), 1.0, expit(hi)) - np.where(np.isinf(lo), 0.0, expit(lo))
        # log of the top/bottom classes without cancellation
        logp = np.where(
            ci == k - 1,
            log_expit(-lo) if k > 1 else 0.0,
            np.where(ci == 0, log_expit(hi), np.log(np.maximum(prob, 1e-300))),
        )
        return float(-logp.sum() + ridge * beta * beta)

    start = np.concatenate([[1.0, -(k - 2) / 2.0], np.zeros(k - 2)])
    res = minimize(nll, start, method="L-BFGS-B")
    beta, theta = unpack(res.x)
    if beta <= 1e-9:
        raise UserInputError(
            "the labelled images do not order with the distance (ordinal fit has no positive slope)",
            hint="label images of different classes, or check the direction",
        )
    return theta / beta * scale + x.mean(), {"beta": beta / scale, "converged": bool(res.success)}


def fit_thresholds(
    distances: np.ndarray,
    classes: np.ndarray,
    k: int,
    method: str = "midpoint",
    ridge: float = 0.1,
) -> OrdinalModel:
    """Few-shot K-class model from labelled distances and 0-based class labels (see the module docstring)."""
    if method not in FEWSHOT_METHODS:
        raise UserInputError(f"unknown ordinal method {method!r}", hint=f"use one of {FEWSHOT_METHODS}")
    if k < 2:
        raise UserInputError(f"ordinal regression needs at least 2 classes, got {k}")
    d = _check_distances(distances)
    c = np.asarray(classes, dtype=np.float64).reshape(-1)
    if c.shape != d.shape:
        raise UserInputError(f"{c.size} class labels for {d.size} distances")
    if d.size < 2:
        raise UserInputError(f"a few-shot ordinal fit needs at least 2 labels, got {d.size}")
    if ((c < 0) | (c > k - 1) | (c != np.round(c))).any():
        raise UserInputError(f"class labels must be integers 0..{k - 1}")
    if np.unique(c).size < 2:
        raise UserInputError(
            "all labelled images are in the same class, so no cut point can be placed",
            hint="label at least two different classes",
        )
    sign = _orientation(d, c)
    x = sign * d
    info: dict[str, Any] = {"n_labels": int(d.size)}
    if method == "logistic":
        cuts, extra = _logistic_cuts(x, c, k, ridge)
        info.update(extra)
    else:
        cuts = _linear_cuts(x, c, k)
        if method == "midpoint":
            present = np.unique(c).astype(int)
            med = {j: float(np.median(x[c == j])) for j in present}
            for j in range(k - 1):
                if j in med and j + 1 in med and med[j + 1] > med[j]:
                    cuts[j] = 0.5 * (med[j] + med[j + 1])
    return OrdinalModel(np.maximum.accumulate(cuts), sign, method, info)


def bin_labels(values: np.ndarray, k: int, mode: str = "quantile") -> tuple[np.ndarray, np.ndarray]:
    """Continuous labels -> K ordered classes (``quantile`` = equal counts, ``uniform`` = equal widths).

    Returns ``(classes, edges)`` with K-1 inner edges; used to evaluate ordinal
    decisions on data that only has continuous ground truth.
    """
    y = np.asarray(values, dtype=np.float64).reshape(-1)
    if mode == "quantile":
        edges = np.quantile(y, np.arange(1, k) / k)
    elif mode == "uniform":
        edges = np.linspace(y.min(), y.max(), k + 1)[1:-1]
    else:
        raise UserInputError(f"unknown binning {mode!r}", hint="use quantile or uniform")
    return np.searchsorted(edges, y, side="right").astype(np.int64), edges


def looks_like_classes(values: np.ndarray, k: int) -> bool:
    """True when every label is an integer in ``0..k-1`` (so no binning is needed)."""
    v = np.asarray(values, dtype=np.float64)
    return bool(((v == np.round(v)) & (v >= 0) & (v <= k - 1)).all())


def ordinal_metrics(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Accuracy, MAE in class units and within-one accuracy (vectorised over rows; last axis = images)."""
    p = np.asarray(predicted, dtype=np.float64)
    t = np.asarray(truth, dtype=np.float64)
    err = np.abs(p - t)
    return {
        "accuracy": float(np.mean(err == 0)),
        "mae": float(np.mean(err)),
        "within_one": float(np.mean(err <= 1)),
    }


def fewshot_ordinal_protocol(
    distances: np.ndarray,
    classes: np.ndarray,
    k: int,
    n: int,
    repeats: int = 100,
    seed: int = 2,
    method: str = "linear",
) -> dict[str, float]:
    """Mean/std accuracy and MAE of few-shot fits from ``n`` min-distance-sampled labels, tested on the rest.

    The ``linear`` method is solved for all repeats at once (closed-form 1-D
    least squares); the others loop over repeats.  Draws where every label
    falls into one class (no cut can be placed) are counted as skipped.
    """
    from large_toolkit.regression.sampling import default_min_distance, sample_min_distance_batched

    d = _check_distances(distances)
    c = np.asarray(classes, dtype=np.int64).reshape(-1)
    rng = np.random.default_rng(seed)
    idx, counts = sample_min_distance_batched(d, n, default_min_distance(d, n), repeats, rng)
    idx = idx[counts == idx.shape[1]]
    accs: list[float] = []
    maes: list[float] = []
    if method == "linear" and idx.size:
        x, y = d[idx], c[idx].astype(np.float64)
        sign = np.where(((x - x.mean(1, keepdims=True)) * (y - y.mean(1, keepdims=True))).sum(1) < 0, -1.0, 1.0)
        xo = x * sign[:, None]
        xc = xo - xo.mean(1, keepdims=True)
        a = (xc * (y - y.mean(1, keepdims=True))).sum(1) / np.maximum((xc * xc).sum(1), 1e-300)
        ok = a > 0
        b = y.mean(1) - a * xo.mean(1)
        # floor(v + 1/2) == searchsorted(cuts at k + 1/2, side='right'): the same rule as OrdinalModel.predict
        pred = np.clip(np.floor(a[:, None] * (sign[:, None] * d[None, :]) + b[:, None] + 0.5), 0, k - 1)
        test = np.ones((idx.shape[0], d.size), dtype=bool)
        np.put_along_axis(test, idx, False, axis=1)
        err = np.abs(pred - c[None, :])
        cnt = test.sum(1)
        acc = ((err == 0) & test).sum(1) / cnt
        mae = (err * test).sum(1) / cnt
        accs, maes = acc[ok].tolist(), mae[ok].tolist()
    else:
        for row in idx:
            if np.unique(c[row]).size < 2:
                continue
            try:
                model = fit_thresholds(d[row], c[row], k, method)
            except UserInputError:
                continue
            test = np.ones(d.size, dtype=bool)
            test[row] = False
            m = ordinal_metrics(model.predict(d[test]), c[test])
            accs.append(m["accuracy"])
            maes.append(m["mae"])
    if not accs:
        raise UserInputError(f"no usable draw of {n} labels (all labels in one class)")
    return {
        "n": n,
        "draws": len(accs),
        "skipped": int(repeats - len(accs)),
        "accuracy_mean": float(np.mean(accs)),
        "accuracy_std": float(np.std(accs)),
        "mae_mean": float(np.mean(maes)),
        "mae_std": float(np.std(maes)),
    }
