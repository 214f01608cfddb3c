"""Image folders + label tables: write a dataset as PNGs + ``labels.csv``, read one back, validated.

Layout: one 8-bit RGB PNG per image and an optional ``labels.csv`` whose first column ``image``
names a file in the folder and whose other columns are numeric labels (a subset of images may be
labelled: few-shot regression needs only a handful).  Every problem a user can make in such a
folder (wrong mode or size, a label row naming a missing image, a duplicate id, NaN / inf / text
in a label) is reported as one :class:`~large_toolkit.errors.UserInputError` line naming the file,
line and column, so the CLI can print it as is.

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

from large_toolkit.errors import LargeTkError, UserInputError
from large_toolkit.io.png import encode_png, read_png

IMAGE_COLUMN = "image"
LABELS_FILE = "labels.csv"
_UNSUPPORTED_IMAGES = {".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
_CHANNEL_NAMES = {1: "grayscale", 2: "grayscale+alpha", 3: "RGB", 4: "RGBA"}


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


def default_ids(n: int) -> list[str]:
    """Zero-padded file names (``000000.png`` ...) that sort in generation order."""
    width = max(6, len(str(max(n - 1, 0))))
    return [f"{i:0{width}d}.png" for i in range(n)]


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
        raise UserInputError(f"output {path} exists and is not a folder")
    if not path.is_dir() or not any(path.iterdir()):
        return path
    if not overwrite:
        raise UserInputError(f"output folder {path} is not empty", hint="pass --overwrite to replace it")
    foreign = sorted(p.name for p in path.iterdir() if not (p.is_file() and (p.suffix.lower() == ".png"
                                                                              or p.name == LABELS_FILE)))
    if foreign:
        raise UserInputError(f"refusing to overwrite {path}: it holds {foreign[0]!r}, which is not part of an "
                             "image dataset", hint="choose an empty or new folder")
    return path


def write_image_folder(
    out: str | os.PathLike[str],
    images: np.ndarray,
    labels: np.ndarray | LabelTable | None = None,
    ids: Sequence[str] | None = None,
    *,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Write uint8 NHWC ``images`` as PNGs (+ ``labels.csv``) into ``out``, all or nothing.

    ``labels`` is a structured array (one row per image) or a :class:`LabelTable`; ``ids`` default
    to ``000000.png``, ``000001.png``, ...  ``progress`` is called with 1 after each image.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise UserInputError(f"images must be uint8 NHWC with 1, 3 or 4 channels, got {images.dtype} "
                             f"{tuple(images.shape)}")
    n = images.shape[0]
    ids = default_ids(n) if ids is None else list(ids)
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
            (tmp / image_id).write_bytes(encode_png(image))
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
        raise UserInputError(f"{where}, column {column!r}: {cell!r} is not a number") from None
    if not math.isfinite(value):
        raise UserInputError(f"{where}, column {column!r}: {cell!r} is not a finite number",
                             hint="remove NaN / inf labels or drop the row")
    return value


def read_labels_csv(path: str | os.PathLike[str]) -> LabelTable:
    """Parse and validate a labels CSV: an ``image`` column plus numeric, finite label columns."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserInputError(f"labels file {p} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"cannot read labels file {p}: {exc}") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not any(c.strip() for c in rows[0]):
        raise UserInputError(f"{p} is empty", hint=f"first line must be a header: {IMAGE_COLUMN},<label>,...")
    header = [c.strip() for c in rows[0]]
    if IMAGE_COLUMN not in header:
        raise UserInputError(f"{p} has no {IMAGE_COLUMN!r} column", hint=f"header is: {','.join(header)}")
    if "" in header:
        raise UserInputError(f"{p}: header column {header.index('') + 1} has no name")
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise UserInputError(f"{p}: header repeats column {dupes[0]!r}")
    key = header.index(IMAGE_COLUMN)
    columns = [c for i, c in enumerate(header) if i != key]
    if not columns:
        raise UserInputError(f"{p} has no label columns", hint=f"add columns after {IMAGE_COLUMN!r}")
    ids: list[str] = []
    first_line: dict[str, int] = {}
    values: list[list[float]] = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or not any(c.strip() for c in row):
            continue
        where = f"{p.name} line {lineno}"
        if len(row) != len(header):
            raise UserInputError(f"{where}: {len(row)} fields, header has {len(header)}")
        image_id = row[key].strip()
        if not image_id:
            raise UserInputError(f"{where}: empty {IMAGE_COLUMN!r} value")
        if image_id in first_line:
            raise UserInputError(f"{where}: duplicate image id {image_id!r} (first on line {first_line[image_id]})")
        first_line[image_id] = lineno
        ids.append(image_id)
        values.append([_parse_value(c, where, header[i]) for i, c in enumerate(row) if i != key])
    if not ids:
        raise UserInputError(f"{p} has a header but no label rows")
    return LabelTable(ids=ids, columns=columns, values=np.asarray(values, dtype=np.float64))


