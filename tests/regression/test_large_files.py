"""LARGE's own files: a folder of ``<id>.npy`` / ``.pkl`` latents in, ``large-tk export latents`` out.

The official loader (``LatentCode.from_file``: ``np.load`` of ``<id><ext>``, a leading axis of 1
dropped, ``[18, 512]`` taken as W+) was run on an export in development and gave the same per-layer
distances to 1.3e-15; here the layout it needs is checked file by file, and the whole official
protocol is reproduced through the CLI from such a folder.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from large_toolkit.cli.app import build_app
from large_toolkit.errors import UnsafePickleError, UserInputError
from large_toolkit.io.artifacts import save_latents
from large_toolkit.io.large_latents import read_large_folder
from large_toolkit.types import Latents, LatentSpace

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _maker():
    spec = importlib.util.spec_from_file_location("make_large_protocol", FIXTURES / "make_large_protocol.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cli(*args):
    return CliRunner().invoke(build_app(), [*map(str, args)])


@pytest.fixture()
def lat_file(tmp_path):
    g = torch.Generator().manual_seed(0)
    lat = Latents(torch.randn(5, 4, 8, generator=g), LatentSpace.WPLUS)
    ids = [f"img{i:02d}" for i in range(5)]
    save_latents(tmp_path / "lat.safetensors", lat, ids)
    return tmp_path / "lat.safetensors", lat, ids


def test_export_large_writes_the_official_layout_and_reads_back(tmp_path, lat_file):
    path, lat, ids = lat_file
    res = _cli("export", "latents", path, "--format", "large", "-o", tmp_path / "large", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["outputs"] == [str(tmp_path / "large")]
    files = sorted((tmp_path / "large").iterdir())
    assert [f.name for f in files] == [f"{i}.npy" for i in ids]  # <id><latent_file_ext>, nothing else
    for f, code in zip(files, lat.tensor, strict=True):
        arr = np.load(f, allow_pickle=False)  # what the official LatentCode.from_file does
        assert arr.dtype == np.float32 and arr.shape == (4, 8)
        assert np.array_equal(arr, code.numpy())
    back, back_ids = read_large_folder(tmp_path / "large")
    assert back_ids == ids and back.space is LatentSpace.WPLUS and torch.equal(back.tensor, lat.tensor)
    again = _cli("export", "latents", path, "--format", "large", "-o", tmp_path / "large")
    assert again.exit_code == 2 and "already exists" in again.output


def test_export_npy_and_csv(tmp_path, lat_file):
    path, lat, ids = lat_file
    assert _cli("export", "latents", path, "--format", "npy", "-o", tmp_path / "codes.npy").exit_code == 0
    assert np.array_equal(np.load(tmp_path / "codes.npy"), lat.tensor.numpy())
    assert (tmp_path / "codes.ids.txt").read_text().split() == ids
    assert _cli("export", "latents", path, "--format", "csv", "-o", tmp_path / "codes.csv").exit_code == 0
    rows = (tmp_path / "codes.csv").read_text().splitlines()
    assert rows[0].split(",")[:3] == ["id", "l0_v0", "l0_v1"] and len(rows) == 6  # W+ [5, 4, 8]: layer_channel
    values = np.array([[float(v) for v in r.split(",")[1:]] for r in rows[1:]], dtype=np.float32)
    assert np.array_equal(values, lat.tensor.reshape(5, -1).numpy())
    bad = _cli("export", "latents", path, "--format", "tf", "-o", tmp_path / "x")
    assert bad.exit_code == 2 and "--format" in bad.output


def test_folder_shapes_and_pickles(tmp_path):
    folder = tmp_path / "lat"
    folder.mkdir()
    codes = np.random.default_rng(0).normal(size=(3, 18, 512)).astype(np.float32)
    np.save(folder / "a.npy", codes[0][None])  # [1, 18, 512]: the leading 1 is dropped
    np.save(folder / "b.npy", codes[1].reshape(-1))  # flattened 18*512
    (folder / "c.pkl").write_bytes(pickle.dumps(torch.from_numpy(codes[2])))  # a pickled tensor
    lat, ids = read_large_folder(folder)
    assert ids == ["a", "b", "c"] and lat.space is LatentSpace.WPLUS
    assert np.array_equal(lat.tensor.numpy(), codes)
    (folder / "d.pickle").write_bytes(pickle.dumps(codes[0][0]))  # a W code among W+ codes
    with pytest.raises(UserInputError, match=r"d\.pickle"):
        read_large_folder(folder)


class _Evil:
    def __reduce__(self):
        return (exec, ("open('ran', 'w')",))


def test_pickled_latents_never_run_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "lat"
    folder.mkdir()
    (folder / "x.pkl").write_bytes(pickle.dumps(_Evil()))
    with pytest.raises(UnsafePickleError):
        read_large_folder(folder)
    assert not (tmp_path / "ran").exists()


@pytest.mark.slow
def test_regress_exact_on_a_large_folder_prints_the_official_numbers(tmp_path):
    """The official protocol fixture, fed as LARGE keeps it: per-id .npy folder, label table, boundary.npy."""
    maker = _maker()
    ids, latents, _, _ = maker.make_data()
    folder = tmp_path / "latents"
    folder.mkdir()
    for name, code in zip(ids, latents, strict=True):
        np.save(folder / f"{name}.npy", code)
    here = FIXTURES / "large_protocol"
    expected = json.loads((here / "expected.json").read_text())
    res = _cli(
        "regress", "--latents", folder, "--direction", here / "boundary.npy", "--labels", here / "labels.txt",
        "--label-column", "age", "--train-size", 60, "--n-labels", "2,5,10,20,1000", "--exact", "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["protocol"]["rows"]
    got = [
        f"For n={r['n']}, with min distance: {r['min_distance']}. "
        f"MAE - {r['mae_mean']:.3} +- {r['mae_std']:.3} ({r['mae_max']:.3})"
        for r in rows
    ]
    assert got == [line for line in expected["printed"] if "unique" not in line]
