"""The restricted checkpoint reader never runs code from a file, and fails in one line on bad files."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch

from large_toolkit.errors import CheckpointError, UnsafePickleError
from large_toolkit.io.checkpoint import (
    PersistentRecord,
    TFNetworkStub,
    loads_restricted,
    read_checkpoint,
    read_network_pickle,
    read_torch_checkpoint,
)

FIXTURE_PICKLES = [
    "sg2_tiny_stripped.pkl",
    "sg2_tiny_stripped_legacy.pkl",
    "sg2_sg3repo_tiny_stripped.pkl",
    "sg2_tiny_tf_stripped.pkl",
    "sg3_tiny_stripped.pkl",
    "sg3r_tiny_stripped.pkl",
]


class _Reduce:
    """Pickles as ``func(*args)``: the classic code-execution payload."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _payloads(canary: Path) -> dict[str, object]:
    import builtins

    return {
        "os.system": _Reduce(os.system, (f"touch {canary}",)),
        "builtins.exec": _Reduce(builtins.exec, (f"open({str(canary)!r}, 'w').close()",)),
        "builtins.eval": _Reduce(builtins.eval, (f"open({str(canary)!r}, 'w')",)),
        "subprocess.call": _Reduce(subprocess.call, (["touch", str(canary)],)),
        "nested in a dict": {"G_ema": _Reduce(os.system, (f"touch {canary}",))},
    }


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_malicious_pickles_are_refused_and_never_run(tmp_path: Path, protocol: int) -> None:
    canary = tmp_path / "canary"
    for label, payload in _payloads(canary).items():
        path = tmp_path / f"evil_{protocol}.pkl"
        path.write_bytes(pickle.dumps(payload, protocol=protocol))
        for reader in (read_network_pickle, read_checkpoint):
            with pytest.raises(UnsafePickleError) as info:
                reader(path)
            assert "\n" not in str(info.value), label
            name = "posix.system" if label in ("os.system", "nested in a dict") else label
            if os.name == "posix" and label.startswith("os"):
                name = f"{os.system.__module__}.system"
            assert name.split(".")[-1] in str(info.value), (label, str(info.value))
        assert not canary.exists(), label


class _Plain:
    """An ordinary object: protocol 0/1 pickles it through ``copyreg._reconstructor``."""


@pytest.mark.parametrize("protocol", [0, 1])
def test_old_protocol_reconstructor_is_refused(protocol: int) -> None:
    with pytest.raises(UnsafePickleError, match=r"copy_?reg\._reconstructor"):
        loads_restricted(pickle.dumps(_Plain(), protocol=protocol))


