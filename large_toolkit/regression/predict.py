"""Applying a saved regressor to new latents: what ``large-tk predict`` does, callable from the GUI too.

Why: a fitted regressor is only useful if it can score images that arrive later.  The model file written by
``regress`` records everything a prediction needs (direction, feature settings, label column, units and the
generator's fingerprint); a model is refused for latents made with another generator, because distances to
a direction of one generator mean nothing in another's latent space.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from large_toolkit.errors import ArtifactMismatchError, UserInputError
from large_toolkit.interfaces import Generator
from large_toolkit.regression.features import FeatureSpec, distance_features
from large_toolkit.regression.regressor import REGRESSOR_FORMAT, LatentRegressor
from large_toolkit.types import Direction, Latents


@dataclass
class SavedModel:
    """A regressor with the settings it was fitted under."""

    regressor: Any  # a LatentRegressor, or an OrdinalModel (predicts classes)
    direction: Direction
    spec: FeatureSpec
    meta: dict[str, Any]

    @property
    def label_column(self) -> str:
        return "class" if self.is_ordinal else str(self.meta.get("label_column") or "label")

    @property
    def is_ordinal(self) -> bool:
        return self.meta.get("format") == ORDINAL_FORMAT


def load_model(path: str | Path) -> SavedModel:
    """Read ``regressor.safetensors`` and the direction saved beside it."""
    from large_toolkit.io.artifacts import load_directions, load_tensors

    ordinal = load_ordinal(Path(path))
    if ordinal is not None:
        return ordinal
    p = Path(path)
    if p.is_dir():
        p = p / "regressor.safetensors"
    if not p.is_file():
        raise UserInputError(
            f"model file not found: {p}",
            hint="regress -o DIR writes DIR/regressor.safetensors, ordinal -o DIR ordinal_model.json",
        )
    _, meta = load_tensors(p, REGRESSOR_FORMAT)
    direction_file = p.parent / str(meta.get("direction_file") or "")
    if not meta.get("direction_file") or not direction_file.is_file():
        raise UserInputError(
            f"{p} has no saved direction beside it ({direction_file.name or 'none recorded'})",
            hint="re-run regress -o DIR with this version to save the model with its direction",
        )
    features = meta.get("features") or {}
    spec = FeatureSpec(**{k: v for k, v in features.items() if k in FeatureSpec.__dataclass_fields__})
    return SavedModel(LatentRegressor.load(p), load_directions(direction_file)[0], spec, meta)


ORDINAL_FORMAT = "large-tk/ordinal-model"
ORDINAL_FILE = "ordinal_model.json"


def latent_fingerprint(path: Path) -> str | None:
    """The generator fingerprint a latents file records (None for a LARGE folder, an export or an old file)."""
    from large_toolkit.io.artifacts import load_latents

    if Path(path).is_dir() or Path(path).suffix.lower() != ".safetensors":
        return None
    return ((load_latents(path)[2].get("generator")) or {}).get("fingerprint")


def save_ordinal(out: Path, model: Any, direction: Direction, spec: FeatureSpec, meta: dict[str, Any]) -> list[Path]:
    """``ordinal_model.json`` (cut points, direction, feature settings, generator) + ``direction.safetensors``."""
    import json
    from dataclasses import asdict

    from large_toolkit.io.artifacts import save_directions
    from large_toolkit.io.atomic import write_text_atomic
    from large_toolkit.types import DirectionSet

    paths = [out / ORDINAL_FILE, out / "direction.safetensors"]
    record = {
        "format": ORDINAL_FORMAT,
        "thresholds": model.thresholds.tolist(),
        "sign": model.sign,
        "method": model.method,
        "direction_file": paths[1].name,
        "features": asdict(spec),
        **meta,
    }
    write_text_atomic(paths[0], json.dumps(record, indent=2) + "\n")
    save_directions(paths[1], DirectionSet([direction]))
    return paths


def load_ordinal(path: Path) -> SavedModel | None:
    """An ordinal model saved by ``ordinal -o DIR`` (its file or folder); None when ``path`` is not one."""
    import json

    from large_toolkit.io.artifacts import load_directions
    from large_toolkit.regression.ordinal import OrdinalModel

    p = Path(path)
    if p.is_dir() and not (p / "regressor.safetensors").is_file():
        p = p / ORDINAL_FILE
    if p.suffix != ".json" or not p.is_file():
        return None
    try:
        meta = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserInputError(f"cannot read {p}: {exc}") from None
    if meta.get("format") != ORDINAL_FORMAT:
        raise UserInputError(f"{p} is not an ordinal model", hint="ordinal -o DIR writes DIR/ordinal_model.json")
    model = OrdinalModel(np.asarray(meta["thresholds"], dtype=np.float64), float(meta["sign"]), meta["method"])
    features = meta.get("features") or {}
    spec = FeatureSpec(**{k: v for k, v in features.items() if k in FeatureSpec.__dataclass_fields__})
    return SavedModel(model, load_directions(p.parent / meta["direction_file"])[0], spec, meta)


def check_fingerprint(model: SavedModel, fingerprint: str | None, what: str, force: bool = False) -> None:
    """One clear line when ``what`` comes from another generator than the model (a warning with ``force``)."""
    from large_toolkit.regression.inputs import warn_or_refuse

    expected = model.meta.get("generator_fingerprint")
    if expected and fingerprint and expected != fingerprint:
        error = ArtifactMismatchError(
            f"the model was fitted for generator {expected}, but {what} come from generator {fingerprint}",
            hint="invert the images with the generator the model was fitted on (its --backend/--checkpoint/"
            "--class-idx), or --force",
        )
        warn_or_refuse(error, force)


def predict(model: SavedModel, latents: Latents, generator: Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(distances, predictions)`` for every latent, under the model's own feature settings."""
    feats = distance_features(latents, model.direction, model.spec, generator)
    if not np.isfinite(feats).all():
        raise UserInputError("distances contain NaN or inf", hint="check the latents")
    if model.is_ordinal:
        return feats[:, 0], model.regressor.predict(feats[:, 0])
    return feats[:, 0], model.regressor.predict(feats)


