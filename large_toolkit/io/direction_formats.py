"""Direction files: the plugin-owned formats behind one reader and one writer.

Each finder plugin owns its tool's file formats (GANSpace ``.npz``, InterFaceGAN
``boundary.npy``, e4e ``.pt``, SeFa/rosinality, Voynov deformators) through the
``register_direction_formats`` hook: ``register(name, factory, description)``
with ``factory() -> DirectionFormat``.  Core keeps only its own ``large-tk``
safetensors format, the dispatch (which registered format claims a file) and
the helpers formats share.

Reading never executes code: ``.npy``/``.npz`` load with ``allow_pickle=False``
and ``.pt`` with :func:`load_weights_only`.  Everything becomes a
:class:`~large_toolkit.types.DirectionSet` in our conventions (rows are
directions), and the writers produce files the originals consume.
"""

from __future__ import annotations

import abc
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch

from large_toolkit.errors import ArtifactMismatchError, CheckpointError, UserInputError
from large_toolkit.types import Direction, DirectionSet, LatentSpace

if TYPE_CHECKING:
    from large_toolkit.interfaces import Generator

NATIVE = "large-tk"


class DirectionFormat(abc.ABC):
    """One file format for direction sets, provided by a plugin.

    ``suffixes``: the file suffixes it may read; :meth:`sniff` then looks at the
    content.  ``write_suffixes``: suffixes for which it is the default writer
    when :meth:`can_write` accepts the set (``()``: only written when named).
    """

    suffixes: ClassVar[tuple[str, ...]] = ()
    write_suffixes: ClassVar[tuple[str, ...]] = ()
    writable: ClassVar[bool] = True
    #: Names that identify the format inside the file (an ``.npz``'s arrays, a ``.pt`` dict's keys).
    sniff_keys: ClassVar[frozenset[str]] = frozenset()

    def sniff(self, path: Path) -> bool:
        """Whether ``path`` (with one of ``suffixes``) is in this format.

        Default: the file holds every name in ``sniff_keys`` (see :func:`stored_keys`); without
        ``sniff_keys`` the suffix alone decides.
        """
        return self.sniff_keys <= stored_keys(path) if self.sniff_keys else True

    @abc.abstractmethod
    def read(self, path: Path) -> DirectionSet:
        """The directions in ``path``."""

    def can_write(self, dirs: DirectionSet) -> bool:
        """Whether this format can hold ``dirs`` (picked by suffix only when it can)."""
        return True

    def write(self, path: Path, dirs: DirectionSet, generator: Generator | None = None) -> Path:
        """Write ``dirs`` atomically; read-only formats keep this default."""
        raise UserInputError(f"{type(self).__name__} files can be read, not written", hint="write .safetensors")


# -- helpers shared by the plugin formats ---------------------------------------------------------


def as_float_tensor(a: Any) -> torch.Tensor:
    """A numpy array or tensor as a float32 tensor."""
    return torch.as_tensor(np.asarray(a, dtype=np.float64)).float() if not isinstance(a, torch.Tensor) else a.float()


def directions_from_rows(
    vectors: torch.Tensor, space: LatentSpace, prefix: str, fmt: str, path: Path, **prov: Any
) -> list[Direction]:
    """One direction per row, named ``prefix_i`` (``prefix`` alone for one row), provenance naming the file."""
    return [
        Direction(
            vectors[i].clone(),
            space,
            f"{prefix}_{i}" if len(vectors) > 1 else prefix,
            0.0,
            None,
            None,
            {"format": fmt, "source": str(path), "index": i, **prov},
        )
        for i in range(len(vectors))
    ]


def vectors_to_set(arr: torch.Tensor, path: Path, fmt: str) -> DirectionSet:
    """``[D]``, ``[1,D]``, ``[K,D]`` -> W directions; ``[1,L,D]`` -> one W+ direction."""
    name = path.stem.removesuffix("_boundary")
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim == 3 and arr.shape[0] == 1:
        return DirectionSet(
            [Direction(arr[0].clone(), LatentSpace.WPLUS, name, 0.0, None, None, {"format": fmt, "source": str(path)})],
            None,
            "score",
            {"format": fmt},
        )
    if arr.ndim != 2:
        raise CheckpointError(f"{path}: expected a [1, D] or [K, D] direction array, got shape {list(arr.shape)}")
    return DirectionSet(directions_from_rows(arr, LatentSpace.W, name, fmt, path), None, "score", {"format": fmt})


def load_weights_only(p: Path) -> Any:
    """A ``.pt`` read weights-only on the CPU (size-checked); an unsafe or corrupt pickle ends in one line."""
    from large_toolkit.io.checkpoint import read_torch_checkpoint

    return read_torch_checkpoint(p)


def save_weights(p: Path, obj: Any) -> Path:
    """``torch.save(obj)`` atomically: the ``.pt`` files :func:`load_weights_only` reads back."""
    from large_toolkit.io.atomic import atomic_path

    with atomic_path(p) as tmp:
        torch.save(obj, str(tmp))
    return p


def npz_keys(p: Path) -> set[str]:
    """The array names in an ``.npz`` (no pickle)."""
    from large_toolkit.io.numpy_files import load_npz

    with load_npz(p) as data:
        return set(data.files)


def stored_keys(p: Path) -> set[str]:
    """What a direction file holds by name: an ``.npz``'s arrays, a ``.pt`` dict's keys (else nothing)."""
    if p.suffix.lower() == ".npz":
        return npz_keys(p)
    obj = load_weights_only(p)
    return {str(key) for key in obj} if isinstance(obj, dict) else set()


