"""``regress`` end to end as one library call: gather inputs, fit, evaluate, compare, write the files.

The CLI parses options into a :class:`RegressRequest` and renders the :class:`RegressRun`; the GUI can build
the same request.  The steps themselves live in :mod:`~large_toolkit.regression.session` (inputs),
:mod:`~large_toolkit.regression.run` (fit, protocol, files) and :mod:`~large_toolkit.regression.baselines`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from large_toolkit.errors import UserInputError
from large_toolkit.regression.run import RegressionOutcome
from large_toolkit.regression.session import InputOptions, RegressionInputs


@dataclass
class RegressRequest(InputOptions):
    """Every ``regress`` option by its CLI name: the inputs (:class:`InputOptions`), then the fit's settings."""

    units: str | None = None
    n_labels: str = "2,5,10,20,all"
    layers: str | None = None
    layer_weights: Path | None = None
    normalize_weights: bool = False
    combine: str = "auto"
    distance: str = "per_layer"
    model: str = "ols"
    trim: float = 1.0
    repeats: int = 1000
    train_size: int | None = None
    seed: int = 2
    exact: bool = False
    compare: bool = False
    scale: int = 4
    out: Path | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> RegressRequest:
        """The request from a command's parameters (those that are not request fields are left out)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in options.items() if k in names})


@dataclass
class RegressRun:
    """What :func:`run_regress` produced: the outcome, the inputs it was fitted on and the files written."""

    outcome: RegressionOutcome
    data: RegressionInputs
    written: list[Path] = field(default_factory=list)


def parse_ns(text: str) -> list[int | str]:
    """``--n-labels 2,5,all`` -> ``[2, 5, "all"]``."""
    ns: list[int | str] = []
    for part in text.split(","):
        part = part.strip().lower()
        if part == "all":
            ns.append("all")
        elif part.isdigit() and int(part) >= 2:
            ns.append(int(part))
        else:
            raise UserInputError(f"bad --n-labels entry {part!r}", hint="use counts >= 2 and 'all'")
    return ns


def run_regress(r: RegressRequest, note: Callable[[str], None] = lambda line: None) -> RegressRun:
    """Fit, evaluate (4+ labels) and write ``r.out`` (the demo: ``large-tk-demo``); ``note`` gets progress lines."""
    from large_toolkit.cli.latent_inputs import feature_spec
    from large_toolkit.regression.run import regress, write_outputs
    from large_toolkit.regression.session import gather
    from large_toolkit.validate import check_regress_options

    start = time.perf_counter()
    check_regress_options(r.repeats, r.trim, r.out)
    # exact: the released script fits every selected layer's distance as its own feature
    combine = "multi" if r.exact and r.combine == "auto" and r.layer_weights is None else r.combine
    spec = feature_spec(r.layers, r.layer_weights, r.normalize_weights, combine, r.distance)
    data = gather(replace(r, spec=spec))
    for line in data.notes:
        note(line)
    ns = parse_ns(r.n_labels)
    outcome = regress(
        data.latents, data.ids, data.direction, data.rows, data.values, spec=spec, model=r.model, trim_ratio=r.trim,
        evaluate=len(data.rows) >= 4, ns=ns, repeats=r.repeats, train_size=r.train_size or data.train_size,
        seed=r.seed, mode="exact" if r.exact else "vectorised", generator=data.generator, groups=data.groups,
    )  # fmt: skip
    if r.compare:
        outcome.info["compare"] = compare_baselines(outcome, data, ns, r.repeats, r.seed)
    units = r.units if r.units is not None or not data.demo else _demo_units(data.column)
    direction = data.info.get("direction_chosen") or r.direction
    outcome.info.update(data.info, direction=direction, label_column=data.column, units=units)
    out = r.out or (Path("large-tk-demo") if data.demo else None)
    run = RegressRun(outcome, data)
    if out is not None:
        run.written = write_outputs(outcome, out, data.direction, spec, data.fingerprint)
        if data.pixels is not None:
            distance_strip(out / "strip.png", data.pixels, outcome, data.column, r.scale)
            run.written.append(out / "strip.png")
    outcome.info["seconds"] = round(time.perf_counter() - start, 2)
    return run


def _demo_units(column: str) -> str | None:
    from large_toolkit.data.factors import FACTORS

    return next((f.unit for f in FACTORS if f.name == column), None)


def distance_strip(path: Path, pixels: np.ndarray, outcome: RegressionOutcome, column: str, scale: int) -> None:
    """16 images evenly spaced along the sorted distances, each captioned with its distance (and label)."""
    from large_toolkit.regression.plots import strip_chart
    from large_toolkit.regression.sorting import sort_order, strip_positions

    distances, labels = outcome.features[:, 0], outcome.labels
    order = sort_order(distances)
    rows = order[strip_positions(len(order), 16)]
    captions = [f"d={distances[r]:+.3g}" + (f"\n{labels[r]:.3g}" if r in labels else "") for r in rows]
    title = f"{len(rows)} of {len(distances)} images sorted by distance d along {outcome.info['direction']}"
    strip_chart(
        path,
        pixels[rows],
        captions,
        scale=scale,
        title=title + (f" (below: d and {column})" if labels else " (below: d)"),
    )


def compare_baselines(
    outcome: RegressionOutcome, data: RegressionInputs, ns: list[int | str], repeats: int, seed: int
) -> dict[str, Any]:
    """Baselines on the same uniform draws as LARGE's line (see :mod:`large_toolkit.regression.baselines`)."""
    from large_toolkit.regression.baselines import compare

    if outcome.protocol is None:
        raise UserInputError("--compare needs at least 4 labels (a training pool and a test set)")
    rows = np.asarray(data.rows)
    codes = data.latents.tensor.double().reshape(len(data.ids), -1).numpy()[rows]
    pixels = data.pixels.reshape(len(data.ids), -1)[rows] if data.pixels is not None else None
    pool, test = outcome.protocol.train_index, outcome.protocol.test_index
    counts = sorted({int(n) for n in ns if n != "all"} | {len(pool)})
    draws = min(repeats, 200)
    maes = compare(outcome.features[rows, 0], np.asarray(data.values), pool, test, codes, pixels, counts, draws, seed)
    return {
        "draws": "uniform random subsets of the pool, the same for every method",
        "repeats": draws,
        "mae": {m: {str(n): v for n, v in per.items()} for m, per in maes.items()},
    }
