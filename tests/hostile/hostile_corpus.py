"""Generator of hostile and malformed input files: every reader must refuse them in one line.

Run ``python tests/hostile/hostile_corpus.py OUT_DIR CANARY_DIR`` to write the corpus by hand;
the tests call :func:`build_corpus`.  Each entry is one file (or folder) plus the family it
targets: ``checkpoint`` (generator/encoder checkpoints: .pkl, .pt, .safetensors), ``direction``
(.npy, .npz, .pt direction files) or ``artifact`` (large-tk safetensors).  Payload pickles
touch a file in ``canary_dir`` if any of their code ever runs.

What is forged, and why it matters:

* object-dtype numpy arrays built from raw bytes (attacker-chosen ``PyObject*``: a segfault
  or worse), object arrays with pickled elements, structured dtypes hiding objects;
* tensor views that alias (stride 0, overlapping strides) or reach past their storage, in a
  plain pickle, a torch zip and a legacy torch file (a 3 KB file becoming 1.6 GB);
* storages and ``.npy`` headers declaring far more data than the file holds (10^12 elements);
* zip/npz members inflating ~1000x (zip bombs), lying safetensors headers and metadata;
* records nested 3000 deep, empty/garbage/truncated files, a folder where a file is expected;
* live payloads (``os.system``, ``exec``, ``eval``, ``subprocess``), also hidden inside an
  NVIDIA persistence record, an EasyDict, an embedded torch storage and a torch zip.
"""

from __future__ import annotations

import collections
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch


@dataclass(frozen=True)
class Hostile:
    name: str
    family: str  # checkpoint | direction | artifact
    why: str


class _Reduce:
    """Pickles as ``func(*args)``."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _dumps(obj, protocol=4) -> bytes:
    return pickle.dumps(obj, protocol=protocol)


def _storage_bytes(values: torch.Tensor) -> bytes:
    """What plain pickle stores for a torch storage: a legacy ``torch.save`` of the storage."""
    typed = torch.storage.TypedStorage(wrap_storage=values.untyped_storage(), dtype=values.dtype, _internal=True)
    buf = io.BytesIO()
    torch.save(typed, buf, _use_new_zipfile_serialization=False)
    return buf.getvalue()


class _TensorRecord:
    """Pickles as ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`` with a forged view."""

    def __init__(self, values: torch.Tensor, offset: int, size: tuple, stride: tuple) -> None:
        self.values, self.offset, self.size, self.stride = values, offset, size, stride

    def __reduce__(self):
        import torch._utils
        import torch.storage

        storage = _Reduce(torch.storage._load_from_bytes, (_storage_bytes(self.values),))
        return torch._utils._rebuild_tensor_v2, (
            storage,
            self.offset,
            self.size,
            self.stride,
            False,
            collections.OrderedDict(),
        )


def _forged_object_array() -> bytes:
    """The issue's reproduction: an int64 array pickle whose dtype is rewritten to 'O8' over 0x41 bytes."""
    raw = pickle.dumps(np.zeros(2, dtype="<i8"), protocol=4)
    return raw.replace(b"i8", b"O8").replace(b"\x00" * 16, b"\x41" * 16)


def _deep_pickle(depth: int) -> bytes:
    """``[[[[...]]]]`` nested ``depth`` deep, written opcode by opcode (pickle.dumps would recurse)."""
    return b"\x80\x02" + b"]" * depth + b"a" * (depth - 1) + b"."


def _legacy_torch(obj_pickler, storages: list[tuple[str, int, bytes]]) -> bytes:
    """A legacy ``torch.save`` stream: magic, protocol, sys info, the object pickle, storage keys, data."""
    buf = io.BytesIO()
    pickle.dump(0x1950A86A20F9469CFC6C, buf, protocol=2)
    pickle.dump(1001, buf, protocol=2)
    pickle.dump(
        {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}},
        buf,
        protocol=2,
    )
    obj_pickler(buf)
    pickle.dump([key for key, _, _ in storages], buf, protocol=2)
    for _, numel, data in storages:
        buf.write(struct.pack("<q", numel))
        buf.write(data)
    return buf.getvalue()


