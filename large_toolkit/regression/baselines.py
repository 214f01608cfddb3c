"""The baselines a reviewer asks for, on the same label draws as LARGE: is the method worth it on *your* data?

``regress --compare`` draws, for every label count n, the same uniform subsets of the training pool for
every method and reports test MAE: LARGE's line on the distance, the mean of the labels, linear ridge on
pixels and on the latent code (dual form, lambda chosen by exact leave-one-out), and k-NN on the latent code.
These are the methods of ``bench/demo_regression.py``; they live here so the benchmark and the CLI share one
implementation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

LAMBDAS = np.array([1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0])
LAMBDA_N2 = 0.1
BASELINES = (
    "LARGE (distance line)",
    "mean of labels",
    "ridge on pixels",
    "ridge on latent code",
    "k-NN on latent code",
)


def draw_subsets(pool_size: int, ns: Sequence[int], repeats: int, seed: int) -> dict[int, np.ndarray]:
    """``{n: [R, n]}`` positions into the pool, uniform without replacement; the same draws for every method."""
    rng = np.random.default_rng(seed)
    return {n: np.argsort(rng.random((repeats, pool_size)), axis=1)[:, :n] for n in ns}


def line_fit_mae(x_lab: np.ndarray, y_lab: np.ndarray, x_test: np.ndarray, y_test: np.ndarray) -> np.ndarray:
    """1-D OLS on each draw's labelled distances, test MAE per draw.

    ``x_lab, y_lab [..., n]``; ``x_test [..., T]`` (broadcast); ``y_test [T]`` or ``[..., T]``.  Draws
    whose distances coincide get slope 0 (the mean), like ``lstsq``'s minimum-norm answer.
    """
    xm, ym = x_lab.mean(-1, keepdims=True), y_lab.mean(-1, keepdims=True)
    sxx = ((x_lab - xm) ** 2).sum(-1, keepdims=True)
    sxy = ((x_lab - xm) * (y_lab - ym)).sum(-1, keepdims=True)
    slope = np.where(sxx > 0, sxy / np.where(sxx > 0, sxx, 1.0), 0.0)
    pred = ym + slope * (x_test - xm)
    return np.abs(pred - y_test).mean(-1)


def zscore_gram(x: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Gram matrix ``[N, N]`` of features z-scored with pool statistics (no labels involved)."""
    mu, sd = x[pool].mean(0), x[pool].std(0)
    z = (x - mu) / np.where(sd > 1e-8, sd, 1.0)
    zt = torch.from_numpy(z)
    return (zt @ zt.T).numpy()


def kernel_ridge_mae(
    gram: np.ndarray, lab: np.ndarray, test: np.ndarray, y: np.ndarray, lambdas: np.ndarray = LAMBDAS
) -> np.ndarray:
    """Linear ridge with intercept in dual form for every draw and factor at once -> MAE ``[F, R]``.

    ``lab [R, n]`` row indices, ``y [F, N]``.  Why dual: n <= 20 labels but up to 3072 features, so
    each fit is an n x n eigenproblem; the Gram matrix is shared by all draws and factors.  The
    penalty is ``lambda * mean eigenvalue`` (scale-free), lambda picked per draw and factor by the
    exact LOO residual ``e_i / (1 - H_ii)``; with 2 labels LOO is undefined and ``LAMBDA_N2`` is used.
    """
    n = lab.shape[1]
    gll = gram[lab[:, :, None], lab[:, None, :]]  # [R, n, n]
    gtl = gram[test][:, lab].transpose(1, 0, 2)  # [R, T, n]
    col = gll.mean(1)  # [R, n] mean_j G_ji
    tot = gll.mean((1, 2))  # [R]
    kc = gll - col[:, :, None] - col[:, None, :] + tot[:, None, None]
    ktc = gtl - gtl.mean(-1, keepdims=True) - col[:, None, :] + tot[:, None, None]
    s, u = np.linalg.eigh(kc)  # [R, n], [R, n, n]
    s = np.maximum(s, 0.0)
    scale = np.maximum(s.mean(-1), 1e-12)  # [R]
    yl = y[:, lab]  # [F, R, n]
    ym = yl.mean(-1, keepdims=True)
    uy = np.einsum("rij,frj->fri", u.transpose(0, 2, 1), yl - ym)  # U^T yc  [F, R, n]
    lams = lambdas if n >= 3 else np.array([LAMBDA_N2])
    best_err = np.full(yl.shape[:2], np.inf)
    best_coef = np.zeros_like(yl)
    for lam in lams:
        shrink = s / (s + lam * scale[:, None])  # [R, n]
        fitted = np.einsum("rij,frj->fri", u, shrink[None] * uy)
        hdiag = 1.0 / n + np.einsum("rij,rj->ri", u**2, shrink)
        loo = (yl - ym - fitted) / np.maximum(1.0 - hdiag, 1e-12)[None]
        err = np.abs(loo).mean(-1) if n >= 3 else np.zeros(yl.shape[:2])
        coef = np.einsum("rij,frj->fri", u, (uy / (s + lam * scale[:, None])[None]))  # (K + a)^-1 yc
        better = err < best_err
        best_err = np.where(better, err, best_err)
        best_coef = np.where(better[..., None], coef, best_coef)
    pred = ym + np.einsum("rtj,frj->frt", ktc, best_coef)  # [F, R, T]
    return np.abs(pred - y[:, test][:, None, :]).mean(-1)


