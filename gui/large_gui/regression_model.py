"""The regression panel's math, delegated to :mod:`large_toolkit.regression` (Qt-free).

The GUI must show the same numbers the CLI prints, so distances (``scalar_distance``
with a mean over the edited layers), the fit (``LatentRegressor``) and the label
table reader come from the core.  Only the "label these next" advice is local
until the core grows one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from large_toolkit.types import Direction, Latents

if TYPE_CHECKING:
    from large_gui.state import FitSummary
    from large_toolkit.interfaces import Generator


def distances_for(
    latents: Latents, direction: Direction, layers: Sequence[int] | None, generator: Generator | None = None
) -> np.ndarray:
    """One signed distance per image along ``direction``: the core's mean per-layer distance.

    ``layers`` are the w indices the explorer edits (None: the direction's own mask,
    else all), so the regression measures exactly where the sliders act.
    """
    from large_toolkit.regression.features import FeatureSpec, scalar_distance

    spec = FeatureSpec(layers=None if layers is None else list(layers), combine="mean")
    return np.asarray(scalar_distance(latents, direction, spec, generator), dtype=np.float64)


def fit_summary(
    ids: Sequence[str], distances: np.ndarray, labelled: Mapping[str, float], truth: Mapping[str, float]
) -> FitSummary:
    """Fit label ~ distance on the labelled images (the core's OLS LatentRegressor).

    MAE and R² are measured on the images that have ground truth and are not
    labelled, i.e. the few-shot setting: the labels the user typed never score themselves.
    """
    from large_gui.state import FitSummary
    from large_toolkit.errors import UserInputError
    from large_toolkit.regression.regressor import LatentRegressor

    index = {image_id: i for i, image_id in enumerate(ids)}
    train = [index[k] for k in labelled]
    if len(train) < 2:
        raise ValueError("enter at least 2 labels to fit a line")
    x = np.asarray(distances, dtype=np.float64)[:, None]
    y = np.asarray([labelled[k] for k in labelled], dtype=np.float64)
    if np.ptp(x[train]) == 0:
        raise ValueError("the labelled images have the same distance; label images further apart")
    try:
        model = LatentRegressor(model="ols").fit(x[train], y)
    except UserInputError as exc:
        raise ValueError(exc.one_line()) from None
    predictions = np.asarray(model.predict(x), dtype=np.float64).ravel()
    test = [i for k, i in index.items() if k not in labelled and k in truth]
    mae = r2 = None
    if test:
        y_true = np.asarray([truth[ids[i]] for i in test], dtype=np.float64)
        err = predictions[test] - y_true
        mae = float(np.abs(err).mean())
        denom = float(((y_true - y_true.mean()) ** 2).sum())
        r2 = float(1.0 - (err**2).sum() / denom) if denom > 0 else None
    return FitSummary(float(model.coef_[0]), float(model.intercept_), predictions, mae, r2, len(train))


def suggest_next(ids: Sequence[str], distances: np.ndarray, labelled: Mapping[str, float], k: int = 2) -> list[str]:
    """Which images to label next: the core's advice (``large-tk suggest-labels``), so GUI and CLI agree.

    Spread along the distance axis away from labelled images, skipping the 5% tails (inversion outliers).
    """
    from large_toolkit.regression.advice import suggest_labels

    index = {name: i for i, name in enumerate(ids)}
    done = [index[i] for i in labelled if i in index]
    free = len(ids) - len(done)
    if free < 1:
        return []
    advice = suggest_labels(np.asarray(distances, dtype=np.float64), min(k, free), done)
    return [ids[i] for i in advice.rows.tolist()]


def sorted_order(distances: np.ndarray) -> np.ndarray:
    """Image indices in ascending distance (the unsupervised sort)."""
    return np.argsort(np.asarray(distances), kind="stable")


def read_labels_csv(path: str, column: str | None = None) -> dict[str, float]:
    """``id -> value`` (ids without extension) through the core's one label reader, as ``regress --labels``.

    ``column`` is the value column (``--label-column``); like the CLI, a table with several columns needs
    one (the panel always passes its column choice).
    """
    from large_toolkit.data.folders import id_key
    from large_toolkit.regression.inputs import read_label_table

    return {id_key(k): v for k, v in read_label_table(path, column).items()}


def label_columns(path: str) -> list[str]:
    """The value columns a labels CSV offers (its header minus the leading id column).

    The panel fills its column choice from this before anything is inverted, so a
    multi-attribute table (the synthetic set's ``labels.csv`` has eight factors)
    can be scored against the attribute the direction is meant to track.  The
    header is split with the core reader's rules (first of comma, tab, semicolon,
    else whitespace), so every name offered here is one the reader accepts.
    Unreadable or header-less files give an empty list: the caller falls back to
    the reader's default column instead of failing while the user is still typing.
    """
    import csv
    from pathlib import Path

    p = Path(path)
    if not p.is_file():
        return []
    try:
        with p.open(encoding="utf-8-sig") as handle:
            first = next((line for line in handle if line.strip()), "")
    except (OSError, UnicodeDecodeError):
        return []
    delim = next((d for d in (",", "\t", ";") if d in first), None)
    header = next(csv.reader([first], delimiter=delim)) if delim else first.split()
    return [h.strip() for h in header[1:] if h.strip()]
