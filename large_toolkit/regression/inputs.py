"""Reading what ``large-tk regress`` and friends take from the user: label tables, label pairs, directions.

Every problem a user can make in these files (missing ids, duplicates, NaN
labels, fewer than two labels) is a :class:`UserInputError` naming the file,
raised before anything is computed or written.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from large_toolkit.errors import UserInputError


def read_label_column(
    path: str | Path, label_column: str | None = None, ignore: Sequence[str] = ()
) -> tuple[str, dict[str, float]]:
    """``(column used, id -> value)`` from a label table, through the project's one label reader.

    A table with several value columns needs ``label_column``: guessing one silently is how a run regresses
    the wrong attribute (see :meth:`~large_toolkit.data.folders.LabelTable.pick`).
    """
    from large_toolkit.data.folders import read_labels_csv

    table = read_labels_csv(path, ignore)
    column, values = table.pick(label_column, Path(path).name)
    return column, dict(zip(table.ids, values.tolist(), strict=True))


def read_label_table(path: str | Path, label_column: str | None = None) -> dict[str, float]:
    """``id -> value`` of one column (see :func:`read_label_column`)."""
    return read_label_column(path, label_column)[1]


def _value(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UserInputError(f"{where}: label {text!r} is not a number") from None
    if not math.isfinite(value):
        raise UserInputError(f"{where}: label is {text.strip()} (NaN/inf labels cannot be fitted)")
    return value


def parse_label_pairs(pairs: Sequence[str]) -> dict[str, float]:
    """``["img1=3.5", "img7=-2"]`` -> ``{id: value}`` (the ``--label`` option)."""
    labels: dict[str, float] = {}
    for pair in pairs:
        if "=" not in pair:
            raise UserInputError(f"bad --label {pair!r}", hint="use --label IMAGE_ID=VALUE")
        key, text = pair.rsplit("=", 1)
        key = key.strip()
        if key in labels:
            raise UserInputError(f"--label names {key!r} twice")
        labels[key] = _value(text, f"--label {pair}")
    return labels


def match_labels(ids: Sequence[str], labels: dict[str, float], source: str) -> tuple[list[int], list[float]]:
    """Row positions of labelled ids (with or without file extension); refuses unknown ids and < 2 labels."""
    from large_toolkit.data.folders import match_ids

    rows = match_ids(list(ids), list(labels), source)
    if len(labels) < 2:
        raise UserInputError(f"{source} gives {len(labels)} label(s); a fit needs at least 2")
    return rows.tolist(), list(labels.values())


def warn_or_refuse(error: UserInputError, force: bool) -> None:
    """A provenance mismatch (latents, direction or model from another generator): refused in one line, or,
    with ``--force``, one warning line on stderr and the work goes on (the user said the spaces match)."""
    if not force:
        raise error
    import sys

    print(f"warning: {error.message} (used anyway: --force)", file=sys.stderr)


def invert_with(
    pixels: Any, generator: Any, inverter: str, checkpoint: str | None, space: str, batch_size: int, cache: bool = True
) -> tuple[Any, bool]:
    """``(latents, came_from_cache)`` of uint8 images through a registered inverter: regress and predict invert
    the same way, so a model fitted on one run's latents scores another's."""
    from large_toolkit.latent_cache import invert_images
    from large_toolkit.plugins import get_host
    from large_toolkit.runner import Runner

    inv = get_host().inverter(inverter).create(generator, checkpoint=checkpoint, device=str(generator.device))
    return invert_images(pixels, generator, inv, space, Runner(device=generator.device, batch_size=batch_size), cache)