class _PidTensor:
    """A tensor record whose storage is a legacy persistent id declaring ``numel`` elements."""

    def __init__(self, numel: int, size: tuple, stride: tuple) -> None:
        self.numel, self.size, self.stride = numel, size, stride

    def __reduce__(self):
        import torch._utils

        marker = _PID_MARKERS.setdefault("m", object())
        return torch._utils._rebuild_tensor_v2, (marker, 0, self.size, self.stride, False, collections.OrderedDict())


_PID_MARKERS: dict = {}


def _legacy_numel_bomb() -> bytes:
    """A legacy torch file whose one storage declares 10^12 float32 elements (4 TB)."""

    def write(buf):
        pickler = pickle.Pickler(buf, protocol=2)

        def persistent_id(obj):
            if obj is _PID_MARKERS.get("m"):
                return ("storage", torch.FloatStorage, "0", "cpu", 10**12, None)
            return None

        pickler.persistent_id = persistent_id  # type: ignore[method-assign]
        pickler.dump({"w": _PidTensor(10**12, (10**12,), (1,))})

    return _legacy_torch(write, [("0", 10**12, b"\x00" * 16)])


def _zip_bomb_pt(size: int) -> bytes:
    """A torch-zip-shaped archive whose data member (deflated zeros) inflates ~1000x."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"w": 1}, protocol=2))
        zf.writestr("archive/version", "3\n")
        info = zipfile.ZipInfo("archive/data/0")
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as member:
            chunk = b"\x00" * (1 << 20)
            for _ in range(size >> 20):
                member.write(chunk)
    return out.getvalue()


def _npz_bomb(size: int) -> bytes:
    out = io.BytesIO()
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (size // 4,)})
    with zipfile.ZipFile(out, "w") as zf:
        info = zipfile.ZipInfo("lat_comp.npy")
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as member:
            member.write(header.getvalue())
            chunk = b"\x00" * (1 << 20)
            for _ in range(size >> 20):
                member.write(chunk)
    return out.getvalue()


def _npy_with_header(header: dict, payload: bytes) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + payload


def _npz(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def _safetensors(header: dict | bytes, data: bytes, declared_len: int | None = None) -> bytes:
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", declared_len if declared_len is not None else len(text)) + text + data


def _payloads(canary_dir: Path) -> dict[str, object]:
    import builtins

    def canary(name: str) -> str:
        return str(canary_dir / name)

    return {
        "payload_os_system.pkl": _Reduce(os.system, (f"touch {canary('os_system')}",)),
        "payload_exec.pkl": _Reduce(builtins.exec, (f"open({canary('exec')!r}, 'w').close()",)),
        "payload_eval.pkl": _Reduce(builtins.eval, (f"open({canary('eval')!r}, 'w')",)),
        "payload_subprocess.pkl": _Reduce(subprocess.call, (["touch", canary("subprocess")],)),
        "payload_in_record.pkl": {
            "G_ema": _Reduce(
                _GlobalCall("torch_utils.persistence", "_reconstruct_persistent_obj"),
                (
                    {
                        "type": "class",
                        "class_name": "Generator",
                        "state": {"_modules": {"x": _Reduce(os.system, (f"touch {canary('record')}",))}},
                    },
                ),
            )
        },
        "payload_in_easydict.pkl": _Reduce(
            _GlobalCall("dnnlib.util", "EasyDict"), ({"a": _Reduce(os.system, (f"touch {canary('easydict')}",))},)
        ),
        "payload_embedded_storage.pkl": _Reduce(
            _GlobalCall("torch.storage", "_load_from_bytes"),
            (_legacy_payload(canary("embedded")),),
        ),
    }


class _GlobalCall:
    """Written as the GLOBAL ``module.name`` by :func:`_pickle_with_named_globals` (no import needed here)."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle insists the reduce function is callable; never called
        raise RuntimeError("a corpus marker, not a function")


def _legacy_payload(canary: str) -> bytes:
    buf = io.BytesIO()
    torch.save({"w": _Reduce(os.system, (f"touch {canary}",))}, buf, _use_new_zipfile_serialization=False)
    return buf.getvalue()


