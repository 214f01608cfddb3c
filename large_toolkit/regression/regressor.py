"""``LatentRegressor``: a scikit-learn estimator mapping latent distances to attribute values.

LARGE's regressor is deliberately tiny (``y = a . d + b``), but it must compose
with the scikit-learn toolbox (``Pipeline``, ``cross_val_score``, grid search),
so it is a real estimator.  Model choices mirror the released script's
``--regularization`` flag: none -> OLS, ``L1`` -> Lasso(max_iter=10000),
``L2`` -> Ridge, ``L1 L2`` -> ElasticNet(max_iter=1e6), all with scikit-learn's
defaults (alpha 1, l1_ratio 0.5) on **unscaled** features, as released.
``trim_ratio`` is the released ``--feature_sample_ratio``: training samples
whose 1-D feature is not strictly inside the central ``trim_ratio`` quantile
range are dropped before fitting (training only).

Coefficients are saved as safetensors + JSON metadata, never pickled, so a
saved regressor can be loaded without executing code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from large_toolkit.errors import UserInputError
from large_toolkit.io.artifacts import load_tensors, save_tensors

if TYPE_CHECKING:
    from large_toolkit.types import Direction

MODEL_ALIASES = {
    "ols": "ols",
    "linear": "ols",
    "none": "ols",
    "lasso": "lasso",
    "l1": "lasso",
    "ridge": "ridge",
    "l2": "ridge",
    "elasticnet": "elasticnet",
    "elastic": "elasticnet",
    "l1l2": "elasticnet",
    "l1+l2": "elasticnet",
    "l1 l2": "elasticnet",
}
MODELS = ("ols", "lasso", "ridge", "elasticnet")
REGRESSOR_FORMAT = "large-tk/regressor"


def canonical_model(name: str) -> str:
    """``L1 L2`` / ``elastic`` / ``ElasticNet`` ... -> one of :data:`MODELS`."""
    key = str(name).strip().lower().replace("_", "").replace("-", "")
    if key not in MODEL_ALIASES:
        raise UserInputError(f"unknown regression model {name!r}", hint="use ols, lasso, ridge or elasticnet")
    return MODEL_ALIASES[key]


def make_sklearn_model(model: str, alpha: float = 1.0, l1_ratio: float = 0.5) -> Any:
    """The scikit-learn estimator the released script would build for ``model``."""
    from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, Ridge

    model = canonical_model(model)
    if model == "ols":
        return LinearRegression()
    if model == "lasso":
        return Lasso(alpha=alpha, max_iter=10000)
    if model == "ridge":
        return Ridge(alpha=alpha)
    return ElasticNet(alpha=alpha, l1_ratio=l1_ratio, max_iter=1_000_000)


def trim_mask(features: np.ndarray, ratio: float) -> np.ndarray:
    """Keep samples strictly inside the ``(1-r)/2 .. (1+r)/2`` quantiles of a 1-D feature (released trimming)."""
    feats = np.asarray(features, dtype=np.float64)
    if ratio >= 1.0:
        return np.ones(feats.shape[0], dtype=bool)
    if not 0.0 < ratio < 1.0:
        raise UserInputError(f"trim ratio must be in (0, 1], got {ratio}")
    if feats.ndim == 2 and feats.shape[1] != 1:
        raise UserInputError("feature trimming needs a 1-D feature", hint="combine the layers (mean or weighted)")
    flat = feats.reshape(-1)
    lo, hi = np.quantile(flat, [(1 - ratio) / 2, (1 + ratio) / 2])
    return (flat > lo) & (flat < hi)


def as_feature_matrix(X: Any) -> np.ndarray:
    """Distances as a float64 ``[N, k]`` matrix (a 1-D input is one feature)."""
    arr = X.detach().cpu().numpy() if isinstance(X, torch.Tensor) else np.asarray(X)
    arr = arr.astype(np.float64, copy=False)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise UserInputError(f"features must be [N] or [N, k], got shape {list(arr.shape)}")
    return arr


class LatentRegressor(RegressorMixin, BaseEstimator):
    """Linear regression from latent distances to an attribute (LARGE's ``y = a . d + b``).

    ``X`` is a distance matrix ``[N, k]`` (or ``[N]``), or a
    :class:`~large_toolkit.types.Latents` when ``direction`` is set (distances
    are then computed with ``feature_spec``).
    """

    def __init__(
        self,
        model: str = "ols",
        alpha: float = 1.0,
        l1_ratio: float = 0.5,
        trim_ratio: float = 1.0,
        direction: Direction | None = None,
        feature_spec: Any = None,
    ) -> None:
        self.model = model
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.trim_ratio = trim_ratio
        self.direction = direction
        self.feature_spec = feature_spec

    def _features(self, X: Any) -> np.ndarray:
        from large_toolkit.types import Latents

        if isinstance(X, Latents):
            if self.direction is None:
                raise UserInputError("LatentRegressor got latents but no direction to measure them with")
            from large_toolkit.regression.features import distance_features

            return distance_features(X, self.direction, self.feature_spec)
        return as_feature_matrix(X)

    def fit(self, X: Any, y: Any) -> LatentRegressor:
        """Fit on distances (trimmed when ``trim_ratio < 1``); checks labels and features are usable."""
        feats = self._features(X)
        target = np.asarray(y, dtype=np.float64).reshape(-1)
        if target.shape[0] != feats.shape[0]:
            raise UserInputError(f"{feats.shape[0]} feature rows but {target.shape[0]} labels")
        if target.shape[0] < 2:
            raise UserInputError(f"a fit needs at least 2 labelled samples, got {target.shape[0]}")
        if not np.isfinite(target).all():
            raise UserInputError("labels contain NaN or inf", hint="remove or fix those rows")
        if not np.isfinite(feats).all():
            raise UserInputError("distances contain NaN or inf", hint="check the latents and the direction")
        keep = trim_mask(feats, self.trim_ratio)
        feats, target = feats[keep], target[keep]
        if feats.shape[0] < 2:
            raise UserInputError("fewer than 2 samples remain after trimming", hint="raise --trim or add labels")
        est = make_sklearn_model(self.model, self.alpha, self.l1_ratio)
        est.fit(feats, target)
        self.coef_ = np.asarray(est.coef_, dtype=np.float64).reshape(-1)
        self.intercept_ = float(est.intercept_)
        self.n_features_in_ = feats.shape[1]
        self.n_train_ = int(feats.shape[0])
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "coef_")
        feats = self._features(X)
        if feats.shape[1] != self.coef_.shape[0]:
            raise UserInputError(f"regressor was fitted on {self.coef_.shape[0]} features, got {feats.shape[1]}")
        return feats @ self.coef_ + self.intercept_

    # -- persistence (safetensors, no pickle) -------------------------------------------------

    def save(self, path: str | os.PathLike[str], extra: dict[str, Any] | None = None) -> Path:
        """Write coefficients + hyper-parameters atomically as a safetensors artifact."""
        check_is_fitted(self, "coef_")
        meta = {
            "format": REGRESSOR_FORMAT,
            "model": canonical_model(self.model),
            "alpha": float(self.alpha),
            "l1_ratio": float(self.l1_ratio),
            "trim_ratio": float(self.trim_ratio),
            "intercept": self.intercept_,
            "n_train": self.n_train_,
            **(extra or {}),
        }
        return save_tensors(path, {"coef": torch.from_numpy(self.coef_.copy())}, meta)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LatentRegressor:
        """Read a regressor written by :meth:`save`."""
        tensors, meta = load_tensors(path, REGRESSOR_FORMAT)
        reg = cls(meta["model"], meta["alpha"], meta["l1_ratio"], meta["trim_ratio"])
        reg.coef_ = tensors["coef"].to(torch.float64).numpy().reshape(-1)
        reg.intercept_ = float(meta["intercept"])
        reg.n_features_in_ = int(reg.coef_.shape[0])
        reg.n_train_ = int(meta.get("n_train", 0))
        return reg
