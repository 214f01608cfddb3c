"""Applying a saved regressor to new latents: what ``large-tk predict`` does, callable from the GUI too.

Why: a fitted regressor is only useful if it can score images that arrive later.  The model file written by
``regress`` records everything a prediction needs (direction, feature settings, label column, units and the
generator's fingerprint); a model is refused for latents made with another generator, because distances to
a direction of one generator mean nothing in another's latent space.
"""

from __future__ import annotations

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

    regressor: LatentRegressor
    direction: Direction
    spec: FeatureSpec
    meta: dict[str, Any]

    @property
    def label_column(self) -> str:
        return str(self.meta.get("label_column") or "label")


def load_model(path: str | Path) -> SavedModel:
    """Read ``regressor.safetensors`` and the direction saved beside it."""
    from large_toolkit.io.artifacts import load_directions, load_tensors

    p = Path(path)
    if p.is_dir():
        p = p / "regressor.safetensors"
    if not p.is_file():
        raise UserInputError(f"model file not found: {p}", hint="regress -o DIR writes DIR/regressor.safetensors")
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


def check_fingerprint(model: SavedModel, fingerprint: str | None, what: str) -> None:
    """One clear line when ``what`` comes from another generator than the model."""
    expected = model.meta.get("generator_fingerprint")
    if expected and fingerprint and expected != fingerprint:
        raise ArtifactMismatchError(
            f"the model was fitted for generator {expected}, but {what} come from generator {fingerprint}",
            hint="invert the images with the generator the model was fitted on (its --backend/--checkpoint)",
        )


def predict(model: SavedModel, latents: Latents, generator: Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(distances, predictions)`` for every latent, under the model's own feature settings."""
    feats = distance_features(latents, model.direction, model.spec, generator)
    if not np.isfinite(feats).all():
        raise UserInputError("distances contain NaN or inf", hint="check the latents")
    return feats[:, 0], model.regressor.predict(feats)
