"""Class labels for a conditional run when only some images carry one (S³GAN's recipe, Lučić et al. 2019).

1. Self-supervised features for ALL images: the rotation-prediction network that ``large-tk fid`` uses
   (:meth:`RotationExtractor.for_dataset`: one implementation, trained once per dataset, stored, reused).
2. A scikit-learn logistic regression on the features of the labelled images; its accuracy on a held-out
   quarter of them (stratified, seeded) is reported before training starts, so a user knows how much to
   trust the inferred labels.
3. It is refitted on every labelled image and predicts the class of each unlabelled one; labelled images
   keep their given class.  (S³GAN trains its classifier head jointly with D on the rotation-loss
   features; here the rotation features come from a separate, frozen network -- the fid extractor --
   which is simpler, deterministic and reusable.)

A label table row may have an empty value (or ``NA``/``nan``): that image is unlabelled.  Values are
class names, or numbers binned into ``bins`` equal-count classes (``--label-bins``).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from large_toolkit.api import UserInputError

MISSING = {"", "na", "nan", "none", "null", "?"}


@dataclass
class ClassLabels:
    """``classes[i]`` is image i's class index (-1: unlabelled); ``names[k]`` names class k."""

    classes: np.ndarray
    names: list[str]
    column: str

    @property
    def labelled(self) -> np.ndarray:
        return self.classes >= 0


@dataclass
class Inference:
    """Labels for every image and how the classifier did on held-out labelled images."""

    classes: np.ndarray
    n_labelled: int
    n_inferred: int
    holdout_accuracy: float | None = None
    holdout_n: int = 0
    chance: float | None = None
    extractor_fingerprint: str = ""
    notes: list[str] = field(default_factory=list)


def _stem(name: str) -> str:
    return Path(name).stem


