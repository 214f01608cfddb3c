"""``ordinal`` as a library call: K ordered classes from distances, fitted cut points, evaluation and files.

Without labels the cut points are quantiles at the class priors; with labels they are fitted (and, given a
label table, evaluated unsupervised and few-shot).  The CLI parses and prints; the GUI can call the same.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from large_toolkit.errors import UserInputError
from large_toolkit.regression import ordinal as od
from large_toolkit.regression.latent_job import LatentJob


def parse_counts(text: str) -> list[int]:
    """``--n-labels 2,5,10`` -> ``[2, 5, 10]`` (each at least 2)."""
    counts = []
    for part in text.split(","):
        if not part.strip().isdigit() or int(part) < 2:
            raise UserInputError(f"bad --n-labels entry {part.strip()!r}", hint="use counts >= 2, e.g. 2,5,10")
        counts.append(int(part))
    return counts


def check_method(method: str) -> None:
    if method not in od.FEWSHOT_METHODS:
        raise UserInputError(f"unknown --method {method!r}", hint=f"use one of {', '.join(od.FEWSHOT_METHODS)}")


@dataclass
class OrdinalRun:
    """The classes of every image under ``model`` (few-shot when labelled, else unsupervised) and the report."""

    result: dict[str, Any]
    model: Any
    direction: Any
    distances: np.ndarray
    classes: np.ndarray
    truth: np.ndarray | None


@dataclass
class OrdinalSettings:
    classes: int = 3
    priors: str | None = None
    descending: bool = False
    method: str = "midpoint"
    counts: tuple[int, ...] = (2, 5, 10)
    repeats: int = 200
    seed: int = 2


def run_ordinal(
    job: LatentJob, direction: str, s: OrdinalSettings, evaluate: bool, class_pairs: bool = False
) -> OrdinalRun:
    """Classes along ``direction``; ``evaluate`` (a label table) adds accuracy/MAE unsupervised and few-shot.

    A label table may hold class indices 0..K-1 or continuous values, which are binned into K
    equal-count classes (``result["labels"]["edges"]`` says where).  ``class_pairs`` labels
    (``--label ID=CLASS``) name classes directly, so a value outside 0..K-1 is a mistake, refused
    rather than binned: two pairs ``a=7 b=3`` would otherwise silently become classes 1 and 0.
    """
    od.parse_priors(s.priors, s.classes)  # validate before any work
    dv = job.direction(direction)
    d = job.distances(dv)
    unsup = od.quantile_thresholds(d, s.classes, s.priors, s.descending)
    result: dict[str, Any] = {
        "direction": direction,
        "classes": s.classes,
        "n_images": len(job.ids),
        "unsupervised": unsup.to_dict(),
    }
    model, truth = unsup, None
    if job.labels is not None:
        rows, values = job.labels
        binned = not od.looks_like_classes(values, s.classes)
        if binned and class_pairs:
            bad = next(v for v in values if not (v == round(v) and 0 <= v <= s.classes - 1))
            fix = (
                f"pass --classes {int(values.max()) + 1} or relabel"
                if bad == round(bad) and bad > 0
                else "relabel; continuous values go in a --labels FILE, which bins them"
            )
            raise UserInputError(
                f"--label class {bad:g} is not a class index 0-{s.classes - 1} (--classes {s.classes})",
                hint=f"labels must be class indices 0-{s.classes - 1}; {fix}",
            )
        result["labels"] = {"n": int(rows.size), "binned": binned}
        if binned:
            truth, edges = od.bin_labels(values, s.classes)
            result["labels"]["edges"] = edges.tolist()
        else:
            truth = values.astype(np.int64)
        model = od.fit_thresholds(d[rows], truth, s.classes, s.method)
        result["fewshot"] = model.to_dict()
        if evaluate:
            result["evaluation"] = {
                "unsupervised": od.ordinal_metrics(unsup.predict(d[rows]), truth),
                "fewshot": [
                    od.fewshot_ordinal_protocol(d[rows], truth, s.classes, n, s.repeats, s.seed, s.method)
                    for n in s.counts
                    if n < rows.size
                ],
            }
    pred = model.predict(d)
    result["class_counts"] = np.bincount(pred, minlength=s.classes).tolist()
    return OrdinalRun(result, model, dv, d, pred, truth)


def write_ordinal(run: OrdinalRun, job: LatentJob, out: Path, fingerprint: str | None) -> list[Path]:
    """``classes.csv``, ``ordinal.json`` and the model ``predict`` reads (recording the generator fingerprint)."""
    from large_toolkit.io.atomic import write_text_atomic
    from large_toolkit.regression.predict import save_ordinal

    lab, truth = job.labels, run.truth
    truth_of = dict(zip(lab[0].tolist(), truth.tolist(), strict=True)) if lab is not None and truth is not None else {}
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "distance", "class", "label_class"])
    for i, name in enumerate(job.ids):
        w.writerow([name, repr(float(run.distances[i])), int(run.classes[i]), truth_of.get(i, "")])
    paths = [out / "classes.csv", out / "ordinal.json"]
    write_text_atomic(paths[0], buf.getvalue())
    write_text_atomic(paths[1], json.dumps(run.result, indent=2) + "\n")
    meta = {
        "direction": run.result["direction"],
        "classes": run.result["classes"],
        "generator_fingerprint": fingerprint,
    }
    return paths + save_ordinal(out, run.model, run.direction, job.spec, meta)