def _zip_payload(canary: str) -> bytes:
    buf = io.BytesIO()
    torch.save({"w": _Reduce(os.system, (f"touch {canary}",))}, buf)
    return buf.getvalue()


def _pickle_with_named_globals(obj) -> bytes:
    """Protocol-3 pickle; a :class:`_GlobalCall` is written as the GLOBAL ``module name`` opcode."""

    class Named(pickle._Pickler):  # the pure-Python pickler lets us add a save hook
        def save(self, o, save_persistent_id=True):
            if isinstance(o, _GlobalCall):
                self.write(pickle.GLOBAL + f"{o.module}\n{o.name}\n".encode())
                return
            super().save(o, save_persistent_id)

    buf = io.BytesIO()
    Named(buf, protocol=3).dump(obj)
    return buf.getvalue()


def build_corpus(out_dir: Path, canary_dir: Path) -> list[Hostile]:
    """Write every hostile file into ``out_dir``; payloads point at ``canary_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    canary_dir.mkdir(parents=True, exist_ok=True)
    items: list[Hostile] = []

    def put(name: str, data: bytes, family: str, why: str) -> None:
        (out_dir / name).write_bytes(data)
        items.append(Hostile(name, family, why))

    # -- forged numpy values in plain pickles
    put("object_array_from_bytes.pkl", _forged_object_array(), "checkpoint", "object dtype built from raw bytes")
    nested = pickle.dumps({"G_ema": {"w": np.zeros(2, dtype="<i8")}}, protocol=4)
    put(
        "object_array_in_dict.pkl",
        nested.replace(b"i8", b"O8").replace(b"\x00" * 16, b"\x41" * 16),
        "checkpoint",
        "forged object array inside a G_ema dict",
    )
    put(
        "object_array_elements.pkl",
        _dumps({"G_ema": np.array([1, "x", None], dtype=object)}),
        "checkpoint",
        "object array with pickled elements",
    )
    put(
        "structured_dtype.pkl",
        _dumps(np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")])),
        "checkpoint",
        "record dtype",
    )
    put("object_scalar.pkl", _dumps(np.array(["x"], dtype=object)[0:1]), "checkpoint", "object scalar/array")
    # -- tensor views in plain pickles
    put(
        "stride0_bomb.pkl",
        _dumps({"w": _TensorRecord(torch.ones(1), 0, (20000, 20000), (0, 0))}),
        "checkpoint",
        "stride-0 view: 4 bytes become 1.6 GB",
    )
    put(
        "overlap_stride.pkl",
        _dumps({"w": _TensorRecord(torch.ones(2000), 0, (1000, 1000), (1, 1))}),
        "checkpoint",
        "overlapping strides",
    )
    put(
        "huge_view.pkl",
        _dumps({"w": _TensorRecord(torch.ones(1), 0, (10**6, 10**6), (10**6, 1))}),
        "checkpoint",
        "view of 10^12 elements over 1",
    )
    put(
        "offset_past_storage.pkl",
        _dumps({"w": _TensorRecord(torch.ones(4), 100, (4,), (1,))}),
        "checkpoint",
        "offset past the storage",
    )
    put("deep_lists.pkl", _deep_pickle(3000), "checkpoint", "3000-deep nesting")
    # -- legacy torch and torch zip
    put("legacy_numel_bomb.pt", _legacy_numel_bomb(), "checkpoint", "legacy storage declaring 10^12 elements")
    buf = io.BytesIO()
    torch.save({"w": torch.ones(1).expand(20000, 20000)}, buf)
    put("zip_stride0_bomb.pt", buf.getvalue(), "checkpoint", "torch zip holding a stride-0 view")
    buf = io.BytesIO()
    torch.save({"w": torch.ones(1).expand(20000, 20000)}, buf, _use_new_zipfile_serialization=False)
    put("legacy_stride0_bomb.pt", buf.getvalue(), "checkpoint", "legacy torch holding a stride-0 view")
    put("zip_bomb.pt", _zip_bomb_pt(64 << 20), "checkpoint", "64 MiB member in ~64 KB")
    put("payload_zip.pt", _zip_payload(str(canary_dir / "zip")), "checkpoint", "os.system in a torch zip")
    put("payload_legacy.pt", _legacy_payload(str(canary_dir / "legacy")), "checkpoint", "os.system in legacy torch")
    # -- payload pickles
    for name, obj in _payloads(canary_dir).items():
        put(name, _pickle_with_named_globals(obj), "checkpoint", "live payload")
    # -- plain junk
    put("empty.pkl", b"", "checkpoint", "empty file")
    put("garbage.pkl", b"\x80\x04garbage" * 10, "checkpoint", "garbage after a pickle header")
    put("truncated.pkl", _dumps({"w": np.zeros(100, dtype="<f4")})[:-40], "checkpoint", "truncated pickle")
    (out_dir / "a_folder.pkl").mkdir(exist_ok=True)
    items.append(Hostile("a_folder.pkl", "checkpoint", "a directory"))
    # -- safetensors
    put(
        "st_header_len_lie.safetensors",
        _safetensors({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\x00" * 16, declared_len=10**15),
        "checkpoint",
        "header length lie",
    )
    put("st_not_json.safetensors", _safetensors(b"{not json" + b" " * 7, b""), "checkpoint", "header not JSON")
    put(
        "st_offsets_past_end.safetensors",
        _safetensors({"w": {"dtype": "F32", "shape": [10**6, 10**6], "data_offsets": [0, 4 * 10**12]}}, b"\x00" * 16),
        "checkpoint",
        "tensor past the end of the file",
    )
    meta_bad = {
        "__metadata__": {"large_toolkit": "{not json"},
        "w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
    }
    put("st_meta_not_json.safetensors", _safetensors(meta_bad, b"\x00" * 16), "artifact", "metadata not JSON")
    meta_list = {
        "__metadata__": {"large_toolkit": "[1, 2]"},
        "w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
    }
    put("st_meta_not_dict.safetensors", _safetensors(meta_list, b"\x00" * 16), "artifact", "metadata not an object")
    # -- direction files (.npy / .npz / .pt)
    put(
        "npy_header_lie.npy",
        _npy_with_header({"descr": "<f4", "fortran_order": False, "shape": (10**6, 10**6)}, b"\x00" * 16),
        "direction",
        "192-byte header declaring 10^12 elements",
    )
    obj_npy = io.BytesIO()
    np.save(obj_npy, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    put("npy_object.npy", obj_npy.getvalue(), "direction", "object array (pickled elements)")
    put(
        "npy_structured.npy",
        _npy_with_header({"descr": [("a", "<f4")], "fortran_order": False, "shape": (2,)}, b"\x00" * 8),
        "direction",
        "record dtype",
    )
    obj_npz = io.BytesIO()
    np.savez(obj_npz, lat_comp=np.array([os.getcwd, None], dtype=object), lat_mean=np.zeros(2), lat_stdev=np.ones(2))
    put("npz_object.npz", obj_npz.getvalue(), "direction", "object array inside an npz")
    put("npz_bomb.npz", _npz_bomb(64 << 20), "direction", "64 MiB member in ~64 KB")
    lie = _npy_with_header({"descr": "<f4", "fortran_order": False, "shape": (10**6, 512)}, b"\x00" * 64)
    put(
        "npz_header_lie.npz",
        _npz({"lat_comp.npy": lie, "lat_mean.npy": lie, "lat_stdev.npy": lie}),
        "direction",
        "member header declaring 2 GB",
    )
    put("dir_payload.pt", _zip_payload(str(canary_dir / "dir_pt")), "direction", "os.system in a .pt direction")
    buf = io.BytesIO()
    torch.save(torch.ones(1).expand(20000, 20000), buf)
    put("dir_stride0.pt", buf.getvalue(), "direction", "stride-0 direction tensor")
    return items


def main(argv: list[str]) -> None:
    out, canary = Path(argv[1]), Path(argv[2])
    for item in build_corpus(out, canary):
        print(f"{item.family:10s} {item.name:36s} {item.why}")


if __name__ == "__main__":
    main(sys.argv)
