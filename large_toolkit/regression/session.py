"""Everything ``regress`` needs before fitting: latents, ids, the direction and the labels, from any entry.

Why a core module: the CLI and the GUI must read the same images, invert them the same way and match the
same labels by the same rules, so that both report the same numbers.  Three entries:

* ``latents`` (from ``large-tk invert``): no generator is loaded unless the direction needs one, and then
  the default (bundled) generator is checked against the fingerprint recorded in the latents;
* ``images`` (a folder, files or globs; any format Pillow reads, resized by one rule) + labels;
* neither: the bundled demo set with its ground truth.

The label column used is always named (``column``), and a table with several columns needs
``label_column``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from large_toolkit.errors import ArtifactMismatchError, UserInputError
from large_toolkit.regression.features import FeatureSpec
from large_toolkit.validate import check_not_constant


@dataclass
class RegressionInputs:
    latents: Any
    ids: list[str]
    direction: Any
    rows: list[int]
    values: list[float]
    column: str
    generator: Any = None
    fingerprint: str | None = None
    pixels: np.ndarray | None = None
    groups: list[str] | None = None
    train_size: int | None = None
    demo: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _groups(labels: Path, group_column: str, ids: Sequence[str], rows: Sequence[int]) -> list[str]:
    """The group key of every labelled row, read as text from ``group_column`` of the labels file."""
    from large_toolkit.data.folders import _split_rows, id_key

    table = _split_rows(Path(labels).read_text(encoding="utf-8-sig"))
    header = [h.strip() for h in table[0]]
    if group_column not in header:
        raise UserInputError(f"{labels} has no column {group_column!r}", hint=f"columns: {', '.join(header)}")
    key = header.index("image") if "image" in header else 0
    col = header.index(group_column)
    by_id = {id_key(r[key]): r[col].strip() for r in table[1:] if len(r) > max(key, col)}
    return [by_id[id_key(ids[r])] for r in rows]


AUTO_CANDIDATES = "sefa:0-9"


def is_direction_set(direction: str) -> bool:
    """``auto``, a range (``sefa:0-9``) or a comma list name several candidates to choose from."""
    from large_toolkit.cli.latent_inputs import expand_specs

    return direction == "auto" or "," in direction or len(expand_specs([direction])) > 1


def choose_direction(
    direction: str,
    latents: Any,
    generator: Any,
    spec: FeatureSpec | None,
    rows: Sequence[int],
    values: Sequence[float],
) -> tuple[Any, str, list[dict[str, Any]]]:
    """The candidate whose distances predict the labels best by leave-one-out; ``(direction, name, ranking)``."""
    from large_toolkit.cli.latent_inputs import expand_specs
    from large_toolkit.directions import resolve_direction
    from large_toolkit.regression.advice import rank_directions
    from large_toolkit.regression.features import distance_features, layer_distances

    if len(rows) < 3:
        raise UserInputError(f"--direction {direction} chooses by leave-one-out and needs 3 labels, got {len(rows)}")
    names = expand_specs([AUTO_CANDIDATES] if direction == "auto" else direction.split(","))
    dirs = [resolve_direction(n, generator) for n in names]
    scalars = [distance_features(latents, d, spec, generator)[:, 0] for d in dirs]
    per = [layer_distances(latents, d, generator) for d in dirs]
    scores = rank_directions(names, per, scalars, label_rows=rows, label_values=values)
    best = names.index(scores[0].name)
    return dirs[best], names[best], [sc.to_dict() for sc in scores]


def _label_rows(
    ids: list[str],
    labels: Path | None,
    pairs: list[str] | None,
    table: Any,
    label_column: str | None,
    group_column: str | None,
    source: str,
) -> tuple[list[int], list[float], str]:
    from large_toolkit.regression.inputs import match_labels, parse_label_pairs, read_label_column

    if labels is not None and pairs:
        raise UserInputError("give either --labels FILE or --label ID=VALUE pairs, not both")
    if labels is not None:
        column, values = read_label_column(labels, label_column, [group_column] if group_column else [])
        rows, vals = match_labels(ids, values, labels.name)
    elif pairs:
        column, (rows, vals) = label_column or "label", match_labels(ids, parse_label_pairs(pairs), "--label")
    elif table is not None:
        column, col_values = table.pick(label_column, f"{source}/labels.csv")
        values = dict(zip(table.ids, col_values.tolist(), strict=True))
        rows, vals = match_labels(ids, values, "labels.csv")
    else:
        raise UserInputError(f"{source} has no labels.csv", hint="pass --labels FILE or --label ID=VALUE")
    return rows, vals, column


@dataclass
class InputOptions:
    """Where ``regress`` reads from (see the module docstring), by CLI name (``label``: the ``--label`` pairs);
    the defaults are the CLI's."""

    direction: str
    backend: str | None = None
    checkpoint: str | None = None
    images: Sequence[str] | None = None
    latents: Path | None = None
    labels: Path | None = None
    label: list[str] | None = None
    label_column: str | None = None
    group_column: str | None = None
    inverter: str = "encoder"
    inverter_checkpoint: str | None = None
    resize: str = "center-crop"
    space: str = "wplus"
    batch_size: int = 64
    no_cache: bool = False
    spec: FeatureSpec | None = None
    force: bool = False
    class_idx: int | None = None