def test_malicious_torch_file_is_refused(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    path = tmp_path / "evil.pt"
    torch.save({"w": torch.zeros(2), "x": _Reduce(os.system, (f"touch {canary}",))}, path)
    with pytest.raises(UnsafePickleError, match="system"):
        read_torch_checkpoint(path)
    with pytest.raises(UnsafePickleError):
        read_checkpoint(path)
    assert not canary.exists()


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_malicious_storage_blob_is_refused(tmp_path: Path) -> None:
    """``torch.storage._load_from_bytes`` is replaced by a weights-only load of the blob."""
    canary = tmp_path / "canary"
    blob = pickle.dumps(_Reduce(os.system, (f"touch {canary}",)))
    path = tmp_path / "evil_storage.pkl"
    path.write_bytes(pickle.dumps(_Reduce(torch.storage._load_from_bytes, (blob,))))
    with pytest.raises(CheckpointError):
        read_network_pickle(path)
    assert not canary.exists()


def _fake_persistence_pickle(meta: dict) -> bytes:
    """A pickle calling ``torch_utils.persistence._reconstruct_persistent_obj(meta)``, as NVIDIA writes it."""
    module = types.ModuleType("torch_utils.persistence")

    def _reconstruct_persistent_obj(meta):  # pragma: no cover - only its name is pickled
        raise AssertionError

    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    module._reconstruct_persistent_obj = _reconstruct_persistent_obj
    parent = types.ModuleType("torch_utils")
    parent.persistence = module
    saved = {name: sys.modules.get(name) for name in ("torch_utils", "torch_utils.persistence")}
    sys.modules.update({"torch_utils": parent, "torch_utils.persistence": module})
    try:
        return pickle.dumps(_Reduce(_reconstruct_persistent_obj, (meta,)), protocol=4)
    finally:
        for name, old in saved.items():
            if old is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = old


def test_persistent_module_source_is_never_executed(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    src = f"open({str(canary)!r}, 'w').close()\nclass Generator: pass\n"
    meta = {
        "type": "class",
        "version": 6,
        "module_src": src,
        "class_name": "Generator",
        "state": {"_parameters": {"w": torch.ones(3)}, "_buffers": {}, "_modules": {}, "_init_kwargs": {"z_dim": 1}},
    }
    record = loads_restricted(_fake_persistence_pickle(meta))
    assert isinstance(record, PersistentRecord)
    assert record.class_name == "Generator" and record.init_kwargs == {"z_dim": 1}
    assert record.module_src == src
    assert torch.equal(record.state_dict()["w"], torch.ones(3))
    assert not canary.exists()


class _Poison(types.ModuleType):
    """A module stand-in that fails the test if anything looks inside it."""

    touched: list[str] = []  # noqa: RUF012 - shared on purpose

    def __getattribute__(self, name: str):
        _Poison.touched.append(name)
        raise RuntimeError(f"poisoned module accessed: {name}")


@pytest.mark.parametrize("name", FIXTURE_PICKLES)
def test_fixture_pickles_load_with_persistence_modules_poisoned(shared_fixtures: Path, monkeypatch, name: str) -> None:
    for mod in (
        "torch_utils",
        "torch_utils.persistence",
        "dnnlib",
        "dnnlib.util",
        "dnnlib.tflib",
        "dnnlib.tflib.network",
        "training",
        "training.networks",
        "training.networks_stylegan2",
        "training.networks_stylegan3",
        "legacy",
    ):
        monkeypatch.setitem(sys.modules, mod, _Poison(mod))
    _Poison.touched.clear()
    data = read_network_pickle(shared_fixtures / "official" / name)
    assert _Poison.touched == []
    if isinstance(data, tuple):
        assert all(isinstance(net, TFNetworkStub) for net in data)
        assert data[2].components["synthesis"].variables()
        return
    assert isinstance(data["G_ema"], PersistentRecord)
    tensors = data["G_ema"].state_dict()
    assert tensors and all(isinstance(t, torch.Tensor) for t in tensors.values())
    assert "module_src" not in repr(data["G_ema"])


def test_fixture_pickle_tensors_are_bit_exact(shared_fixtures: Path) -> None:
    from safetensors.torch import load_file

    ref = load_file(shared_fixtures / "official" / "sg2_tiny.safetensors")
    for name in ("sg2_tiny_stripped.pkl", "sg2_tiny_stripped_legacy.pkl", "sg2_sg3repo_tiny_stripped.pkl"):
        got = read_network_pickle(shared_fixtures / "official" / name)["G_ema"].state_dict()
        assert set(got) == set(ref)
        assert all(torch.equal(got[k], ref[k]) for k in ref), name


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.95])
def test_truncated_files_give_one_line_checkpoint_errors(shared_fixtures: Path, tmp_path: Path, cut: float) -> None:
    for name in ("sg2_tiny_stripped.pkl", "rosi_tiny.pt"):
        data = (shared_fixtures / "official" / name).read_bytes()
        bad = tmp_path / name
        bad.write_bytes(data[: int(len(data) * cut)])
        with pytest.raises(CheckpointError) as info:
            read_checkpoint(bad)
        assert "\n" not in info.value.one_line()
        assert not isinstance(info.value, UnsafePickleError)


def test_garbage_empty_and_missing_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"this is not a checkpoint at all")
    empty = tmp_path / "empty.pkl"
    empty.write_bytes(b"")
    for path in (junk, empty, tmp_path / "missing.pkl"):
        with pytest.raises(CheckpointError):
            read_checkpoint(path)
    garbage_pickle = tmp_path / "garbage.pkl"
    garbage_pickle.write_bytes(b"\x80\x04" + os.urandom(64))
    with pytest.raises(CheckpointError):
        read_checkpoint(garbage_pickle)


def test_cuda_tagged_torch_file_loads_on_cpu(shared_fixtures: Path) -> None:
    ckpt = read_torch_checkpoint(shared_fixtures / "encoders" / "e4e_container_sample_cudatag.pt")
    assert all(t.device.type == "cpu" for t in ckpt["state_dict"].values())
    assert ckpt["latent_avg"].shape == (18, 512)


def test_legacy_torch_save_is_delegated(tmp_path: Path) -> None:
    path = tmp_path / "legacy.pt"
    torch.save({"a": torch.arange(4.0)}, path, _use_new_zipfile_serialization=False)
    assert torch.equal(read_checkpoint(path)["a"], torch.arange(4.0))


def test_no_unrestricted_loading_in_the_code_base() -> None:
    root = Path(__file__).resolve().parents[1]
    offenders = []
    for path in [*root.glob("large_toolkit/**/*.py"), *root.glob("plugins/**/*.py")]:
        text = path.read_text(encoding="utf-8")
        if "weights_only=False" in text or "pickle.load(" in text or "pickle.loads(" in text:
            offenders.append(str(path.relative_to(root)))
    assert offenders == []
