"""Image folders + label tables: write a dataset as PNG/JPEG files + ``labels.csv``, read one back, validated.

Layout: one image per file (any format :mod:`large_toolkit.io.images` reads) and an optional
``labels.csv`` whose ``image`` column (else its first column) names a file in the folder, with or
without its extension, and whose other columns are numeric labels (a subset of images may be
labelled: few-shot regression needs only a handful).  This is the project's one image lister and
one label reader.  Every problem a user can make in such a folder (an unreadable image, a label row
naming a missing image, a duplicate id, NaN / inf / text in a label) is reported as one
:class:`~large_toolkit.errors.UserInputError` line naming the file, line and column.

Writes never leave a half-written dataset: everything goes into a hidden temporary folder beside
the target, which is renamed into place only when complete.
"""

from __future__ import annotations

import csv
import io
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from large_toolkit.errors import UserInputError
from large_toolkit.io.images import (
    DEFAULT_RESIZE,
    IMAGE_SUFFIXES,
    fit_to_resolution,
    list_images,
    read_image,
    resize_note,
    write_image,
)

IMAGE_COLUMN = "image"
LABELS_FILE = "labels.csv"
WRITE_FORMATS = ("png", "jpg")


@dataclass
class LabelTable:
    """Numeric labels keyed by image file name: ``values[i, j]`` is column ``columns[j]`` of ``ids[i]``."""

    ids: list[str]
    columns: list[str]
    values: np.ndarray

    def column(self, name: str) -> np.ndarray:
        try:
            return self.values[:, self.columns.index(name)]
        except ValueError:
            raise UserInputError(f"no label column {name!r}", hint=f"columns: {', '.join(self.columns)}") from None

    def pick(self, name: str | None, source: str = "the labels") -> tuple[str, np.ndarray]:
        """The label column to use: ``name``, or the only one; several columns and no name is an error."""
        if name is not None:
            return name, self.column(name)
        if len(self.columns) > 1:
            raise UserInputError(
                f"{source} has {len(self.columns)} label columns ({', '.join(self.columns)}); choose one",
                hint=f"pass --label-column, e.g. --label-column {self.columns[0]}",
            )
        return self.columns[0], self.values[:, 0]

    @classmethod
    def from_structured(cls, labels: np.ndarray, ids: Sequence[str]) -> LabelTable:
        """Wrap a structured array (one float field per label, as the synthetic set returns)."""
        names = list(labels.dtype.names or ())
        values = np.stack([labels[n].astype(np.float64) for n in names], axis=1) if names else np.zeros((len(ids), 0))
        return cls(ids=list(ids), columns=names, values=values)


@dataclass
class ImageFolder:
    """Images read from a folder (uint8 NHWC, sorted by file name) and their labels, if any.

    ``label_rows[i]`` is the index into ``images`` of ``labels.ids[i]``.
    """

    path: Path
    ids: list[str]
    images: np.ndarray
    labels: LabelTable | None = None
    label_rows: np.ndarray | None = None
    note: str | None = None


def default_ids(n: int, ext: str = "png") -> list[str]:
    """Zero-padded file names (``000000.png`` ...) that sort in generation order."""
    width = max(6, len(str(max(n - 1, 0))))
    return [f"{i:0{width}d}.{ext}" for i in range(n)]