@dataclass
class Prediction:
    """What :func:`predict_new` scored: the model, the image ids, their distances and predictions."""

    model: SavedModel
    ids: list[str]
    distances: np.ndarray
    predictions: np.ndarray
    notes: list[str]


def predict_new(
    model_path: Path,
    latents: Path | None = None,
    images: Sequence[str] | None = None,
    *,
    source: Any,
    inverter: str = "encoder",
    inverter_checkpoint: str | None = None,
    resize: str = "center-crop",
    batch_size: int = 64,
    force: bool = False,
) -> Prediction:
    """Score ``latents`` (a file) or ``images`` (inverted on ``source``'s generator) with a saved model.

    The provenance check (model vs latents or generator) refuses a mismatch, or warns with ``force``."""
    from large_toolkit.cli.latent_inputs import load_latent_file
    from large_toolkit.regression.inputs import invert_with

    if (latents is None) == (not images):
        raise UserInputError("give --latents FILE or --images (one of them)")
    saved = load_model(model_path)
    generator, notes = None, []
    if latents is not None:
        lat, ids = load_latent_file(latents)
        check_fingerprint(saved, latent_fingerprint(latents), f"the latents in {latents}", force)
    else:
        from large_toolkit.data.folders import read_image_folder

        generator = source.get()
        given = source.checkpoint or f"the bundled {source.backend or 'demo'} model"
        if source.class_idx is not None:
            given += f" class {source.class_idx}"
        what = f"the images (inverted with {given})"
        check_fingerprint(saved, generator.fingerprint(), what, force)
        folder = read_image_folder(
            list(images or []), find_labels=False, resolution=generator.resolution, resize=resize
        )
        notes = [folder.note] if folder.note else []
        lat, _ = invert_with(folder.images, generator, inverter, inverter_checkpoint, "wplus", batch_size)
        ids = folder.ids
    distances, predictions = predict(saved, lat, generator)
    return Prediction(saved, list(ids), distances, predictions, notes)


def write_predictions(result: Prediction, out: Path) -> None:
    """``predictions.csv`` (id, distance, prediction, label) or, for an ordinal model, id, distance, class."""
    import csv
    import io

    from large_toolkit.io.atomic import write_text_atomic
    from large_toolkit.regression.run import predictions_csv

    if not result.model.is_ordinal:
        write_text_atomic(out, predictions_csv(result.ids, result.distances, result.predictions))
        return
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["id", "distance", "class"])
    rows = zip(result.ids, result.distances, result.predictions, strict=True)
    writer.writerows([i, repr(float(d)), int(c)] for i, d, c in rows)
    write_text_atomic(out, buf.getvalue())