def knn_mae(gram: np.ndarray, lab: np.ndarray, test: np.ndarray, y: np.ndarray, k_max: int = 5) -> np.ndarray:
    """Mean label of the ``min(n, k_max)`` nearest labelled rows (Euclidean, from the Gram) -> MAE ``[F, R]``."""
    k = min(lab.shape[1], k_max)
    diag = np.diag(gram)
    d2 = diag[test][None, :, None] + diag[lab][:, None, :] - 2.0 * gram[test][:, lab].transpose(1, 0, 2)
    near = (
        np.argpartition(d2, k - 1, axis=-1)[..., :k]
        if k < lab.shape[1]
        else np.broadcast_to(np.arange(k), (*d2.shape[:2], k))
    )
    rows = np.take_along_axis(np.broadcast_to(lab[:, None, :], d2.shape), near, axis=-1)  # [R, T, k]
    pred = y[:, rows].mean(-1)  # [F, R, T]
    return np.abs(pred - y[:, test][:, None, :]).mean(-1)


def compare(
    distance: np.ndarray,
    y: np.ndarray,
    pool: np.ndarray,
    test: np.ndarray,
    codes: np.ndarray,
    pixels: np.ndarray | None,
    ns: Sequence[int],
    repeats: int = 100,
    seed: int = 0,
) -> dict[str, dict[int, float]]:
    """Mean test MAE ``{method: {n: mae}}`` over ``repeats`` uniform draws per n, identical for every method.

    ``distance [N]``, ``y [N]``, ``codes [N, D]`` (latent codes, flattened), ``pixels [N, P]`` or None;
    ``pool``/``test`` are row indices (the protocol's split).  ``n`` larger than the pool is skipped.
    """
    y = np.asarray(y, np.float64)
    ns = [int(n) for n in ns if 2 <= int(n) <= len(pool)]
    draws = draw_subsets(len(pool), ns, repeats, seed)
    grams = {"ridge on latent code": zscore_gram(np.asarray(codes, np.float64), pool)}
    if pixels is not None:
        grams["ridge on pixels"] = zscore_gram(np.asarray(pixels, np.float64), pool)
    out: dict[str, dict[int, float]] = {m: {} for m in BASELINES if m != "ridge on pixels" or pixels is not None}
    yy = y[None]
    for n in ns:
        lab = pool[draws[n]]
        out["LARGE (distance line)"][n] = float(
            line_fit_mae(distance[lab], y[lab], distance[test][None], y[test]).mean()
        )
        out["mean of labels"][n] = float(np.abs(y[lab].mean(-1, keepdims=True) - y[test][None]).mean())
        for name, gram in grams.items():
            out[name][n] = float(kernel_ridge_mae(gram, lab, test, yy).mean())
        out["k-NN on latent code"][n] = float(knn_mae(grams["ridge on latent code"], lab, test, yy).mean())
    return out
