"""The one safe way large-tk reads third-party checkpoints.

Why this module exists: NVIDIA network pickles (``*.pkl`` from stylegan2-ada-pytorch,
stylegan3 and their TF-era conversions) embed Python source that plain ``pickle.load``
executes.  Torch ``.pt`` files can reference arbitrary globals.  Every checkpoint in
large-tk is therefore read here, and nowhere else:

* :func:`read_torch_checkpoint` -- a ``torch.save`` file (zip or legacy), through
  ``torch.load(weights_only=True, map_location='cpu')`` (CUDA-tagged storages land on CPU);
  an ``argparse.Namespace`` (rosinality ``train.py``'s ``args``) comes back as inert
  :class:`SavedNamespace` data.
* :func:`read_network_pickle` -- a plain pickle, through :class:`RestrictedUnpickler`: an
  allow-list ``find_class`` that rebuilds tensors, numpy scalars/arrays and containers, and
  turns persistence-wrapped modules into inert :class:`PersistentRecord` objects (class name,
  state, init kwargs).  The embedded source is kept as an opaque string and never run.
* :func:`read_checkpoint` -- sniffs the file (zip, legacy torch, plain pickle, safetensors)
  and dispatches to the right reader.

Anything else a pickle asks for raises :class:`UnsafePickleError` naming the global.  A
truncated or corrupt file raises :class:`CheckpointError` with one line saying what was
expected and what was found.
"""

from __future__ import annotations

import collections
import io
import math
import os
import pickle
import re
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from large_toolkit.errors import CheckpointError, UnsafePickleError

#: ``torch.save`` legacy (non-zip) files start with this pickled integer.
TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


# -- inert stand-ins for foreign classes ------------------------------------------------------


class PersistentRecord:
    """What a ``torch_utils.persistence`` object becomes: data only, no behaviour.

    ``class_name`` is the pickled class name (``Generator``, ``SynthesisBlock``...),
    ``state`` the module's ``__dict__`` (``_parameters``, ``_buffers``, ``_modules`` and the
    class's own attributes), ``init_args``/``init_kwargs`` the constructor arguments.
    ``module_src`` is kept as text so callers can report provenance; it is never executed.
    """

    def __init__(self, meta: Mapping[str, Any]) -> None:
        self.class_name: str = str(meta.get("class_name", ""))
        self.version = meta.get("version")
        self.module_src: str = str(meta.get("module_src") or "")
        state = meta.get("state") or {}
        self.state: dict[str, Any] = dict(state) if isinstance(state, Mapping) else {}
        self.init_args: tuple[Any, ...] = tuple(self.state.get("_init_args") or ())
        self.init_kwargs: dict[str, Any] = dict(self.state.get("_init_kwargs") or {})

    def attr(self, name: str, default: Any = None) -> Any:
        """One of the module's own attributes (``conv_clamp``, ``architecture``...)."""
        return self.state.get(name, default)

    @property
    def modules(self) -> dict[str, Any]:
        return dict(self.state.get("_modules") or {})

    def submodule(self, dotted: str) -> PersistentRecord | None:
        """Follow ``a.b.c`` through ``_modules``; None when a step is missing."""
        node: Any = self
        for part in dotted.split("."):
            if not isinstance(node, PersistentRecord):
                return None
            node = node.modules.get(part)
        return node if isinstance(node, PersistentRecord) else None

    def state_dict(self) -> dict[str, Any]:
        """The tensors ``module.state_dict()`` would give, with the same names."""
        return persistent_state_dict(self)

    def __repr__(self) -> str:
        return f"PersistentRecord({self.class_name!r}, {len(self.state)} state entries)"


