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
from large_toolkit.regression.plots import scatter_png, write_chart
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
        )
    reg = LatentRegressor(model=model, trim_ratio=trim_ratio).fit(feats[rows], y)
    info = {"model": reg.model, "features": int(feats.shape[1]), "seed": seed, "direction": direction.name}
    return RegressionOutcome(
        list(ids), feats, reg.predict(feats), dict(zip(rows.tolist(), y.tolist(), strict=True)), reg, protocol, info
    )


def write_outputs(outcome: RegressionOutcome, out_dir: str | Path) -> list[Path]:
    """``predictions.csv``, ``results.json``, ``scatter.png`` and ``regressor.safetensors``, each atomically."""
    out = Path(out_dir)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["id", "distance", "prediction", "label"])
    for i, name in enumerate(outcome.ids):
        label = outcome.labels.get(i)
        writer.writerow(
            [
                name,
                repr(float(outcome.features[i, 0])),
                repr(float(outcome.predictions[i])),
                "" if label is None else repr(label),
            ]
        )
    paths = [out / "predictions.csv", out / "results.json", out / "scatter.png", out / "regressor.safetensors"]
    write_text_atomic(paths[0], buf.getvalue())
    write_text_atomic(paths[1], json.dumps(outcome.summary(), indent=2, default=str) + "\n")
    rows = np.array(sorted(outcome.labels))
    x = outcome.features[:, 0]
    if outcome.features.shape[1] == 1:
        # labelled images at their labels (red), unlabelled ones at their predictions (blue) on the fit line
        y = outcome.predictions.copy()
        y[rows] = [outcome.labels[r] for r in rows]
        mark = np.zeros(len(y), bool)
        mark[rows] = True
        line = (float(outcome.regressor.coef_[0]), outcome.regressor.intercept_)
        write_chart(paths[2], scatter_png(x, y, line, mark))
    else:
        write_chart(paths[2], scatter_png(outcome.predictions[rows], np.array([outcome.labels[r] for r in rows])))
    outcome.regressor.save(paths[3], {"direction": outcome.info.get("direction")})
    return paths
