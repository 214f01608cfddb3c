"""Latents in the official LARGE code's own layouts, read and written.

The released LARGE scripts keep one latent per image in a folder, the file named by the image id
(``<id>.npy``, or ``<id>.pkl`` / ``<id>.pickle`` holding an array or tensor), beside a
whitespace-separated label table and a ``boundary.npy``.  Their loader (``LatentCode.from_file``)
drops a leading axis of 1 and then takes ``[w_dim]`` as W and ``[num_ws, w_dim]`` (or its flattened
form) as W+.  :func:`read_large_folder` accepts exactly that, so ``--latents FOLDER`` works on their
files, and :func:`write_large_folder` writes it (one float32 ``<id>.npy`` per image), so our
inversions feed their scripts.  ``.pkl`` files go through the restricted unpickler: a latent file
never runs code.  :func:`write_npy_stack` and :func:`write_csv` are the plain interchange forms;
:func:`read_npy_stack` and :func:`read_csv` read them back under the same shape rules.  None of
these forms carries the generator fingerprint (nor, for a ``.npy`` stack, the latent space), so
:data:`NO_FINGERPRINT` is what a reader tells the user.  Every ``.npy`` is read with
``allow_pickle=False`` after its header's shape and item size were checked against the file size.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from large_toolkit.errors import UserInputError
from large_toolkit.io.atomic import write_bytes_atomic, write_text_atomic
from large_toolkit.types import Latents, LatentSpace

LARGE_SUFFIXES = (".npy", ".pkl", ".pickle")
#: Said whenever latents come from a form without our metadata (LARGE folder, .npy stack, CSV).
NO_FINGERPRINT = (
    "note: {path} carries no generator fingerprint; read as {space} latents {shape}: "
    "use the generator they were inverted with"
)
_WPLUS_COLUMN = re.compile(r"l(\d+)_v(\d+)")
#: W+ layer counts the released loader recognises in a flattened code (FFHQ 1024 / 512 / 256).
_FLAT_NUM_WS = (18, 16, 14)


def load_npy(path: Path) -> np.ndarray:
    """A plain float ``.npy``; its header is checked against the file size before any data is read."""
    fmt = np.lib.format
    readers = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}
    try:
        with path.open("rb") as fh:
            version = fmt.read_magic(fh)
            if version not in readers:
                raise ValueError(f"unsupported .npy version {version[0]}.{version[1]}")
            shape, _, dtype = readers[version](fh)
            data_start = fh.tell()
    except ValueError as exc:
        raise UserInputError(f"{path}: not a readable .npy file ({exc})", hint="save it with numpy.save") from None
    if dtype.hasobject or dtype.kind != "f":
        raise UserInputError(f"{path}: holds {dtype} values, expected floats", hint="latents are float arrays")
    expected = data_start + math.prod(shape) * dtype.itemsize
    size = path.stat().st_size
    if size != expected:
        raise UserInputError(
            f"{path}: header says {list(shape)} {dtype} ({expected} bytes) but the file has {size} bytes",
            hint="the file is truncated or not what numpy.save wrote; export it again",
        )
    return np.load(path, allow_pickle=False)


def _read_one(path: Path) -> np.ndarray:
    if path.suffix == ".npy":
        return load_npy(path)
    from large_toolkit.io.checkpoint import loads_restricted

    value = loads_restricted(path.read_bytes())
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
        raise UserInputError(f"{path}: expected a float array or tensor, found {type(value).__name__}")
    return value


def _as_code(value: np.ndarray, path: Path, w_dim: int | None) -> np.ndarray:
    """The released loader's shape rules: ``[1, ...]`` -> ``[...]``; ``[D]`` W, ``[L, D]`` / flat ``[L*D]`` W+."""
    if value.ndim >= 2 and value.shape[0] == 1:
        value = value[0]
    if value.ndim == 1 and w_dim is not None and value.shape[0] != w_dim and value.shape[0] % w_dim == 0:
        value = value.reshape(-1, w_dim)
    if value.ndim == 1 and value.shape[0] in tuple(n * 512 for n in _FLAT_NUM_WS):
        value = value.reshape(-1, 512)
    if value.ndim not in (1, 2):
        raise UserInputError(
            f"{path}: latent of shape {list(value.shape)}; expected [w_dim] (W) or [num_ws, w_dim] (W+)",
            hint="StyleSpace latents cannot be read from a LARGE folder",
        )
    return value