class EasyDictStub(dict[str, Any]):
    """Stand-in for ``dnnlib.util.EasyDict``: a plain dict that also allows attribute reads."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setstate__(self, state: Any) -> None:  # EasyDict has no __dict__ state worth keeping
        if isinstance(state, Mapping):
            self.update(state)


class TFNetworkStub:
    """Stand-in for ``dnnlib.tflib.network.Network`` (TF-era pickles): keeps the state dict only.

    The state holds ``name``, ``static_kwargs``, ``components`` (more stubs) and ``variables``
    (a list of ``(name, ndarray)``).  TensorFlow is never imported.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.state: dict[str, Any] = {}

    def __setstate__(self, state: Any) -> None:
        self.state = dict(state) if isinstance(state, Mapping) else {}

    @property
    def name(self) -> str:
        return str(self.state.get("name", ""))

    @property
    def static_kwargs(self) -> dict[str, Any]:
        return dict(self.state.get("static_kwargs") or {})

    @property
    def components(self) -> dict[str, TFNetworkStub]:
        return dict(self.state.get("components") or {})

    def variables(self) -> dict[str, Any]:
        return {str(name): value for name, value in self.state.get("variables") or []}

    def __repr__(self) -> str:
        return f"TFNetworkStub({self.name!r})"


class SavedNamespace:
    """Data-only stand-in for ``argparse.Namespace`` inside ``torch.save`` files.

    rosinality's ``train.py`` saves its command line as ``args`` (a Namespace) in every checkpoint.
    ``torch.load(weights_only=True)`` is told that the global ``argparse.Namespace`` means this
    class, so no argparse code runs: the pickle can only create an empty instance (``__new__``
    refuses arguments, so a ``REDUCE`` trick gets nothing) and give it a dict of string keys whose
    values the same weights-only reader already rebuilt.  A Namespace *subclass* pickles under its
    own name, which stays refused.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> SavedNamespace:
        if args or kwargs:
            raise pickle.UnpicklingError("argparse.Namespace record with constructor arguments refused")
        return super().__new__(cls)

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
            raise pickle.UnpicklingError("argparse.Namespace record whose state is not a dict of names refused")
        self.__dict__.update(state)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __repr__(self) -> str:
        return f"SavedNamespace({', '.join(f'{k}={v!r}' for k, v in self.__dict__.items())})"


# -- allowed reconstructors ---------------------------------------------------------------------


def _reconstruct_persistent_obj(meta: Any) -> PersistentRecord:
    if not isinstance(meta, Mapping) or meta.get("type") != "class":
        raise UnsafePickleError("persistent object record is malformed (expected a dict with type='class')")
    return PersistentRecord(meta)


def _load_storage_from_bytes(data: Any) -> Any:
    """Replacement for ``torch.storage._load_from_bytes``, which would run an unrestricted torch.load."""
    import torch

    if not isinstance(data, (bytes, bytearray)):
        raise UnsafePickleError(f"tensor storage record holds {type(data).__name__}, expected bytes")
    blob = bytes(data)
    if blob[:1] == b"\x80":  # an embedded legacy torch.save stream: its declared sizes are checked first
        _scan_legacy_storages(io.BytesIO(blob), len(blob), "an embedded tensor storage")
    try:
        return torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise UnsafePickleError(f"an embedded tensor storage was refused: {_torch_refusal(exc)}") from None
    except (RuntimeError, EOFError, ValueError) as exc:
        raise CheckpointError(f"an embedded tensor storage is corrupt ({_first_line(exc)})") from None


def check_tensor_view(storage_numel: int, offset: Any, size: Any, stride: Any, what: str = "tensor") -> None:
    """Refuse views a real tensor never has: negative/zero/overlapping strides, or past the storage's end.

    Why: a stride-0 ``[20000, 20000]`` view over one number is 3 KB on disk and 1.6 GB once
    anything copies it.  A real ``state_dict`` tensor is dense: its elements never alias, so
    its element count is bounded by its storage, which is bounded by the file.
    """
    ok_ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (offset, *size, *stride))
    if not ok_ints or len(size) != len(stride) or offset < 0 or any(v < 0 for v in (*size, *stride)):
        raise CheckpointError(f"{what} declares a malformed view (size {list(size)}, stride {list(stride)})")
    if math.prod(size) == 0:
        return
    reach = 0  # the largest element offset the dims seen so far can reach
    for st, sz in sorted((st, sz) for sz, st in zip(size, stride, strict=True) if sz > 1):
        if st <= reach:
            raise CheckpointError(
                f"{what} declares a zero or overlapping stride (size {list(size)}, stride {list(stride)}): refused",
                hint="a real checkpoint stores dense tensors; this file is forged or corrupt",
            )
        reach += st * (sz - 1)
    if offset + reach >= storage_numel:
        raise CheckpointError(
            f"{what} view (offset {offset}, size {list(size)}) reaches past its storage of {storage_numel} elements"
        )


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any, *rest: Any) -> Any:
    import torch
    import torch._utils

    if not isinstance(storage, (torch.storage.TypedStorage, torch.storage.UntypedStorage)):
        raise UnsafePickleError(f"tensor record references {type(storage).__name__}, expected a storage")
    if not isinstance(size, tuple) or not isinstance(stride, tuple):
        raise CheckpointError("tensor record declares a malformed size or stride")
    with warnings.catch_warnings():  # TypedStorage.size() warns about its own deprecation
        warnings.simplefilter("ignore")
        numel = storage.size() if isinstance(storage, torch.storage.TypedStorage) else storage.nbytes()
    check_tensor_view(numel, offset, size, stride, "a tensor record")
    return torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, collections.OrderedDict())


def _rebuild_parameter(data: Any, *rest: Any) -> Any:
    import torch

    if not isinstance(data, torch.Tensor):
        raise UnsafePickleError(f"parameter record wraps {type(data).__name__}, expected a tensor")
    return data.detach()


def _builtin_set(items: Any = ()) -> set[Any]:
    return set(items)


def _builtin_frozenset(items: Any = ()) -> frozenset[Any]:
    return frozenset(items)


#: ``np.dtype(spec)`` specs a pickle may name: bool/int/uint/float/complex of an explicit size.
_PLAIN_DTYPE_SPEC = re.compile(r"^[biufc][0-9]{1,2}$")


class NumpyDtypeRecord:
    """What ``numpy.dtype(...)`` in a pickle becomes: a checked plain spec, never a real record/object dtype.

    Why: a pickled dtype's state can declare fields, sub-arrays and flags, so ``np.dtype``
    itself must not be handed pickle data.  Arrays and scalars resolve this record into a
    real dtype only after checking it is plain numeric.
    """

    def __init__(self, spec: Any, align: Any = False, copy: Any = True) -> None:
        if not isinstance(spec, str) or not _PLAIN_DTYPE_SPEC.match(spec):
            raise UnsafePickleError(
                f"numpy dtype {str(spec)[:40]!r} refused: only plain bool/int/float/complex arrays are accepted"
            )
        self.spec = spec
        self.byteorder: Literal["<", ">", "|", "="] = "="

    def __setstate__(self, state: Any) -> None:
        ok = isinstance(state, tuple) and len(state) >= 5 and state[1] in ("<", ">", "|", "=")
        if not ok or any(part is not None for part in state[2:5]):
            raise UnsafePickleError("numpy dtype record with fields or sub-arrays refused")
        self.byteorder = state[1]

    def resolve(self) -> Any:
        import numpy as np

        try:
            dtype = np.dtype(self.spec)
        except TypeError:
            raise UnsafePickleError(f"numpy dtype {self.spec!r} does not exist") from None
        order = self.byteorder
        return dtype.newbyteorder(order) if order == "<" or order == ">" else dtype


def _resolve_dtype(dtype: Any) -> Any:
    if not isinstance(dtype, NumpyDtypeRecord):
        raise UnsafePickleError(f"numpy value with dtype given as {type(dtype).__name__} refused")
    return dtype.resolve()


def _checked_shape(shape: Any) -> tuple[int, ...]:
    if not isinstance(shape, tuple) or not all(isinstance(s, int) and s >= 0 for s in shape):
        raise UnsafePickleError("numpy array record with a malformed shape refused")
    return shape


def _checked_raw(raw: Any, shape: tuple[int, ...], dtype: Any) -> bytes:
    """The array bytes, only if they are bytes and exactly fill ``shape`` (never a list of objects)."""
    if not isinstance(raw, (bytes, bytearray)):
        raise UnsafePickleError(f"numpy array data given as {type(raw).__name__} refused: expected raw bytes")
    need = math.prod(shape) * dtype.itemsize
    if len(raw) != need:
        raise CheckpointError(f"numpy array record declares {need} bytes but holds {len(raw)}")
    return bytes(raw)


def _array_class() -> type:
    """``ndarray`` subclass whose ``__setstate__`` (the pickle BUILD step) checks dtype and data first."""
    global _ARRAY_CLASS
    if _ARRAY_CLASS is None:
        import numpy as np

        class RebuiltArray(np.ndarray[Any, np.dtype[Any]]):
            """A numpy array read from a checkpoint: plain numeric dtype, data length checked."""

            def __setstate__(self, state: Any) -> None:
                if not isinstance(state, tuple) or len(state) not in (4, 5):
                    raise UnsafePickleError("numpy array record is malformed")
                version = state[0] if len(state) == 5 else 1
                shape, dtype_rec, fortran, raw = state[-4:]
                shape = _checked_shape(shape)
                dtype = _resolve_dtype(dtype_rec)
                data = _checked_raw(raw, shape, dtype)
                # numpy's C parser needs a Python bool here (its stubs ask for np.bool, which it rejects)
                checked: Any = (version, shape, dtype, bool(fortran), data)
                super().__setstate__(checked)

        _ARRAY_CLASS = RebuiltArray
    return _ARRAY_CLASS


_ARRAY_CLASS: type | None = None


class _NdarrayName:
    """What the ``numpy.ndarray`` global resolves to: only a marker for ``_reconstruct``."""


def _safe_reconstruct(subtype: Any, shape: Any, typecode: Any) -> Any:
    """``numpy.core.multiarray._reconstruct``: an empty array whose BUILD step is checked."""
    import numpy as np

    if subtype is not _NdarrayName:
        raise UnsafePickleError("numpy reconstruct of a class other than ndarray refused")
    return np.ndarray.__new__(_array_class(), (0,), dtype="b")


def _safe_scalar(dtype: Any, data: Any = None) -> Any:
    """``numpy.core.multiarray.scalar``: only plain numeric scalars from exactly-sized bytes."""
    from numpy._core import multiarray

    resolved = _resolve_dtype(dtype)
    return multiarray.scalar(resolved, _checked_raw(data, (), resolved))


def _safe_frombuffer(buf: Any, dtype: Any, shape: Any, order: Any = "C") -> Any:
    """``numpy._core.numeric._frombuffer`` (protocol-5 arrays): checked like :func:`_safe_reconstruct`."""
    import numpy as np

    resolved = _resolve_dtype(dtype)
    data = _checked_raw(
        bytes(buf) if isinstance(buf, (memoryview, pickle.PickleBuffer)) else buf, _checked_shape(shape), resolved
    )
    return np.frombuffer(data, dtype=resolved).reshape(shape, order="F" if order == "F" else "C").copy()


def _numpy_globals() -> dict[tuple[str, str], Any]:
    table: dict[tuple[str, str], Any] = {("numpy", "dtype"): NumpyDtypeRecord, ("numpy", "ndarray"): _NdarrayName}
    for mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
        table[(mod, "scalar")] = _safe_scalar
        table[(mod, "_reconstruct")] = _safe_reconstruct
    for mod in ("numpy.core.numeric", "numpy._core.numeric"):
        table[(mod, "_frombuffer")] = _safe_frombuffer
    return table


def _allowed_globals() -> dict[tuple[str, str], Any]:
    table: dict[tuple[str, str], Any] = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("builtins", "set"): _builtin_set,
        ("builtins", "frozenset"): _builtin_frozenset,
        ("__builtin__", "set"): _builtin_set,
        ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct_persistent_obj,
        ("dnnlib.util", "EasyDict"): EasyDictStub,
        ("dnnlib", "EasyDict"): EasyDictStub,
        ("dnnlib.tflib.network", "Network"): TFNetworkStub,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
        ("torch.storage", "_load_from_bytes"): _load_storage_from_bytes,
    }
    table.update(_numpy_globals())
    return table


class RestrictedUnpickler(pickle.Unpickler):
    """An allow-list unpickler: only the reconstructors in :func:`_allowed_globals`, nothing imported.

    ``find_class`` never imports the module it is asked about, so poisoned or absent
    ``torch_utils``/``dnnlib`` modules make no difference, and no pickled source is executed.
    """

    def __init__(self, file: Any) -> None:
        super().__init__(file)
        self._allowed = _allowed_globals()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"checkpoint refused: it asks for the Python global {module}.{name}, "
                "which the safe reader does not allow",
                hint="only tensors, numpy values and NVIDIA persistence records are accepted; code is never run",
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(
            f"checkpoint refused: unexpected persistent id {str(pid)[:60]!r} in a plain pickle",
            hint="torch.save files are read with read_torch_checkpoint",
        )


# -- readers ----------------------------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _torch_refusal(exc: BaseException) -> str:
    """torch's refusal reduced to what was refused (no ANSI codes, no advice to load unsafely)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    match = re.search(r"GLOBAL ([\w.]+)", text)
    if match:
        return f"it asks for the Python global {match.group(1)}"
    match = re.search(r"WeightsUnpickler error: ([^\n]*)", text)
    if match:
        return "it holds " + match.group(1).split(". ")[0].strip().rstrip(".")[:160]
    return "it holds content the weights-only reader does not allow"


