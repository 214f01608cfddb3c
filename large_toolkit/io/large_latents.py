"""Latents in the official LARGE code's own layouts, read and written.

The released LARGE scripts keep one latent per image in a folder, the file named by the image id
(``<id>.npy``, or ``<id>.pkl`` / ``<id>.pickle`` holding an array or tensor), beside a
whitespace-separated label table and a ``boundary.npy``.  Their loader (``LatentCode.from_file``)
drops a leading axis of 1 and then takes ``[w_dim]`` as W and ``[num_ws, w_dim]`` (or its flattened
form) as W+.  :func:`read_large_folder` accepts exactly that, so ``--latents FOLDER`` works on their
files, and :func:`write_large_folder` writes it (one float32 ``<id>.npy`` per image), so our
inversions feed their scripts.  ``.pkl`` files go through the restricted unpickler: a latent file
never runs code.  :func:`write_npy_stack` and :func:`write_csv` are the plain interchange forms.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from large_toolkit.errors import CheckpointError, UserInputError
from large_toolkit.io.atomic import write_bytes_atomic, write_text_atomic
from large_toolkit.types import Latents, LatentSpace

LARGE_SUFFIXES = (".npy", ".pkl", ".pickle")
#: W+ layer counts the released loader recognises in a flattened code (FFHQ 1024 / 512 / 256).
_FLAT_NUM_WS = (18, 16, 14)


def _read_one(path: Path) -> np.ndarray:
    if path.suffix == ".npy":
        try:
            value = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise CheckpointError(f"{path}: not a plain numeric .npy ({exc})") from None
    else:
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
    stack = torch.from_numpy(np.stack(codes).astype(np.float32, copy=False))
    space = LatentSpace.W if stack.ndim == 2 else LatentSpace.WPLUS
    return Latents(stack, space), [p.stem for p in files]


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
    """``id, v0, v1, ...``: one row per image, the code flattened in C order, 9 digits (exact for float32)."""
    names = _checked_ids(latents, ids)
    flat = latents.tensor.detach().to("cpu", torch.float32).reshape(len(latents), -1).numpy()
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(["id", *(f"v{i}" for i in range(flat.shape[1]))])
    for name, row in zip(names, flat, strict=True):
        csv.writer(buf, lineterminator="").writerow([name])
        buf.write(",")
        np.savetxt(buf, row[None], fmt="%.9g", delimiter=",")
    write_text_atomic(path, buf.getvalue())
    return Path(path)