def read_large_folder(folder: str | os.PathLike[str]) -> tuple[Latents, list[str]]:
    """``<id>.npy|.pkl|.pickle`` files -> latents (W or W+, float32) and ids, sorted by id."""
    root = Path(folder)
    files = sorted(p for p in root.iterdir() if p.is_file() and p.suffix in LARGE_SUFFIXES)
    if not files:
        raise UserInputError(
            f"{root} holds no latent files", hint="expected one <image id>.npy (or .pkl) per image, as LARGE keeps them"
        )
    seen: dict[str, Path] = {}
    for p in files:
        if p.stem in seen:
            raise UserInputError(f"{root}: image id {p.stem!r} has two files ({seen[p.stem].name}, {p.name})")
        seen[p.stem] = p
    codes: list[np.ndarray] = []
    w_dim: int | None = None
    for p in files:
        code = _as_code(_read_one(p), p, w_dim)
        w_dim = int(code.shape[-1])
        if codes and code.shape != codes[0].shape:
            raise UserInputError(
                f"{p}: latent of shape {list(code.shape)}, but {files[0].name} has {list(codes[0].shape)}",
                hint="every latent in the folder must come from the same generator and space",
            )
        codes.append(code)
    ids = [p.stem for p in files]
    return _latents(np.stack(codes), ids, root), ids


def _latents(stack: np.ndarray, ids: Sequence[str], source: Path) -> Latents:
    """``[N, D]`` -> W, ``[N, L, D]`` -> W+ (float32); a NaN or inf code is refused by image id."""
    finite = np.isfinite(stack.reshape(len(stack), -1)).all(axis=1)
    if not finite.all():
        bad = ids[int(np.argmin(finite))]
        raise UserInputError(f"{source}: the latent of image {bad!r} contains NaN or inf", hint="re-invert that image")
    tensor = torch.from_numpy(np.ascontiguousarray(stack, dtype=np.float32))
    return Latents(tensor, LatentSpace.W if tensor.ndim == 2 else LatentSpace.WPLUS)


def _checked_ids(latents: Latents, ids: Sequence[str] | None) -> list[str]:
    names = [str(i) for i in ids] if ids is not None else [f"{i:06d}" for i in range(len(latents))]
    if len(names) != len(latents):
        raise UserInputError(f"{len(names)} ids for {len(latents)} latents")
    if len(set(names)) != len(names):
        raise UserInputError("image ids repeat, so they cannot name one file each")
    bad = [n for n in names if not n or n in (".", "..") or "/" in n or "\\" in n or n != n.strip()]
    if bad:
        raise UserInputError(f"image id {bad[0]!r} cannot be a file name")
    return names


def write_large_folder(folder: str | os.PathLike[str], latents: Latents, ids: Sequence[str] | None) -> Path:
    """One float32 ``<id>.npy`` per image (``[w_dim]`` / ``[num_ws, w_dim]``); all or nothing."""
    if latents.space not in (LatentSpace.W, LatentSpace.WPLUS):
        raise UserInputError(
            f"the LARGE folder layout holds W or W+ codes, these are {latents.space.value}",
            hint="use --format npy or csv for StyleSpace latents",
        )
    target = Path(folder)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UserInputError(f"{target} already exists and is not an empty folder", hint="choose a new -o folder")
    names = _checked_ids(latents, ids)
    codes = latents.tensor.detach().to("cpu", torch.float32).numpy()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for name, code in zip(names, codes, strict=True):
            np.save(staging / f"{name}.npy", code)
        if target.exists():
            target.rmdir()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def write_npy_stack(path: str | os.PathLike[str], latents: Latents) -> Path:
    """All codes as one float32 ``.npy`` (``[N, w_dim]``, ``[N, num_ws, w_dim]`` or ``[N, channels]``)."""
    buf = io.BytesIO()
    np.save(buf, latents.tensor.detach().to("cpu", torch.float32).numpy())
    write_bytes_atomic(path, buf.getvalue())
    return Path(path)


def write_csv(path: str | os.PathLike[str], latents: Latents, ids: Sequence[str] | None) -> Path:
    """``id, v0, v1, ...``: one row per image, the code flattened in C order, 9 digits (exact for float32).

    The header keeps the layout :func:`read_csv` needs: ``v<c>`` for W, ``l<layer>_v<c>`` for W+,
    ``s<c>`` for StyleSpace (a one-way export: the style layer layout is not in the file).
    """
    names = _checked_ids(latents, ids)
    t = latents.tensor.detach().to("cpu", torch.float32)
    flat = t.reshape(len(latents), -1).numpy()
    if latents.space is LatentSpace.WPLUS:
        columns = [f"l{layer}_v{c}" for layer in range(t.shape[1]) for c in range(t.shape[2])]
    else:
        columns = [f"{'s' if latents.space is LatentSpace.S else 'v'}{i}" for i in range(flat.shape[1])]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(["id", *columns])
    for name, row in zip(names, flat, strict=True):
        csv.writer(buf, lineterminator="").writerow([name])
        buf.write(",")
        np.savetxt(buf, row[None], fmt="%.9g", delimiter=",")
    write_text_atomic(path, buf.getvalue())
    return Path(path)


def _read_ids(path: Path, count: int, source: Path) -> list[str] | None:
    """One image id per line (``<name>.ids.txt`` beside a stack); None when there is no such file."""
    if not path.is_file():
        return None
    ids = [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines()]
    while ids and not ids[-1]:
        ids.pop()
    if len(ids) != count:
        raise UserInputError(
            f"{path} lists {len(ids)} ids for the {count} latents in {source}",
            hint="write one image id per line, in the stack's row order",
        )
    _refuse_bad_ids(ids, path)
    return ids


