"""Shared input handling for the distance-based commands (sort, ordinal, suggest-labels, layers).

They all take the same inputs as ``regress``: ``--latents`` (from ``large-tk
invert``), ``--direction`` (a file spec, or a finder spec such as ``sefa:3``
resolved on ``--backend/--checkpoint``; default the bundled demo generator)
and the feature options.  Keeping this in one place means one set of error
messages and one generator load per run.  The generator is loaded lazily:
a file direction on W/W+ latents never touches a model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from large_toolkit.errors import UserInputError

if TYPE_CHECKING:
    from large_toolkit.interfaces import Generator
    from large_toolkit.regression.features import FeatureSpec
    from large_toolkit.types import Direction, Latents


@dataclass
class GeneratorSource:
    """``--backend/--checkpoint`` with a lazily loaded, cached generator, and the provenance it must match.

    ``backend`` None follows the one rule of :mod:`large_toolkit.generators`; when the
    latents being used record the generator that made them (:meth:`expect`), that
    recorded backend is the default.  A generator, or a direction, whose fingerprint
    differs from the recorded one is refused in one line unless ``force``.  ``class_idx`` (``--class-idx``)
    binds a class-conditional generator to one class (its fingerprint then includes the class).
    """

    backend: str | None = None
    checkpoint: str | None = None
    force: bool = False
    class_idx: int | None = None
    expected: dict[str, Any] | None = None
    _generator: Any = field(default=None, repr=False)

    def expect(self, recorded: dict[str, Any] | None, what: str) -> None:
        """Remember the generator an input was made with (its ``generator_meta``)."""
        if recorded and recorded.get("fingerprint"):
            self.expected = {**recorded, "what": what}

    def get(self) -> Generator:
        if self._generator is None:
            from large_toolkit.cli.state import OPTIONS
            from large_toolkit.generators import resolve_generator

            recorded = (self.expected or {}).get("backend")
            backend = self.backend or (recorded if self.checkpoint is None else None)
            self._generator = resolve_generator(backend, self.checkpoint, OPTIONS.device, self.class_idx)
            self._check(self._generator.fingerprint(), f"generator {self._generator.name} is")
        return self._generator

    def check_direction(self, direction: Direction) -> None:
        """Refuse a direction computed on another generator than the one the latents came from."""
        made_on = direction.provenance.get("generator")
        if isinstance(made_on, str):
            self._check(
                made_on,
                f"direction {direction.name or '(unnamed)'} was found on generator",
                hint="use a direction found on that generator (`large-tk directions find` with the same "
                "--backend/--checkpoint/--class-idx), or --force",
            )

    def _check(self, fingerprint: str, what: str, hint: str | None = None) -> None:
        from large_toolkit.errors import ArtifactMismatchError
        from large_toolkit.regression.inputs import warn_or_refuse

        exp = self.expected
        if exp is None or fingerprint == exp["fingerprint"]:
            return
        label = f"backend {exp['backend']}, " if exp.get("backend") else ""
        if isinstance(exp.get("class_idx"), int):
            label += f"class {exp['class_idx']}, "
        error = ArtifactMismatchError(
            f"{exp['what']} was made with generator {label}fingerprint {exp['fingerprint']}; {what} {fingerprint}",
            hint=hint or "pass the --backend/--checkpoint (and --class-idx) that made them (or --force)",
        )
        warn_or_refuse(error, self.force)


def read_layer_weights(path: Path) -> list[float]:
    """Per-layer weights from ``.txt``/``.csv`` (numbers) or ``.safetensors`` (first tensor): what ``layers`` writes."""
    if not path.is_file():
        raise UserInputError(f"layer weights file not found: {path}")
    if path.suffix == ".safetensors":
        from large_toolkit.io.artifacts import load_tensors

        tensors, _ = load_tensors(path)
        return next(iter(tensors.values())).double().numpy().reshape(-1).tolist()
    try:
        return np.loadtxt(path, delimiter="," if path.suffix == ".csv" else None).reshape(-1).tolist()
    except ValueError:
        raise UserInputError(f"{path} is not a list of numbers") from None


def feature_spec(
    layers: str | None, weights: Path | None, normalize: bool, combine: str, distance: str = "per_layer"
) -> FeatureSpec:
    from large_toolkit.regression.features import FeatureSpec

    w = read_layer_weights(weights) if weights is not None else None
    return FeatureSpec(distance=distance, layers=layers, layer_weights=w, normalize_weights=normalize, combine=combine)


def load_latent_file(path: Path, source: GeneratorSource | None = None) -> tuple[Latents, list[str]]:
    """Latents and their ids (row numbers as ids when the file has none).

    A folder is LARGE's layout, ``.npy`` / ``.csv`` what ``large-tk export latents`` writes; those
    carry no generator fingerprint, which a note on stderr says.  With ``source``, the generator our
    latents record becomes the one every later use must match.
    """
    from large_toolkit.cli.output import note
    from large_toolkit.io.artifacts import load_latents
    from large_toolkit.io.large_latents import read_latent_source

    foreign = read_latent_source(path)
    if foreign is not None:
        note(foreign[2])
        return foreign[0], foreign[1]
    if not path.is_file():
        raise UserInputError(f"latent file not found: {path}", hint="make one with large-tk invert")
    lat, ids, meta = load_latents(path)
    if source is not None:
        source.expect(meta.get("generator"), f"latent file {path.name}")
    return lat, list(ids) if ids is not None else [str(i) for i in range(len(lat))]


def resolve_one(spec: str, source: GeneratorSource) -> Direction:
    """A direction spec -> Direction; finder specs load the generator."""
    from large_toolkit.directions import parse_spec, resolve_direction

    parsed = parse_spec(spec)
    direction = resolve_direction(parsed, None if parsed.is_file else source.get())
    source.check_direction(direction)
    return direction


def expand_specs(specs: list[str]) -> list[str]:
    """``sefa:0-7`` -> ``sefa:0 ... sefa:7`` (candidate lists for direction ranking)."""
    out: list[str] = []
    for spec in specs:
        head, _, tail = spec.rpartition(":")
        if head and "-" in tail and all(p.isdigit() for p in tail.split("-", 1)):
            a, b = (int(p) for p in tail.split("-", 1))
            if b < a:
                raise UserInputError(f"empty direction range {spec!r}")
            out.extend(f"{head}:{i}" for i in range(a, b + 1))
        else:
            out.append(spec)
    return out


def distances_for(latents: Latents, direction: Direction, spec: FeatureSpec, source: GeneratorSource) -> np.ndarray:
    """Scalar distances; S directions on W/W+ latents get the generator for the conversion."""
    from large_toolkit.regression.features import scalar_distance
    from large_toolkit.types import LatentSpace

    needs_g = direction.space is LatentSpace.S and latents.space is not LatentSpace.S
    d = scalar_distance(latents, direction, spec, source.get() if needs_g else None)
    if not np.isfinite(d).all():
        raise UserInputError("distances contain NaN or inf", hint="check the latents and the direction")
    return d


def labels_by_row(
    ids: list[str], labels: Path | None, label_column: str | None, pairs: list[str] | None, min_labels: int = 2
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(rows, values)`` from ``--labels FILE`` or ``--label ID=VALUE`` pairs; None when neither is given."""
    from large_toolkit.regression.inputs import match_labels, parse_label_pairs, read_label_table

    if labels is not None and pairs:
        raise UserInputError("give either --labels FILE or --label ID=VALUE pairs, not both")
    if labels is None and not pairs:
        return None
    table = read_label_table(labels, label_column) if labels is not None else parse_label_pairs(pairs or [])
    rows, values = match_labels(ids, table, str(labels) if labels is not None else "--label")
    if len(rows) < min_labels:
        raise UserInputError(f"this needs at least {min_labels} labels, got {len(rows)}")
    return np.asarray(rows, dtype=np.int64), np.asarray(values, dtype=np.float64)


def progress_bar() -> Any:
    """A transient progress bar on stderr (stdout stays clean for --json)."""
    from large_toolkit.runner import make_progress

    return make_progress()