def list_images(folder: Path) -> list[str]:
    """PNG file names in ``folder``, sorted; other image formats are an error, other files ignored."""
    if not folder.is_dir():
        raise UserInputError(f"image folder {folder} does not exist" if not folder.exists()
                             else f"{folder} is not a folder")
    names: list[str] = []
    for entry in folder.iterdir():
        if entry.name.startswith(".") or not entry.is_file():
            continue
        suffix = entry.suffix.lower()
        if suffix == ".png":
            names.append(entry.name)
        elif suffix in _UNSUPPORTED_IMAGES:
            raise UserInputError(f"{entry}: only PNG images are supported", hint="convert the folder to PNG")
    if not names:
        raise UserInputError(f"no PNG images in {folder}")
    return sorted(names)


def _read_image(path: Path) -> np.ndarray:
    """Decode one PNG; a codec error is re-raised naming the file, so the user knows which one."""
    try:
        return read_png(path)
    except LargeTkError as exc:
        if path.name in exc.message:
            raise
        raise UserInputError(f"image {path.name}: {exc.message}", hint=exc.hint) from None


def read_image_folder(
    folder: str | os.PathLike[str],
    labels: str | os.PathLike[str] | None = None,
    *,
    resolution: int | None = None,
    find_labels: bool = True,
    progress: Callable[[int], None] | None = None,
) -> ImageFolder:
    """Read every PNG in ``folder`` as RGB uint8 NHWC, plus a labels table if given or present.

    ``labels`` defaults to ``folder/labels.csv`` when it exists (``find_labels=False`` skips it).
    All images must be 8-bit RGB and the same size (``resolution`` x ``resolution`` when given).
    """
    path = Path(folder)
    names = list_images(path)
    images: np.ndarray | None = None
    for i, name in enumerate(names):
        img = _read_image(path / name)
        if img.shape[2] != 3:
            raise UserInputError(f"image {name} is {_CHANNEL_NAMES.get(img.shape[2], '?')}, expected RGB",
                                 hint="convert the folder to 8-bit RGB")
        if images is None:
            h, w = img.shape[:2]
            if resolution is not None and (h, w) != (resolution, resolution):
                raise UserInputError(f"image {name} is {w}x{h}, expected {resolution}x{resolution}")
            images = np.empty((len(names), h, w, 3), dtype=np.uint8)
        elif img.shape != images.shape[1:]:
            raise UserInputError(f"image {name} is {img.shape[1]}x{img.shape[0]}, but {names[0]} is "
                                 f"{images.shape[2]}x{images.shape[1]}", hint="all images must have the same size")
        images[i] = img
        if progress:
            progress(1)
    assert images is not None
    result = ImageFolder(path=path, ids=names, images=images)
    labels_path = Path(labels) if labels is not None else path / LABELS_FILE
    if labels is None and not (find_labels and labels_path.is_file()):
        return result
    table = read_labels_csv(labels_path)
    index = {name: i for i, name in enumerate(names)}
    rows = []
    for image_id in table.ids:
        row = index.get(image_id)
        if row is None:
            raise UserInputError(f"{labels_path.name} names image {image_id!r}, which is not in {path}")
        rows.append(row)
    result.labels = table
    result.label_rows = np.asarray(rows, dtype=np.int64)
    return result