def _refuse_bad_ids(ids: Sequence[str], where: Path) -> None:
    if "" in ids:
        raise UserInputError(f"{where}: image id number {ids.index('') + 1} is empty", hint="give every image an id")
    seen: set[str] = set()
    for name in ids:
        if name in seen:
            raise UserInputError(f"{where}: image id {name!r} appears twice", hint="ids must be unique")
        seen.add(name)


def read_npy_stack(path: str | os.PathLike[str]) -> tuple[Latents, list[str]]:
    """What ``export --format npy`` writes: ``[N, ...]`` codes, ids from ``<name>.ids.txt`` (else row numbers).

    Each row follows the LARGE loader's rules (a leading 1 dropped, ``[w_dim]`` W, ``[num_ws, w_dim]``
    or its flat 18/16/14 x 512 form W+).
    """
    src = Path(path)
    stack = load_npy(src)
    if stack.ndim < 2 or stack.shape[0] == 0:
        raise UserInputError(
            f"{src}: array of shape {list(stack.shape)}; a latent stack is [N, w_dim] (W) or [N, num_ws, w_dim] (W+)",
            hint="a single LARGE <id>.npy belongs in a folder: pass the folder to --latents",
        )
    row = _as_code(stack[0], src, None)
    stack = stack.reshape(len(stack), *row.shape)
    ids = _read_ids(src.with_suffix(".ids.txt"), len(stack), src) or [str(i) for i in range(len(stack))]
    return _latents(stack, ids, src), ids


def _csv_layout(header: list[str], src: Path) -> tuple[int, ...] | None:
    """The code shape a header names: ``l<layer>_v<c>`` columns give W+ ``(L, D)``; None means flat."""
    cols = header[1:]
    if cols and all(re.fullmatch(r"s\d+", c) for c in cols):
        raise UserInputError(
            f"{src} holds StyleSpace latents, which a CSV cannot carry back (no style layer layout)",
            hint="use the .safetensors latent file from large-tk invert",
        )
    found = [_WPLUS_COLUMN.fullmatch(c) for c in cols]
    if not any(found):
        return None
    num_ws = max(int(m.group(1)) for m in found if m) + 1
    w_dim = len(cols) // num_ws
    expected = [f"l{layer}_v{c}" for layer in range(num_ws) for c in range(w_dim)]
    if cols != expected:
        raise UserInputError(
            f"{src}: W+ columns are not l0_v0 ... l{num_ws - 1}_v{w_dim - 1} in order",
            hint="export the latents again with large-tk export latents --format csv",
        )
    return num_ws, w_dim


def read_csv(path: str | os.PathLike[str]) -> tuple[Latents, list[str]]:
    """What ``export --format csv`` writes: a header ``id, ...`` and one ``id, values...`` row per image."""
    src = Path(path)
    rows = [r for r in csv.reader(src.read_text(encoding="utf-8-sig").splitlines()) if r]
    if len(rows) < 2 or len(rows[0]) < 2 or rows[0][0].strip().lower() != "id":
        raise UserInputError(
            f"{src} is not a latent CSV", hint="expected a header 'id,v0,v1,...' and one row per image"
        )
    header = [h.strip() for h in rows[0]]
    layout = _csv_layout(header, src)
    for lineno, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise UserInputError(f"{src} line {lineno} has {len(row)} fields, the header has {len(header)}")
    ids = [r[0].strip() for r in rows[1:]]
    _refuse_bad_ids(ids, src)
    try:
        values = np.asarray([r[1:] for r in rows[1:]], dtype=np.float64)
    except ValueError:
        lineno, col, text = next(
            (n, c, t) for n, r in enumerate(rows[1:], start=2) for c, t in enumerate(r[1:], 1) if not _is_number(t)
        )
        raise UserInputError(f"{src} line {lineno}, column {header[col]}: {text!r} is not a number") from None
    if layout is not None:
        stack = values.reshape(len(values), *layout)
    else:
        stack = values.reshape(len(values), *_as_code(values[0], src, None).shape)
    return _latents(stack, ids, src), ids


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_latent_source(path: str | os.PathLike[str]) -> tuple[Latents, list[str], str] | None:
    """A LARGE folder, ``.npy`` stack or CSV -> latents, ids and the provenance note; None for other files."""
    src = Path(path)
    if src.is_dir():
        lat, ids = read_large_folder(src)
    elif src.suffix.lower() == ".npy" and src.is_file():
        lat, ids = read_npy_stack(src)
    elif src.suffix.lower() == ".csv" and src.is_file():
        lat, ids = read_csv(src)
    else:
        return None
    note = NO_FINGERPRINT.format(path=src, space=lat.space.value, shape=list(lat.tensor.shape))
    return lat, ids, note