@dataclass
class _Loaded:
    """Latents and ids from one entry, before the labels are matched (``direction`` None: to be chosen)."""

    latents: Any
    ids: list[str]
    generator: Any
    fingerprint: str | None
    direction: Any
    choose: bool
    pixels: np.ndarray | None = None
    table: Any = None


def gather_inputs(**options: Any) -> RegressionInputs:
    """Read, invert (cached) and match; the keywords are :class:`InputOptions`' fields."""
    return gather(InputOptions(**options))


def gather(o: InputOptions) -> RegressionInputs:
    """Read, invert (cached) and match; see the module docstring."""
    from large_toolkit.cli.latent_inputs import GeneratorSource

    if o.latents is not None and o.images:
        raise UserInputError("give --latents or --images, not both")
    demo = o.latents is None and not o.images
    if demo and (o.labels is not None or o.label):
        raise UserInputError("labels need --images or --latents", hint="the demo brings its own ground truth")
    if o.group_column is not None and o.labels is None:
        raise UserInputError("--group-column names a column of --labels FILE", hint="add --labels FILE")
    source = GeneratorSource(o.backend, o.checkpoint, o.force, o.class_idx)
    notes: list[str] = []
    info: dict[str, Any] = {}
    got = _from_latents(o, o.latents, source) if o.latents is not None else _from_images(o, source, demo, notes, info)
    if demo and got.choose:
        raise UserInputError("--direction auto needs your labels", hint="the demo takes one direction, e.g. sefa:3")
    data = _demo_inputs(got, o.spec, info, notes) if demo else _labelled_inputs(o, got, info, notes)
    if data.fingerprint:  # a direction made on another generator than the latents: refused, or warned (force)
        source.expect({"fingerprint": data.fingerprint}, "the latents")
        source.check_direction(data.direction)
    return data


def _from_latents(o: InputOptions, path: Path, source: Any) -> _Loaded:
    """A latents file: the generator is loaded only when the direction (or S latents) need it, and checked
    against the fingerprint the file records (a mismatch is refused, or with ``force`` a warning)."""
    from large_toolkit.cli.latent_inputs import load_latent_file
    from large_toolkit.directions import parse_spec, resolve_direction
    from large_toolkit.regression.inputs import warn_or_refuse
    from large_toolkit.regression.predict import latent_fingerprint
    from large_toolkit.types import LatentSpace

    lat, ids = load_latent_file(path)
    recorded = latent_fingerprint(path)
    if LatentSpace.parse(o.space) is not lat.space and o.space != "wplus":
        raise UserInputError(f"{path} holds {lat.space.value} latents, not {o.space}")
    choose = is_direction_set(o.direction)
    parsed = parse_spec(AUTO_CANDIDATES if o.direction == "auto" else o.direction.split(",")[0])
    needs_g = not parsed.is_file or lat.space is LatentSpace.S
    generator = source.get() if needs_g or o.backend is not None else None
    if generator is not None and recorded and recorded != generator.fingerprint():
        given = o.checkpoint or o.backend or "the bundled demo generator"
        if o.class_idx is not None:
            given += f" class {o.class_idx}"
        error = ArtifactMismatchError(
            f"{path} was inverted with generator {recorded}, not {given} ({generator.fingerprint()})",
            hint="pass the --backend/--checkpoint/--class-idx the latents were made with (or --force)",
        )
        warn_or_refuse(error, o.force)
    fingerprint = recorded or (generator.fingerprint() if generator is not None else None)
    dv = None if choose else resolve_direction(parsed, generator)
    return _Loaded(lat, ids, generator, fingerprint, dv, choose)


