"""``large-tk regress`` on precomputed inputs: outputs, explicit labels, and one-line bad-input errors."""

import json

import pytest
import torch
from typer.testing import CliRunner

from large_toolkit.cli.app import build_app
from large_toolkit.io.artifacts import save_latents
from large_toolkit.io.images import read_image
from large_toolkit.types import Latents, LatentSpace


@pytest.fixture()
def inputs(tmp_path, save_linear_inputs):
    ids, y = save_linear_inputs(300)
    lines = ["image,age"] + [f"{i}.jpg,{v!r}" for i, v in zip(ids, y, strict=True)]
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    return tmp_path, ids, y


def _run(*args):
    return CliRunner().invoke(build_app(), ["regress", *map(str, args)])


def test_regress_with_label_file_writes_outputs(inputs):
    tmp, _ids, _y = inputs
    out = tmp / "run"
    res = _run(
        "--latents",
        tmp / "lat.safetensors",
        "--direction",
        f"file:{tmp / 'dirs.safetensors'}:1",
        "--labels",
        tmp / "labels.csv",
        "--label-column",
        "age",
        "--repeats",
        "50",
        "--out",
        out,
        "--json",
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    rows = {r["n"]: r for r in data["protocol"]["rows"]}
    assert rows["all"]["mae_mean"] < 1e-5 and rows[2]["mae_mean"] < 1e-5  # labels are exactly linear
    assert data["coef"][0] == pytest.approx(10.0)
    pred = (out / "predictions.csv").read_text().splitlines()
    assert pred[0] == "id,distance,prediction,label" and len(pred) == 301
    assert read_image(out / "scatter.png").shape[2] == 3  # a matplotlib chart


def test_regress_with_explicit_pairs_predicts_the_rest(inputs):
    tmp, ids, y = inputs
    res = _run(
        "--latents",
        tmp / "lat.safetensors",
        "--direction",
        tmp / "dirs.safetensors:1",
        "--label",
        f"{ids[0]}={y[0]!r}",
        "--label",
        f"{ids[5]}={y[5]!r}",
        "--json",
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["coef"][0] == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ("image,age\nimg0001,3\n", "gives 1 label(s); a fit needs at least 2"),
        ("image,age\nimg0001,3\nimg0002,nan\n", "'nan' is not a finite number"),
        ("image,age\nimg0001,3\nnope,4\n", "names 1 image(s) that are not among the images: nope"),
        ("image,age\nimg0001,3\nimg0001.jpg,4\n", "duplicate image id 'img0001.jpg'"),
    ],
)
def test_bad_labels_one_line_exit_2_nothing_written(inputs, labels, message):
    tmp, _, _ = inputs
    (tmp / "bad.csv").write_text(labels)
    out = tmp / "bad_run"
    res = _run(
        "--latents",
        tmp / "lat.safetensors",
        "--direction",
        f"{tmp / 'dirs.safetensors'}:1",
        "--labels",
        tmp / "bad.csv",
        "--out",
        out,
    )
    assert res.exit_code == 2
    assert len(res.stderr.strip().splitlines()) == 1 and message in res.stderr
    assert not out.exists()


def test_constant_distances_and_duplicate_latent_ids(inputs, tmp_path):
    tmp, _ids, _ = inputs
    save_latents(tmp_path / "flat.safetensors", Latents(torch.ones(3, 8), LatentSpace.W), ["a", "b", "c"])
    save_latents(tmp_path / "dup.safetensors", Latents(torch.randn(3, 8), LatentSpace.W), ["a", "a", "c"])
    args = ["--direction", f"{tmp / 'dirs.safetensors'}:1", "--label", "a=1", "--label", "c=2", "--out", tmp_path / "o"]
    res = _run("--latents", tmp_path / "flat.safetensors", *args)
    assert res.exit_code == 2 and "same distance" in res.stderr
    res = _run("--latents", tmp_path / "dup.safetensors", *args)
    assert res.exit_code == 2 and "image id 'a' appears twice" in res.stderr
    assert not (tmp_path / "o").exists()
