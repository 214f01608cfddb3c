"""The ``regress`` workflow as a library call: features -> protocol -> fit -> predictions -> files.

The CLI only parses options and prints; everything else is here so that the
demo path (a generator backend, a finder spec, an inverter) can later feed the
same function with latents it computed itself.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from large_toolkit.errors import UserInputError
from large_toolkit.interfaces import Generator
from large_toolkit.io.atomic import write_text_atomic
from large_toolkit.regression.features import FeatureSpec, distance_features
from large_toolkit.regression.plots import scatter_chart
from large_toolkit.regression.protocol import DEFAULT_NS, ProtocolResult, fewshot_protocol
from large_toolkit.regression.regressor import LatentRegressor
from large_toolkit.types import Direction, Latents


@dataclass
class RegressionOutcome:
    """What one regress run produced (printed by the CLI, written by :func:`write_outputs`)."""

    ids: list[str]
    features: np.ndarray
    predictions: np.ndarray
    labels: dict[int, float]
    regressor: LatentRegressor
    protocol: ProtocolResult | None
    info: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            **self.info,
            "coef": self.regressor.coef_.tolist(),
            "intercept": self.regressor.intercept_,
            "n_images": len(self.ids),
            "n_labels": len(self.labels),
            "protocol": self.protocol.to_dict() if self.protocol is not None else None,
        }


def regress(
    latents: Latents,
    ids: Sequence[str],
    direction: Direction,
    label_rows: Sequence[int],
    label_values: Sequence[float],
    *,
    spec: FeatureSpec | None = None,
    model: str = "ols",
    trim_ratio: float = 1.0,
    evaluate: bool = True,
    ns: Sequence[int | str] = DEFAULT_NS,
    repeats: int = 1000,
    train_size: int | None = None,
    seed: int = 2,
    mode: str = "vectorised",
    generator: Generator | None = None,
    groups: Sequence[Any] | None = None,
) -> RegressionOutcome:
    """Fit the labelled rows, predict every row; with enough labels also run the few-shot protocol.

    ``generator`` is needed only to measure W/W+ codes against an S direction (it maps them to S).
    """
    feats = distance_features(latents, direction, spec, generator)
    rows = np.asarray(label_rows, dtype=np.int64)
    y = np.asarray(label_values, dtype=np.float64)
    if not np.isfinite(feats).all():
        raise UserInputError("distances contain NaN or inf", hint="check the latents and the direction")
    if np.ptp(feats[rows], axis=0).max() == 0:
        raise UserInputError(
            "the labelled images all have the same distance, so no line can be fitted",
            hint="label images that differ in the attribute, or check the direction",
        )
    protocol = None
    if evaluate and len(rows) >= 4:
        pool = train_size if train_size is not None else min(1000, len(rows) // 2)
        protocol = fewshot_protocol(
            feats[rows],
            y,
            train_size=pool,
            ns=ns,
            repeats=repeats,
            model=model,
            trim_ratio=trim_ratio,
            seed=seed,
            mode=mode,
            groups=groups,
        )
    reg = LatentRegressor(model=model, trim_ratio=trim_ratio).fit(feats[rows], y)
    info = {"model": reg.model, "features": int(feats.shape[1]), "seed": seed, "direction": direction.name}
    return RegressionOutcome(
        list(ids), feats, reg.predict(feats), dict(zip(rows.tolist(), y.tolist(), strict=True)), reg, protocol, info
    )


MODEL_FILE = "regressor.safetensors"
DIRECTION_FILE = "direction.safetensors"


def write_outputs(
    outcome: RegressionOutcome,
    out_dir: str | Path,
    direction: Direction,
    spec: FeatureSpec | None = None,
    generator_fingerprint: str | None = None,
) -> list[Path]:
    """``predictions.csv``, ``results.json``, ``scatter.png``, the model (``regressor.safetensors`` recording
    generator fingerprint, direction, feature settings, label column and units) and ``direction.safetensors``,
    each written atomically."""
    from dataclasses import asdict

    from large_toolkit.io.artifacts import save_directions
    from large_toolkit.types import DirectionSet

    out = Path(out_dir)
    paths = [out / "predictions.csv", out / "results.json", out / "scatter.png", out / MODEL_FILE, out / DIRECTION_FILE]
    write_text_atomic(
        paths[0], predictions_csv(outcome.ids, outcome.features[:, 0], outcome.predictions, outcome.labels)
    )
    write_text_atomic(paths[1], json.dumps(outcome.summary(), indent=2, default=str) + "\n")
    rows = np.array(sorted(outcome.labels))
    column = str(outcome.info.get("label_column") or "label")
    units = outcome.info.get("units")
    direction_name = str(outcome.info.get("direction") or direction.name)
    full = outcome.protocol.rows[-1] if outcome.protocol is not None and outcome.protocol.rows else None
    metrics: dict[str, Any] = {}
    if full is not None and outcome.protocol is not None:
        settings = outcome.protocol.settings
        metrics = {
            "mae": full.mae_mean,
            "r2": full.r2_mean,
            "metrics_on": f"test set of {settings['test_size']}, fit on a pool of {settings['train_size']}",
        }
    if outcome.features.shape[1] == 1:
        y = outcome.predictions.copy()
        y[rows] = [outcome.labels[r] for r in rows]
        mark = np.zeros(len(y), bool)
        mark[rows] = True
        line = (float(outcome.regressor.coef_[0]), outcome.regressor.intercept_)
        scatter_chart(
            paths[2],
            outcome.features[:, 0],
            y,
            mark,
            line=line,
            direction=direction_name,
            column=column,
            units=units,
            **metrics,
        )
    else:
        x = outcome.predictions[rows]
        scatter_chart(
            paths[2],
            x,
            np.array([outcome.labels[r] for r in rows]),
            np.ones(len(rows), bool),
            line=(1.0, 0.0),
            direction=f"{direction_name} (prediction, {outcome.features.shape[1]} features)",
            column=column,
            units=units,
            **metrics,
        )
    outcome.regressor.save(
        paths[3],
        {
            "direction": direction_name,
            "direction_file": DIRECTION_FILE,
            "features": asdict(spec) if spec is not None else None,
            "label_column": column,
            "units": units,
            "generator_fingerprint": generator_fingerprint,
        },
    )
    save_directions(paths[4], DirectionSet([direction]))
    return paths


def predictions_csv(
    ids: Sequence[str], distances: np.ndarray, predictions: np.ndarray, labels: dict[int, float] | None = None
) -> str:
    """The ``predictions.csv`` text: id, distance, prediction, label (blank when unlabelled)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["id", "distance", "prediction", "label"])
    for i, name in enumerate(ids):
        label = (labels or {}).get(i)
        writer.writerow(
            [name, repr(float(distances[i])), repr(float(predictions[i])), "" if label is None else repr(label)]
        )
    return buf.getvalue()