def _from_images(o: InputOptions, source: Any, demo: bool, notes: list[str], info: dict[str, Any]) -> _Loaded:
    """Images (or the bundled demo set) inverted on the generator, through the latent cache."""
    from large_toolkit.directions import resolve_direction
    from large_toolkit.regression.inputs import invert_with

    generator = source.get()
    table: Any = None
    choose = is_direction_set(o.direction)
    dv = None if choose else resolve_direction(o.direction, generator)  # a bad spec fails before any image is read
    if demo:
        from large_toolkit.demo import demo_set

        data = demo_set()
        pixels, ids, table = data.images, data.ids, data.labels
    else:
        from large_toolkit.data.folders import read_image_folder

        find_labels = o.labels is None and not o.label
        folder = read_image_folder(
            list(o.images or []), find_labels=find_labels, resolution=generator.resolution, resize=o.resize
        )
        pixels, ids, table = folder.images, folder.ids, folder.labels
        if folder.note:
            notes.append(folder.note)
        # match the labels now, not after the inversion (minutes): a mistyped id or column fails at once
        where = str(o.images[0]) if o.images else ""
        _label_rows(list(ids), o.labels, o.label, table, o.label_column, o.group_column, where)
    lat, info["latents_cached"] = invert_with(
        pixels, generator, o.inverter, o.inverter_checkpoint, o.space, o.batch_size, not o.no_cache
    )
    return _Loaded(lat, list(ids), generator, generator.fingerprint(), dv, choose, pixels, table)


def _demo_inputs(got: _Loaded, spec: FeatureSpec | None, info: dict[str, Any], notes: list[str]) -> RegressionInputs:
    """The demo's ground truth: the factor the direction tracks best is the label."""
    from large_toolkit.demo import DEMO_TRAIN, tracked_factor
    from large_toolkit.regression.features import distance_features

    scalar = distance_features(got.latents, got.direction, spec, got.generator)[:, 0]
    factor, rho, rhos = tracked_factor(scalar, got.table)
    info.update(factor=factor, spearman=rho, spearman_all=rhos)
    rows = list(range(len(got.ids)))
    values = got.table.column(factor).tolist()
    return RegressionInputs(
        got.latents, got.ids, got.direction, rows, values, factor, got.generator, got.fingerprint, got.pixels,
        None, DEMO_TRAIN, True, info, notes,
    )  # fmt: skip


def _labelled_inputs(o: InputOptions, got: _Loaded, info: dict[str, Any], notes: list[str]) -> RegressionInputs:
    """Match the user's labels (a file, pairs, or the folder's labels.csv), then choose the direction if asked."""
    ids, dv = got.ids, got.direction
    where = str(o.images[0]) if o.images else str(o.latents)
    rows, values, column = _label_rows(ids, o.labels, o.label, got.table, o.label_column, o.group_column, where)
    check_not_constant(values)
    groups = _groups(o.labels, o.group_column, ids, rows) if o.group_column and o.labels is not None else None
    if got.choose:
        dv, name, ranking = choose_direction(o.direction, got.latents, got.generator, o.spec, rows, values)
        top = ranking[0]
        info.update(direction_chosen=name, direction_ranking=ranking)
        notes.append(
            f"direction: {name} chosen from {len(ranking)} candidates by leave-one-out MAE "
            f"{top['loo_mae']:.4g} (next: {ranking[1]['name']} {ranking[1]['loo_mae']:.4g})"
            if len(ranking) > 1
            else f"direction: {name}"
        )
    notes.append(
        f"labels: column '{column}' ({len(rows)} labelled of {len(ids)} images)"
        + (f", grouped by '{o.group_column}' ({len(set(groups or []))} groups)" if groups else "")
    )
    return RegressionInputs(
        got.latents, ids, dv, rows, values, column, got.generator, got.fingerprint, got.pixels, groups, None, False,
        info, notes,
    )  # fmt: skip