def w_rows(dirs: DirectionSet) -> torch.Tensor:
    """The directions as ``[K, D]`` rows; formats holding W directions only refuse others."""
    if any(d.space is not LatentSpace.W for d in dirs.directions):
        raise UserInputError("this format holds W directions only")
    return torch.stack([d.vector.float().cpu() for d in dirs.directions])


def per_direction(dirs: DirectionSet, key: str) -> list[float] | None:
    """Per-direction values: from each direction's provenance (survives picking one), else set metadata."""
    vals = [d.provenance.get(key) for d in dirs.directions]
    if all(v is not None for v in vals):
        return [float(v) for v in vals if v is not None]
    if key in dirs.metadata and len(dirs.metadata[key]) == len(dirs):
        return [float(x) for x in dirs.metadata[key]]
    return None


# -- dispatch -------------------------------------------------------------------------------------


def _formats() -> dict[str, DirectionFormat]:
    from large_toolkit.plugins import get_host

    return {name: reg.create() for name, reg in sorted(get_host().registries["direction_format"].items())}


def detect_format(path: str | os.PathLike[str]) -> str:
    """Name the format of a direction file: ``large-tk`` or the registered format that claims it."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".safetensors":
        return NATIVE
    candidates = {name: f for name, f in _formats().items() if suffix in f.suffixes}
    if not candidates:
        raise UserInputError(f"{p}: unknown direction file type {suffix!r}", hint=f"use .safetensors or {_suffixes()}")
    for name, fmt in candidates.items():
        if fmt.sniff(p):
            return name
    raise CheckpointError(
        f"{p}: unknown {suffix} direction file", hint=f"the installed readers are {', '.join(candidates)}"
    )


def _suffixes() -> str:
    return ", ".join(sorted({s for f in _formats().values() for s in f.suffixes})) or "no other format installed"


def check_dims(dirs: DirectionSet, generator: Generator, source: str) -> None:
    """Refuse directions whose width or W+ layer count does not fit ``generator``."""
    for d in dirs.directions:
        if d.space is LatentSpace.S:
            continue
        if d.dim != generator.w_dim:
            raise ArtifactMismatchError(
                f"{source}: directions have {d.dim} dims, the generator has w_dim {generator.w_dim}",
                hint="use directions made for a generator of this size",
            )
        if d.space is LatentSpace.WPLUS and d.vector.shape[0] != generator.num_ws:
            raise ArtifactMismatchError(
                f"{source}: W+ direction has {d.vector.shape[0]} layers, the generator has num_ws {generator.num_ws}"
            )


def load_direction_file(path: str | os.PathLike[str], generator: Generator | None = None) -> DirectionSet:
    """Read any supported direction file; checks the dimension against ``generator`` when given."""
    p = Path(path)
    if not p.is_file():
        raise UserInputError(f"direction file not found: {p}")
    name = detect_format(p)
    if name == NATIVE:
        from large_toolkit.io.artifacts import load_directions

        return load_directions(p, generator)
    dirs = _formats()[name].read(p)
    if generator is not None:
        check_dims(dirs, generator, str(p))
    return dirs


def write_formats() -> list[str]:
    """Names ``save_direction_file`` accepts as ``fmt``."""
    return [NATIVE, *(name for name, f in _formats().items() if f.writable)]


def check_format_suffix(path: str | os.PathLike[str], fmt: str | None) -> None:
    """Refuse an explicitly named ``fmt`` whose files do not carry ``path``'s suffix.

    Why: ``--format sefa-npz -o x.npy`` would write a zip under a ``.npy`` name that no tool (this one
    included) then reads as intended; a format with several suffixes (``.pt``/``.pth``) accepts any.
    Checked before any work, so a finder does not run for minutes only to be refused at the write.
    """
    if fmt is None:
        return
    formats = _formats()
    if fmt == NATIVE:
        accepted: tuple[str, ...] = (".safetensors",)
    elif fmt in formats and formats[fmt].writable:
        accepted = tuple(dict.fromkeys((*formats[fmt].write_suffixes, *formats[fmt].suffixes)))
    else:
        raise UserInputError(f"unknown direction format {fmt!r}", hint=f"use one of {', '.join(write_formats())}")
    p = Path(path)
    if accepted and p.suffix.lower() not in accepted:
        raise UserInputError(
            f"--format {fmt} writes {' or '.join(accepted)} files, not {p.suffix or 'a name without a suffix'}",
            hint=f"name the output {p.stem}{accepted[0]}, or leave out --format to pick the format by suffix",
        )


def write_format(path: str | os.PathLike[str], dirs: DirectionSet, fmt: str | None = None) -> str:
    """The format ``save_direction_file`` writes: ``fmt`` (suffix-checked) or, by suffix, the first
    registered format that can hold the set."""
    p = Path(path)
    if fmt is not None:
        check_format_suffix(p, fmt)
        return fmt
    suffix = p.suffix.lower()
    if suffix == ".safetensors":
        return NATIVE
    found = next((n for n, f in _formats().items() if suffix in f.write_suffixes and f.can_write(dirs)), None)
    if found is None:
        raise UserInputError(
            f"cannot tell the format of {p}",
            hint=f"name it .safetensors, or pass --format with one of {', '.join(write_formats())}",
        )
    return found


def save_direction_file(
    path: str | os.PathLike[str], dirs: DirectionSet, fmt: str | None = None, generator: Generator | None = None
) -> Path:
    """Write ``dirs`` in ``fmt`` (default: by suffix, see :func:`write_format`)."""
    p = Path(path)
    if not len(dirs):
        raise UserInputError("no directions to write")
    fmt = write_format(p, dirs, fmt)
    if fmt == NATIVE:
        from large_toolkit.io.artifacts import save_directions

        return save_directions(p, dirs, generator)
    return _formats()[fmt].write(p, dirs, generator)