def read_class_labels(path: str | Path, ids: list[str], column: str | None, bins: int | None = None) -> ClassLabels:
    """Read ``column`` of a CSV whose first column (or ``image``) names files of the folder."""
    p = Path(path)
    if not p.is_file():
        raise UserInputError(f"--labels {p} does not exist", hint="pass a CSV with an image column and a class column")
    with p.open(newline="") as f:
        rows = list(csv.reader(f))
    if len(rows) < 2:
        raise UserInputError(f"--labels {p} has no data rows")
    header = [h.strip() for h in rows[0]]
    id_col = header.index("image") if "image" in header else 0
    value_cols = [h for i, h in enumerate(header) if i != id_col]
    if column is None:
        if len(value_cols) != 1:
            raise UserInputError(
                f"--labels {p} has {len(value_cols)} value columns",
                hint=f"pick one with --label-column: {', '.join(value_cols)}",
            )
        column = value_cols[0]
    if column not in header or header.index(column) == id_col:
        raise UserInputError(f"--labels {p} has no column {column!r}", hint=f"columns: {', '.join(value_cols)}")
    col = header.index(column)
    index = {name: i for i, name in enumerate(ids)}
    index.update({_stem(name): i for i, name in enumerate(ids)})
    raw: list[str | None] = [None] * len(ids)
    for line, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        key = row[id_col].strip()
        i = index.get(key, index.get(_stem(key)))
        if i is None:
            raise UserInputError(f"{p} line {line}: image {key!r} is not in the data folder")
        value = row[col].strip() if col < len(row) else ""
        raw[i] = None if value.lower() in MISSING else value
    known = [v for v in raw if v is not None]
    if not known:
        raise UserInputError(f"--labels {p}: column {column!r} has no values")
    if bins is not None:
        return _binned(raw, bins, column, p)
    names = sorted(set(known), key=_sort_key)
    if len(names) < 2:
        raise UserInputError(f"column {column!r} has one class only ({names[0]})", hint="a conditional GAN needs >= 2")
    if len(names) > max(64, len(ids) // 4):
        raise UserInputError(
            f"column {column!r} has {len(names)} distinct values: looks numeric, not classes",
            hint="bin it with --label-bins K",
        )
    lookup = {n: k for k, n in enumerate(names)}
    classes = np.array([-1 if v is None else lookup[v] for v in raw], dtype=np.int64)
    return ClassLabels(classes, names, column)


def _sort_key(value: str) -> tuple[int, float, str]:
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def _binned(raw: list[str | None], bins: int, column: str, path: Path) -> ClassLabels:
    """Equal-count bins of a numeric column (edges: quantiles of the labelled values)."""
    if bins < 2:
        raise UserInputError(f"--label-bins must be >= 2, got {bins}")
    values = np.full(len(raw), np.nan)
    for i, v in enumerate(raw):
        if v is None:
            continue
        try:
            values[i] = float(v)
        except ValueError:
            raise UserInputError(
                f"{path}: {column}={v!r} is not a number", hint="drop --label-bins for class names"
            ) from None
        if not math.isfinite(values[i]):
            raise UserInputError(f"{path}: {column}={v!r} is not finite")
    known = values[~np.isnan(values)]
    edges = np.quantile(known, np.linspace(0, 1, bins + 1)[1:-1])
    classes = np.where(np.isnan(values), -1, np.searchsorted(edges, np.nan_to_num(values), side="right")).astype(
        np.int64
    )
    bounds = [float(known.min()), *edges.tolist(), float(known.max())]
    names = [f"{column} {bounds[k]:.4g}..{bounds[k + 1]:.4g}" for k in range(bins)]
    if len(np.unique(classes[classes >= 0])) < bins:
        raise UserInputError(
            f"{column}: {bins} bins leave some empty (too few distinct values)", hint="use fewer --label-bins"
        )
    return ClassLabels(classes, names, column)


def infer_classes(images: np.ndarray, labels: ClassLabels, seed: int = 0, holdout: float = 0.25) -> Inference:
    """Steps 1-3 above.  ``images`` uint8 NHWC (all of them); deterministic for a seed."""
    known = labels.labelled
    n_known = int(known.sum())
    if n_known == len(known):
        return Inference(labels.classes.copy(), n_known, 0)
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from large_toolkit.api import RotationExtractor

    extractor, _ = RotationExtractor.for_dataset(images)
    feats = []
    for s in range(0, len(images), 500):
        x = torch.from_numpy(np.ascontiguousarray(images[s : s + 500])).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        feats.append(extractor.features(x).double().numpy())
    X = np.concatenate(feats)
    y = labels.classes
    counts = np.bincount(y[known], minlength=len(labels.names))
    if (counts == 0).any():
        missing = [labels.names[k] for k in np.flatnonzero(counts == 0)]
        raise UserInputError(f"no labelled image of class(es) {', '.join(missing)}", hint="label at least one of each")

    def model():
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000, C=1.0))

    out = Inference(y.copy(), n_known, int((~known).sum()), extractor_fingerprint=extractor.fingerprint)
    idx = np.flatnonzero(known)
    stratify = y[idx] if counts.min() >= 2 else None
    n_test = max(1, round(holdout * len(idx))) if len(idx) >= 4 else 0
    if n_test and len(idx) - n_test >= 2 and len(np.unique(y[idx])) >= 2:
        if stratify is not None and n_test < len(labels.names):
            stratify = None  # too few held-out images to hold one of each class
        tr, te = train_test_split(idx, test_size=n_test, random_state=seed, stratify=stratify)
        if len(np.unique(y[tr])) >= 2:
            clf = model().fit(X[tr], y[tr])
            out.holdout_accuracy = float((clf.predict(X[te]) == y[te]).mean())
            out.holdout_n = len(te)
            out.chance = float(np.bincount(y[tr]).max() / len(tr))
    if out.holdout_accuracy is None:
        out.notes.append("too few labelled images for a held-out accuracy")
    clf = model().fit(X[idx], y[idx])
    unk = np.flatnonzero(~known)
    out.classes[unk] = clf.predict(X[unk])
    return out
