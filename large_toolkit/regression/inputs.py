"""Reading what ``large-tk regress`` and friends take from the user: label tables, label pairs, directions.

Every problem a user can make in these files (missing ids, duplicates, NaN
labels, fewer than two labels) is a :class:`UserInputError` naming the file,
raised before anything is computed or written.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

from large_toolkit.errors import UserInputError


def _stem(name: str) -> str:
    """Image ids match with or without a file extension (``0001.jpg`` == ``0001``)."""
    return Path(name.strip()).stem if "." in name else name.strip()


def read_label_table(path: str | Path, label_column: str | None = None) -> dict[str, float]:
    """``id -> value`` from a CSV (comma, tab, semicolon or whitespace separated) with a header row.

    The id is the first column (as the released annotation files); the value is
    ``label_column`` or, by default, the second column.  A header one field
    shorter than every row names only the value columns (the CelebA /
    pandas-index layout the released ``train_regression_model.py`` reads with
    ``read_csv(delim_whitespace=True, header=0)``): the rows' first field is the id.
    """
    p = Path(path)
    if not p.is_file():
        raise UserInputError(f"label file not found: {p}")
    text = p.read_text(encoding="utf-8-sig")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2:
        raise UserInputError(f"{p} has no label rows", hint="expected a header and one row per image")
    first = lines[0]
    delim = next((d for d in (",", "\t", ";") if d in first), None)
    rows = list(csv.reader(lines, delimiter=delim)) if delim else [ln.split() for ln in lines]
    header = [h.strip() for h in rows[0]]
    if all(len(row) == len(header) + 1 for row in rows[1:]):
        header = ["id", *header]
    if len(header) < 2:
        raise UserInputError(f"{p} needs an id column and a value column")
    if label_column is None:
        col = 1
    elif label_column in header:
        col = header.index(label_column)
    else:
        raise UserInputError(f"{p} has no column {label_column!r}", hint=f"columns: {', '.join(header)}")
    labels: dict[str, float] = {}
    for lineno, row in enumerate(rows[1:], start=2):
        if len(row) <= col:
            raise UserInputError(f"{p} line {lineno} has {len(row)} fields, expected at least {col + 1}")
        key = _stem(row[0])
        if key in labels:
            raise UserInputError(f"{p} line {lineno}: duplicate id {key!r}", hint="give every image one label")
        labels[key] = _value(row[col], f"{p} line {lineno}")
    return labels


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
        key = _stem(key)
        if key in labels:
            raise UserInputError(f"--label names {key!r} twice")
        labels[key] = _value(text, f"--label {pair}")
    return labels


def match_labels(ids: Sequence[str], labels: dict[str, float], source: str) -> tuple[list[int], list[float]]:
    """Row positions of labelled ids in the latent file; refuses duplicates, unknown ids and < 2 labels."""
    keys = [_stem(i) for i in ids]
    seen: dict[str, int] = {}
    for pos, key in enumerate(keys):
        if key in seen:
            raise UserInputError(f"the latent file lists image id {key!r} twice", hint="ids must be unique")
        seen[key] = pos
    missing = [k for k in labels if k not in seen]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise UserInputError(
            f"{source} names {len(missing)} image(s) not in the latents: {shown}",
            hint="check the id column against the latent file's ids",
        )
    if len(labels) < 2:
        raise UserInputError(f"{source} gives {len(labels)} label(s); a fit needs at least 2")
    rows = [seen[k] for k in labels]
    return rows, [labels[k] for k in labels]