def format_labels_csv(table: LabelTable) -> str:
    """``labels.csv`` text; floats use ``repr`` so values survive a round trip bit for bit."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([IMAGE_COLUMN, *table.columns])
    for image_id, row in zip(table.ids, table.values, strict=True):
        writer.writerow([image_id, *(repr(float(v)) for v in row)])
    return buf.getvalue()


# ----------------------------------------------------------------------------------------- write


def check_output_folder(out: str | os.PathLike[str], overwrite: bool) -> Path:
    """Refuse an output folder we must not replace; called before any slow work starts.

    With ``overwrite`` a folder is replaced only if it holds nothing but PNGs and ``labels.csv``
    (a previous dataset), so a mistyped ``--out ~`` can never delete unrelated files.
    """
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise UserInputError(f"output {path} exists and is not a folder", hint="choose a new or empty folder")
    if not path.is_dir() or not any(path.iterdir()):
        return path
    if not overwrite:
        raise UserInputError(f"output folder {path} is not empty", hint="pass --overwrite to replace it")
    foreign = sorted(
        p.name
        for p in path.iterdir()
        if not (p.is_file() and (p.suffix.lower() in IMAGE_SUFFIXES or p.name == LABELS_FILE))
    )
    if foreign:
        raise UserInputError(
            f"refusing to overwrite {path}: it holds {foreign[0]!r}, which is not part of an image dataset",
            hint="choose an empty or new folder",
        )
    return path


def write_image_folder(
    out: str | os.PathLike[str],
    images: np.ndarray,
    labels: np.ndarray | LabelTable | None = None,
    ids: Sequence[str] | None = None,
    *,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
    image_format: str = "png",
) -> Path:
    """Write uint8 NHWC ``images`` as PNG or JPEG files (+ ``labels.csv``) into ``out``, all or nothing.

    ``labels`` is a structured array (one row per image) or a :class:`LabelTable`; ``ids`` default
    to ``000000.png``, ``000001.png``, ...  ``progress`` is called with 1 after each image.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise UserInputError(
            f"images must be uint8 NHWC with 1, 3 or 4 channels, got {images.dtype} {tuple(images.shape)}"
        )
    n = images.shape[0]
    if image_format not in WRITE_FORMATS:
        raise UserInputError(f"unknown image format {image_format!r}", hint=f"use {' or '.join(WRITE_FORMATS)}")
    ids = default_ids(n, image_format) if ids is None else list(ids)
    if len(ids) != n:
        raise UserInputError(f"{len(ids)} ids for {n} images")
    if len(set(ids)) != n:
        raise UserInputError("image ids must be unique")
    table: LabelTable | None
    if labels is None or isinstance(labels, LabelTable):
        table = labels
    else:
        if labels.shape[0] != n:
            raise UserInputError(f"{labels.shape[0]} label rows for {n} images")
        table = LabelTable.from_structured(labels, ids)
    target = check_output_folder(out, overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        os.chmod(tmp, 0o777 & ~_current_umask())  # mkdtemp makes 0700; a dataset should be shareable
        for image_id, image in zip(ids, images, strict=True):
            write_image(tmp / image_id, image)
            if progress:
                progress(1)
        if table is not None:
            (tmp / LABELS_FILE).write_text(format_labels_csv(table), encoding="utf-8")
        _swap_into_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _swap_into_place(tmp: Path, target: Path) -> None:
    """Rename the finished temp folder onto ``target``; an old dataset is removed only afterwards."""
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    if not target.exists():
        os.replace(tmp, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    old.rmdir()
    os.replace(target, old)
    try:
        os.replace(tmp, target)
    except BaseException:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


# ------------------------------------------------------------------------------------------ read


def _parse_value(text: str, where: str, column: str) -> float:
    cell = text.strip()
    if not cell:
        raise UserInputError(f"{where}, column {column!r}: empty value", hint="every label cell needs a number")
    try:
        value = float(cell)
    except ValueError:
        raise UserInputError(
            f"{where}, column {column!r}: {cell!r} is not a number",
            hint="label cells must be numbers: fix the cell, or drop that column",
        ) from None
    if not math.isfinite(value):
        raise UserInputError(
            f"{where}, column {column!r}: {cell!r} is not a finite number",
            hint="remove NaN / inf labels or drop the row",
        )
    return value


def _split_rows(text: str) -> list[list[str]]:
    """CSV rows, with the delimiter the header uses: comma, tab, semicolon, else whitespace."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return []
    delim = next((d for d in (",", "\t", ";") if d in lines[0]), None)
    return list(csv.reader(lines, delimiter=delim)) if delim else [ln.split() for ln in lines]


def read_labels_csv(path: str | os.PathLike[str], ignore: Sequence[str] = ()) -> LabelTable:
    """The one label reader: an id column plus numeric, finite label columns, validated.

    The id column is ``image`` when the header has one, else the first column (as the released annotation
    files; a header one field short, the CelebA layout, names only the value columns).  Comma, tab,
    semicolon and whitespace separated files are read alike.  Columns in ``ignore``
    (e.g. a text group column) are skipped.
    """
    from large_toolkit.validate import read_text_file

    p = Path(path)
    text = read_text_file(p, "labels file")
    rows = _split_rows(text)
    if not rows or not any(c.strip() for c in rows[0]):
        raise UserInputError(f"{p} is empty", hint=f"first line must be a header: {IMAGE_COLUMN},<label>,...")
    header = [c.strip() for c in rows[0]]
    if IMAGE_COLUMN not in header and len(rows) > 1 and all(len(row) == len(header) + 1 for row in rows[1:]):
        # a header one field shorter than every row names only the value columns (the CelebA / pandas-index
        # layout the released train_regression_model.py reads): the rows' first field is the id
        header = ["id", *header]
    if "" in header:
        raise UserInputError(f"{p}: header column {header.index('') + 1} has no name", hint="name every column")
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise UserInputError(f"{p}: header repeats column {dupes[0]!r}", hint="rename or drop one of them")
    key = header.index(IMAGE_COLUMN) if IMAGE_COLUMN in header else 0
    skip = {key} | {i for i, c in enumerate(header) if c in ignore}
    columns = [c for i, c in enumerate(header) if i not in skip]
    if not columns:
        raise UserInputError(f"{p} has no label columns", hint=f"add value columns after {header[key]!r}")
    ids: list[str] = []
    first_line: dict[str, int] = {}
    values: list[list[float]] = []
    for lineno, row in enumerate(rows[1:], start=2):
        where = f"{p.name} line {lineno}"
        if len(row) != len(header):
            raise UserInputError(
                f"{where}: {len(row)} fields, header has {len(header)}",
                hint="every row needs one field per header column (quote fields that contain the separator)",
            )
        image_id = row[key].strip()
        if not image_id:
            raise UserInputError(
                f"{where}: empty {header[key]!r} value", hint="every row starts with its image file name"
            )
        if id_key(image_id) in first_line:
            first = first_line[id_key(image_id)]
            raise UserInputError(
                f"{where}: duplicate image id {image_id!r} (first on line {first})", hint="keep one row per image"
            )
        first_line[id_key(image_id)] = lineno
        ids.append(image_id)
        values.append([_parse_value(c, where, header[i]) for i, c in enumerate(row) if i not in skip])
    if not ids:
        raise UserInputError(
            f"{p} has a header but no label rows", hint="add one row per labelled image: <image>,<value>,..."
        )
    return LabelTable(ids=ids, columns=columns, values=np.asarray(values, dtype=np.float64))


def id_key(name: str) -> str:
    """Image ids match with or without an image file extension: ``0001.jpg``, ``0001.png`` and ``0001`` agree."""
    name = name.strip()
    suffix = Path(name).suffix.lower()
    return name[: -len(suffix)] if suffix in IMAGE_SUFFIXES else name


def match_ids(image_ids: Sequence[str], label_ids: Sequence[str], source: str) -> np.ndarray:
    """Row of each labelled id among ``image_ids`` (extension-insensitive); an unknown id is one error."""
    index: dict[str, int] = {}
    for pos, name in enumerate(image_ids):
        key = id_key(name)
        if key in index:
            raise UserInputError(
                f"image id {key!r} appears twice ({image_ids[index[key]]}, {name})",
                hint="ids must be unique once the extension is dropped",
            )
        index[key] = pos
    missing = [i for i in label_ids if id_key(i) not in index]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        example = f" (images are named like {image_ids[0]})" if image_ids else ""
        raise UserInputError(
            f"{source} names {len(missing)} image(s) that are not among the images: {shown}" + example,
            hint="check the id column against the image file names",
        )
    return np.asarray([index[id_key(i)] for i in label_ids], dtype=np.int64)


def _size_mismatch(paths: Sequence[Path], sizes: list[tuple[int, int]]) -> UserInputError:
    """The error for images of several sizes, naming the two commonest with an example file each.

    ``sizes`` holds the sizes read so far; the rest are read here (an error path, so the cost is
    one pass the run would have made anyway) so the counts describe the whole folder.
    """
    sizes = sizes + [(img.shape[1], img.shape[0]) for img in map(read_image, paths[len(sizes) :])]
    groups: dict[tuple[int, int], list[str]] = {}
    for path, size in zip(paths, sizes, strict=True):
        groups.setdefault(size, []).append(path.name)
    ranked = sorted(groups.items(), key=lambda kv: -len(kv[1]))
    shown = ", ".join(
        f"{len(names)} {'is' if len(names) == 1 else 'are'} {w}x{h} (e.g. {names[0]})" for (w, h), names in ranked[:2]
    )
    more = f", and {len(ranked) - 2} other size(s)" if len(ranked) > 2 else ""
    (w, h), _ = ranked[0]
    return UserInputError(
        f"the images have {len(ranked)} different sizes: {shown}{more}",
        hint=f"all images must have the same size: resize them, e.g. all to {w}x{h}",
    )


def read_image_folder(
    folder: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    labels: str | os.PathLike[str] | None = None,
    *,
    resolution: int | None = None,
    resize: str = DEFAULT_RESIZE,
    find_labels: bool = True,
    progress: Callable[[int], None] | None = None,
) -> ImageFolder:
    """Read images (a folder, files or globs) as RGB uint8 NHWC, plus a labels table if given or present.

    ``labels`` defaults to ``<folder>/labels.csv`` when one folder is given and the file exists
    (``find_labels=False`` skips it).  With ``resolution`` every image is brought to that size under the
    ``resize`` policy (:mod:`large_toolkit.io.images`) and ``note`` says what was done; without it all images
    must share one size.
    """
    inputs = [folder] if isinstance(folder, (str, os.PathLike)) else list(folder)
    paths = list_images(inputs)
    path = Path(inputs[0]) if len(inputs) == 1 and Path(inputs[0]).is_dir() else paths[0].parent
    images: np.ndarray | None = None
    sizes: list[tuple[int, int]] = []
    for i, p in enumerate(paths):
        img = read_image(p)
        sizes.append((img.shape[1], img.shape[0]))
        if resolution is not None:
            img = fit_to_resolution(img, resolution, resize, p.name)
        if images is None:
            images = np.empty((len(paths), *img.shape), dtype=np.uint8)
        elif img.shape != images.shape[1:]:
            raise _size_mismatch(paths, sizes)
        images[i] = img
        if progress:
            progress(1)
    assert images is not None
    names = [p.name for p in paths]
    note = resize_note(sizes, resolution, resize) if resolution is not None else None
    result = ImageFolder(path=path, ids=names, images=images, note=note)
    labels_path = Path(labels) if labels is not None else path / LABELS_FILE
    if labels is None and not (find_labels and path.is_dir() and labels_path.is_file()):
        return result
    table = read_labels_csv(labels_path)
    result.labels = table
    result.label_rows = match_ids(names, table.ids, labels_path.name)
    return result
