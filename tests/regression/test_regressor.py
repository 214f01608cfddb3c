"""LatentRegressor: scikit-learn compatibility, released model choices, trimming, safetensors round trip."""

import numpy as np
import pytest
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, Ridge
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from large_toolkit.errors import UserInputError
from large_toolkit.regression.regressor import LatentRegressor, trim_mask


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n) * 3
    return x, 2.5 * x + 1.0 + rng.normal(size=n) * 0.1


@pytest.mark.parametrize(
    ("model", "ref"),
    [("ols", LinearRegression()), ("lasso", Lasso(max_iter=10000)), ("ridge", Ridge()), ("L1 L2", ElasticNet())],
)
def test_models_match_sklearn_defaults(model, ref):
    x, y = _data()
    reg = LatentRegressor(model=model).fit(x, y)
    ref.fit(x[:, None], y)
    np.testing.assert_allclose(reg.coef_, ref.coef_, rtol=1e-9)
    assert reg.intercept_ == pytest.approx(ref.intercept_, rel=1e-9)
    assert reg.score(x, y) == pytest.approx(ref.score(x[:, None], y))


def test_pipeline_cross_val_and_get_params():
    x, y = _data()
    pipe = Pipeline([("id", FunctionTransformer()), ("reg", LatentRegressor(model="ridge", alpha=0.5))])
    scores = cross_val_score(pipe, x[:, None], y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.99
    assert pipe.get_params()["reg__alpha"] == 0.5


def test_trimming_drops_train_outliers_only():
    x = np.arange(100, dtype=float)
    keep = trim_mask(x, 0.9)
    lo, hi = np.quantile(x, [0.05, 0.95])
    assert keep.sum() == ((x > lo) & (x < hi)).sum() == 90
    y = x.copy()
    y[0] = 1e4  # outlier removed by trimming
    reg = LatentRegressor(trim_ratio=0.9).fit(x, y)
    assert reg.n_train_ == 90 and reg.coef_[0] == pytest.approx(1.0)


def test_save_load_round_trip_is_safetensors(tmp_path):
    x, y = _data()
    reg = LatentRegressor(model="lasso", alpha=0.1).fit(x, y)
    path = reg.save(tmp_path / "reg.safetensors")
    assert path.read_bytes()[8:9] == b"{"  # safetensors header, not a pickle
    back = LatentRegressor.load(path)
    np.testing.assert_array_equal(back.predict(x), reg.predict(x))
    assert back.get_params()["model"] == "lasso"


def test_bad_labels_are_refused():
    with pytest.raises(UserInputError, match="at least 2"):
        LatentRegressor().fit([1.0], [2.0])
    with pytest.raises(UserInputError, match="NaN or inf"):
        LatentRegressor().fit([1.0, 2.0], [2.0, np.nan])