def _file_inside(folder: Path) -> str:
    """The hint for a folder given as a checkpoint: the generator a ``large-tk train`` run folder holds
    (``G_ema.safetensors``), or the folder's only checkpoint-like file, by name."""
    suffixes = {".safetensors", ".pkl", ".pt", ".pth"}
    found = sorted(f for f in folder.iterdir() if f.is_file() and f.suffix in suffixes)
    trained = folder / "G_ema.safetensors"
    if trained in found:
        return f"pass {trained} (the generator a `large-tk train` run writes)"
    if len(found) == 1:
        return f"pass {found[0]}"
    return "pass the checkpoint file inside it"


def _check_file(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if p.is_dir():
        raise CheckpointError(f"checkpoint {p} is a directory", hint=_file_inside(p))
    if not p.is_file():
        raise CheckpointError(f"checkpoint not found: {p}")
    if p.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {p} is empty (0 bytes)")
    return p


def sniff_format(path: str | os.PathLike[str]) -> str:
    """``zip`` (torch.save), ``pickle`` (plain or legacy torch.save), ``safetensors`` or ``unknown``."""
    p = _check_file(path)
    with p.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    # safetensors first: its 8-byte header length may itself start with 0x80 (e.g. 0x1d80 bytes);
    # '{' is no pickle opcode, so a pickle never has it at offset 8.
    if len(head) >= 9 and head[8:9] == b"{":
        return "safetensors"
    if head[:1] == b"\x80":
        return "pickle"
    return "unknown"


#: Bytes per element of the legacy storage classes (unknown names count as 1: a lower bound).
_LEGACY_ITEMSIZE = {
    "DoubleStorage": 8,
    "FloatStorage": 4,
    "HalfStorage": 2,
    "BFloat16Storage": 2,
    "LongStorage": 8,
    "IntStorage": 4,
    "ShortStorage": 2,
    "CharStorage": 1,
    "ByteStorage": 1,
    "BoolStorage": 1,
    "ComplexFloatStorage": 8,
    "ComplexDoubleStorage": 16,
}


class _Inert:
    """Whatever a global names while *scanning* a legacy stream: records nothing, runs nothing."""

    def __new__(cls, *args: Any, **kwargs: Any) -> _Inert:
        return object.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def append(self, item: Any) -> None:
        pass

    def extend(self, items: Any) -> None:
        pass


class _StorageScanner(pickle.Unpickler):
    """Walks a legacy ``torch.save`` pickle only to add up the storage sizes it declares."""

    def __init__(self, file: Any) -> None:
        super().__init__(file)
        self.declared_bytes = 0
        self.itemsize = 1

    def find_class(self, module: str, name: str) -> Any:
        itemsize = _LEGACY_ITEMSIZE.get(name, 1)

        class Named(_Inert):
            size = itemsize

        return Named

    def persistent_load(self, pid: Any) -> Any:
        if isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage":
            numel = pid[4]
            if not isinstance(numel, int) or numel < 0:
                raise CheckpointError("legacy torch file declares a malformed storage size")
            self.declared_bytes += numel * getattr(pid[1], "size", 1)
        return _Inert()


def _scan_legacy_storages(handle: Any, file_size: int, where: str) -> None:
    """Refuse a legacy ``torch.save`` stream whose storages declare more bytes than the file holds.

    Why: torch allocates each storage at its declared size before reading it, so a 200-byte
    file could otherwise ask for terabytes.
    """
    scanner = _StorageScanner(handle)
    try:
        if scanner.load() != TORCH_LEGACY_MAGIC:
            raise CheckpointError(f"{where} is a plain pickle, not a torch.save file", hint="pass a .pt/.pth file")
        for _ in range(3):  # protocol version, sys info, then the object itself
            scanner.load()
    except CheckpointError:
        raise
    except Exception as exc:
        raise CheckpointError(f"{where} is a corrupt legacy torch file ({_first_line(exc)})") from None
    if scanner.declared_bytes > file_size:
        raise CheckpointError(
            f"{where} declares {scanner.declared_bytes} bytes of tensor data but the file has {file_size}: refused",
            hint="the file is truncated or forged",
        )


def _prescan_torch_file(p: Path) -> None:
    """Check declared sizes (zip members or legacy storages) before torch allocates anything."""
    from large_toolkit.io.numpy_files import check_zip_sizes

    if sniff_format(p) == "zip":
        try:
            with zipfile.ZipFile(p) as archive:
                check_zip_sizes(p, archive)
        except zipfile.BadZipFile as exc:
            raise CheckpointError(f"checkpoint {p.name} is a corrupt zip archive ({_first_line(exc)})") from None
        return
    with p.open("rb") as handle:
        _scan_legacy_storages(handle, p.stat().st_size, f"checkpoint {p.name}")


#: Deeper nesting than this is no checkpoint (state dicts nest a few levels; NVIDIA modules ~10).
MAX_NESTING = 200


def validate_loaded(obj: Any, where: str) -> Any:
    """Walk what a reader returned (iteratively): bounded nesting, every tensor a dense, in-bounds view."""
    import torch

    stack: list[tuple[Any, int]] = [(obj, 0)]
    seen: set[int] = set()
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if depth > MAX_NESTING:
            raise CheckpointError(f"{where} nests records more than {MAX_NESTING} levels deep: refused")
        if isinstance(node, torch.Tensor):
            storage = node.untyped_storage()
            check_tensor_view(
                storage.nbytes() // max(node.element_size(), 1),
                node.storage_offset(),
                tuple(node.shape),
                tuple(node.stride()),
                f"{where}: a tensor",
            )
            continue
        if isinstance(node, Mapping):
            children: Any = list(node.values()) + list(node.keys())
        elif isinstance(node, (list, tuple, set, frozenset)):
            children = node
        elif isinstance(node, (PersistentRecord, TFNetworkStub)):
            children = [node.state]
        else:
            continue
        stack.extend((child, depth + 1) for child in children)
    return obj


def read_torch_checkpoint(path: str | os.PathLike[str]) -> Any:
    """``torch.load(path, map_location='cpu', weights_only=True)`` with one-line errors and size checks."""
    import torch

    p = _check_file(path)
    _prescan_torch_file(p)
    try:
        with torch.serialization.safe_globals([(SavedNamespace, "argparse.Namespace")]):
            obj = torch.load(str(p), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise UnsafePickleError(
            f"checkpoint {p.name} refused: {_torch_refusal(exc)}, which the safe reader does not allow",
            hint="only tensors and plain containers are accepted; code is never run",
        ) from None
    except EOFError:
        raise CheckpointError(f"checkpoint {p.name} is truncated (ran out of data while reading)") from None
    except RecursionError:
        raise CheckpointError(f"checkpoint {p.name} nests records too deeply: refused") from None
    except (RuntimeError, ValueError, zipfile.BadZipFile, OSError) as exc:
        raise CheckpointError(
            f"checkpoint {p.name} is corrupt or truncated: expected a torch.save file, "
            f"reading failed ({_first_line(exc)})"
        ) from None
    return validate_loaded(obj, f"checkpoint {p.name}")


def read_network_pickle(path: str | os.PathLike[str]) -> Any:
    """Read a plain pickle (NVIDIA network pickle) with :class:`RestrictedUnpickler`.

    Legacy ``torch.save`` streams (which start with a magic number) are handed to
    :func:`read_torch_checkpoint`.
    """
    p = _check_file(path)
    with p.open("rb") as handle:
        try:
            obj = RestrictedUnpickler(handle).load()
        except CheckpointError as exc:
            if p.name in exc.message:
                raise
            raise type(exc)(f"checkpoint {p.name}: {exc.message}", hint=exc.hint) from None
        except MemoryError:
            raise CheckpointError(f"checkpoint {p.name} declares more data than fits in memory: refused") from None
        except EOFError:
            raise CheckpointError(f"checkpoint {p.name} is truncated: the pickle ends early") from None
        except RecursionError:
            raise CheckpointError(f"checkpoint {p.name} nests records too deeply: refused") from None
        except Exception as exc:  # UnpicklingError, ValueError, struct/Index errors from garbage bytes
            raise CheckpointError(
                f"checkpoint {p.name} is corrupt: expected a network pickle, reading failed ({_first_line(exc)})"
            ) from None
    if isinstance(obj, int) and obj == TORCH_LEGACY_MAGIC:
        return read_torch_checkpoint(p)
    return validate_loaded(obj, f"checkpoint {p.name}")


def loads_restricted(data: bytes) -> Any:
    """:class:`RestrictedUnpickler` on in-memory bytes (tests, embedded blobs)."""
    try:
        return validate_loaded(RestrictedUnpickler(io.BytesIO(data)).load(), "pickle data")
    except CheckpointError:
        raise
    except EOFError:
        raise CheckpointError("pickle data is truncated") from None
    except Exception as exc:
        raise CheckpointError(f"pickle data is corrupt ({_first_line(exc)})") from None


def read_safetensors(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """All tensors (on CPU) and the raw string metadata of a safetensors file."""
    from safetensors import SafetensorError, safe_open

    p = _check_file(path)
    try:
        with safe_open(str(p), framework="pt") as handle:
            meta = dict(handle.metadata() or {})
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118 - safe_open has no __iter__
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"checkpoint {p.name} is not a readable safetensors file ({_first_line(exc)})") from None
    return tensors, meta


def read_checkpoint(path: str | os.PathLike[str]) -> Any:
    """Any supported checkpoint file, format sniffed from its first bytes.

    Returns what the file holds: a dict/tuple of tensors and :class:`PersistentRecord` /
    :class:`TFNetworkStub` objects for pickles and ``.pt`` files, and for safetensors a
    ``{"tensors": ..., "metadata": ...}`` dict.
    """
    kind = sniff_format(path)
    if kind == "zip":
        return read_torch_checkpoint(path)
    if kind == "pickle":
        return read_network_pickle(path)
    if kind == "safetensors":
        tensors, meta = read_safetensors(path)
        return {"tensors": tensors, "metadata": meta}
    with Path(path).open("rb") as handle:
        head = handle.read(8)
    raise CheckpointError(
        f"checkpoint {Path(path).name} has an unknown format: expected a network pickle, a torch.save file or "
        f"safetensors, found bytes {head!r}"
    )


# -- walking persistence records ---------------------------------------------------------------------


def _iter_state(record: PersistentRecord, prefix: str) -> Iterator[tuple[str, Any]]:
    state = record.state
    skip = set(state.get("_non_persistent_buffers_set") or ())
    for name, value in (state.get("_parameters") or {}).items():
        if value is not None:
            yield prefix + name, value
    for name, value in (state.get("_buffers") or {}).items():
        if value is not None and name not in skip:
            yield prefix + name, value
    for name, child in (state.get("_modules") or {}).items():
        if isinstance(child, PersistentRecord):
            yield from _iter_state(child, f"{prefix}{name}.")


def persistent_state_dict(record: PersistentRecord, prefix: str = "") -> dict[str, Any]:
    """``module.state_dict()`` of a persistence record, rebuilt without running any code."""
    return dict(_iter_state(record, prefix))
