"""``export latents`` in every format, read back by ``--latents``: the same numbers as the original file.

The exports carry no generator fingerprint, so reading one must say so (a note on stderr), and a
malformed export must stop with one error line, exit code 2 and no output folder.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from large_toolkit.cli.app import build_app
from large_toolkit.errors import UserInputError
from large_toolkit.io.artifacts import save_directions, save_latents
from large_toolkit.io.large_latents import read_csv, read_npy_stack
from large_toolkit.types import Direction, DirectionSet, Latents, LatentSpace

N, NUM_WS, DIM = 40, 4, 8
EXPORTS = {"npy": "codes.npy", "csv": "codes.csv", "large": "codes"}


def _run(*args):
    return CliRunner().invoke(build_app(), [*map(str, args)])


@pytest.fixture(params=[LatentSpace.WPLUS, LatentSpace.W], ids=["wplus", "w"])
def inputs(tmp_path, request):
    g = torch.Generator().manual_seed(0)
    shape = (N, NUM_WS, DIM) if request.param is LatentSpace.WPLUS else (N, DIM)
    lat = torch.randn(*shape, generator=g)
    ids = [f"img{i:03d}" for i in range(N)]
    save_latents(tmp_path / "lat.safetensors", Latents(lat, request.param), ids)
    vec = torch.zeros(DIM)
    vec[0] = 1.0
    save_directions(tmp_path / "dirs.safetensors", DirectionSet([Direction(vec, "w")]))
    d = lat[..., 0].reshape(N, -1).mean(1).double().numpy()
    y = d * 10 + 40 + np.random.default_rng(0).normal(0, 0.5, N)
    (tmp_path / "labels.csv").write_text(
        "image,v\n" + "".join(f"{i},{v!r}\n" for i, v in zip(ids, y.tolist(), strict=True))
    )
    return tmp_path, lat, ids


def _regress(tmp: Path, latents: Path, out: Path):
    res = _run(
        "regress", "--latents", latents, "--direction", f"file:{tmp / 'dirs.safetensors'}:0",
        "--labels", tmp / "labels.csv", "--repeats", "20", "--out", out, "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    for key in ("seconds", "outputs"):
        data.pop(key)
    return data, (out / "predictions.csv").read_text(), res.stderr


def _sort(tmp: Path, latents: Path):
    res = _run(
        "sort", "--latents", latents, "--direction", f"file:{tmp / 'dirs.safetensors'}:0",
        "--labels", tmp / "labels.csv", "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)["sorted"], res.stderr


@pytest.mark.parametrize("fmt", list(EXPORTS))
def test_export_then_read_back_gives_identical_results(inputs, fmt):
    tmp, _lat, _ids = inputs
    exported = tmp / EXPORTS[fmt]
    res = _run("export", "latents", tmp / "lat.safetensors", "--format", fmt, "-o", exported)
    assert res.exit_code == 0, res.output
    want, want_pred, quiet = _regress(tmp, tmp / "lat.safetensors", tmp / "run_orig")
    got, got_pred, note = _regress(tmp, exported, tmp / "run_back")
    assert got == want and got_pred == want_pred  # every distance, fit and prediction, to the last digit
    assert "no generator fingerprint" not in quiet
    assert f"{exported} carries no generator fingerprint" in note
    assert _sort(tmp, exported)[0] == _sort(tmp, tmp / "lat.safetensors")[0]


def test_export_of_an_export_is_lossless(inputs):
    """csv -> large -> npy -> csv: the codes and ids survive every hop bit for bit."""
    tmp, lat, ids = inputs
    hops = [("csv", tmp / "a.csv"), ("large", tmp / "b"), ("npy", tmp / "c.npy"), ("csv", tmp / "d.csv")]
    src = tmp / "lat.safetensors"
    for fmt, out in hops:
        assert _run("export", "latents", src, "--format", fmt, "-o", out).exit_code == 0
        src = out
    assert (tmp / "a.csv").read_text() == (tmp / "d.csv").read_text()
    back, back_ids = read_npy_stack(tmp / "c.npy")
    assert back_ids == ids and torch.equal(back.tensor, lat)


def test_stack_without_ids_uses_row_numbers_and_flat_large_codes_become_wplus(tmp_path):
    codes = np.random.default_rng(1).normal(size=(3, 18 * 512)).astype(np.float32)
    np.save(tmp_path / "flat.npy", codes)  # the released loader's flattened FFHQ-1024 W+ form
    lat, ids = read_npy_stack(tmp_path / "flat.npy")
    assert ids == ["0", "1", "2"] and lat.space is LatentSpace.WPLUS and lat.tensor.shape == (3, 18, 512)
    np.save(tmp_path / "w.npy", codes[:, None, :DIM])  # [N, 1, D]: the leading 1 of each code is dropped
    assert read_npy_stack(tmp_path / "w.npy")[0].space is LatentSpace.W


def _npy_bytes(arr: np.ndarray) -> bytes:
    """What ``np.save`` writes, in memory (object arrays included, to prove they are refused)."""
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


GOOD = np.zeros((3, DIM), np.float32) + np.arange(3, dtype=np.float32)[:, None]
CASES = {
    "one code": ("codes.npy", _npy_bytes(GOOD[0]), "a latent stack is [N, w_dim]"),
    "3-d codes": ("codes.npy", _npy_bytes(np.zeros((3, 2, 2, 2), np.float32)), "latent of shape [2, 2, 2]"),
    "truncated": ("codes.npy", _npy_bytes(GOOD)[:-5], "but the file has"),
    "padded": ("codes.npy", _npy_bytes(GOOD) + b"\0" * 4, "but the file has"),
    "not npy": ("codes.npy", b"PK\x03\x04 zip", "not a readable .npy file"),
    "pickled objects": ("codes.npy", _npy_bytes(np.array([{"a": 1}] * 3, dtype=object)), "expected floats"),
    "ints": ("codes.npy", _npy_bytes(np.ones((3, DIM), np.int64)), "expected floats"),
    "nan": ("codes.npy", _npy_bytes(np.where(np.eye(3, DIM) > 0, np.nan, GOOD)), "'a' contains NaN"),
    "ids count": ("short.npy", _npy_bytes(GOOD), "lists 2 ids for the 3 latents"),
    "csv text": ("codes.csv", "id,v0,v1\na,1,2\nb,1,x\nc,3,4\n", "line 3, column v1: 'x' is not a number"),
    "csv ragged": ("codes.csv", "id,v0,v1\na,1,2\nb,1\nc,3,4\n", "line 3 has 2 fields, the header has 3"),
    "csv nan": ("codes.csv", "id,v0,v1\na,1,2\nb,1,nan\nc,3,4\n", "'b' contains NaN or inf"),
    "csv inf": ("codes.csv", "id,v0,v1\na,1,2\nb,1,2\nc,-inf,4\n", "'c' contains NaN or inf"),
    "csv no header": ("codes.csv", "a,1,2\nb,1,2\n", "is not a latent CSV"),
    "csv dup id": ("codes.csv", "id,v0,v1\na,1,2\na,1,3\n", "image id 'a' appears twice"),
    "csv styles": ("codes.csv", "id,s0,s1\na,1,2\nb,1,3\n", "StyleSpace latents"),
    "csv wplus order": ("codes.csv", "id,l0_v0,l1_v0,l0_v1,l1_v1\na,1,2,3,4\nb,1,2,3,4\n", "not l0_v0 ... l1_v1"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_malformed_exports_are_one_line_errors(tmp_path, case, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name, content, message = CASES[case]
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    if name == "codes.npy":
        (tmp_path / "codes.ids.txt").write_text("a\nb\nc\n")
    else:
        (tmp_path / "short.ids.txt").write_text("a\nb\n")
    save_directions(tmp_path / "dirs.safetensors", DirectionSet([Direction(torch.ones(DIM), "w")]))
    out = tmp_path / "run"
    res = _run(
        "regress", "--latents", path, "--direction", f"file:{tmp_path / 'dirs.safetensors'}:0",
        "--label", "a=1", "--label", "b=2", "--out", out,
    )  # fmt: skip
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], res.stderr
    assert not out.exists()


def test_pickled_npy_is_refused_before_any_unpickling(tmp_path, monkeypatch):
    class Evil:
        def __reduce__(self):
            return (exec, ("open('ran', 'w')",))

    monkeypatch.chdir(tmp_path)
    (tmp_path / "codes.npy").write_bytes(_npy_bytes(np.array([Evil()], dtype=object)))
    with pytest.raises(UserInputError, match="expected floats"):
        read_npy_stack(tmp_path / "codes.npy")
    assert not (tmp_path / "ran").exists()


def test_duplicate_ids_file_is_refused(tmp_path):
    np.save(tmp_path / "codes.npy", GOOD)
    (tmp_path / "codes.ids.txt").write_text("a\na\nc\n")
    with pytest.raises(UserInputError, match="'a' appears twice"):
        read_npy_stack(tmp_path / "codes.npy")
    (tmp_path / "codes.ids.txt").write_text("a\n\nc\n")
    with pytest.raises(UserInputError, match="number 2 is empty"):
        read_npy_stack(tmp_path / "codes.npy")


def test_csv_reads_plain_and_wplus_headers(tmp_path):
    (tmp_path / "w.csv").write_text("id,v0,v1\na,0.5,1e-3\nb,-2,3\n")
    lat, ids = read_csv(tmp_path / "w.csv")
    assert ids == ["a", "b"] and lat.space is LatentSpace.W
    assert lat.tensor.tolist() == [[0.5, pytest.approx(1e-3)], [-2.0, 3.0]]
    (tmp_path / "wp.csv").write_text("id,l0_v0,l0_v1,l1_v0,l1_v1\na,1,2,3,4\n")
    lat, _ = read_csv(tmp_path / "wp.csv")
    assert lat.space is LatentSpace.WPLUS and lat.tensor.tolist() == [[[1.0, 2.0], [3.0, 4.0]]]
