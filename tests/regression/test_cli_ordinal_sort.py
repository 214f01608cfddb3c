"""CLI: sort, ordinal, suggest-labels, layers on small saved inputs; bad input is one line, exit 2, no files."""

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from large_toolkit.cli.app import build_app
from large_toolkit.io.images import read_image, write_image


@pytest.fixture()
def inputs(tmp_path, save_linear_inputs):
    ids, y = save_linear_inputs(120, first_norm=8**-0.5)
    (tmp_path / "labels.csv").write_text("image,v\n" + "".join(f"{i},{v!r}\n" for i, v in zip(ids, y, strict=True)))
    return tmp_path, ids, np.array(y)


def _source(tmp, index=1):
    """``--latents`` and ``--direction`` of the saved inputs."""
    return ["--latents", tmp / "lat.safetensors", "--direction", f"file:{tmp / 'dirs.safetensors'}:{index}"]


def _run(*args):
    return CliRunner().invoke(build_app(), list(map(str, args)))


def test_sort_agrees_with_labels_and_writes_files(inputs):
    tmp, ids, y = inputs
    res = _run(
        "sort",
        *_source(tmp),
        "--labels",
        tmp / "labels.csv",
        "--strip",
        "5",
        "--images",
        tmp / "none",
        "--json",
    )
    assert res.exit_code == 0, res.output  # no --out: the strip folder is not needed
    data = json.loads(res.stdout)
    assert data["agreement"]["spearman"] == pytest.approx(1.0)
    assert [r["id"] for r in data["sorted"]] == [ids[i] for i in np.argsort(y)]
    folder = tmp / "imgs"
    folder.mkdir()
    for i, name in enumerate(ids):  # image i is filled with grey level i, so the strip shows the sorted ids
        write_image(folder / f"{name}.png", np.full((4, 4, 3), i, np.uint8))
    out = tmp / "s"
    res = _run(
        "sort",
        *_source(tmp),
        "--images",
        folder,
        "--strip",
        "4",
        "--out",
        out,
    )
    assert res.exit_code == 0, res.output
    strip = read_image(out / "strip.png")  # a captioned matplotlib chart, images upsampled (--scale 4)
    order = np.argsort(y)
    assert strip.shape[0] > 16 and strip.shape[1] > 4 * 16
    saved = json.loads((out / "sorted.json").read_text())
    assert saved["strip_ids"] == [ids[order[0]], ids[order[40]], ids[order[79]], ids[order[119]]]
    assert len((out / "sorted.csv").read_text().splitlines()) == 121


def test_ordinal_evaluates_fewshot(inputs):
    tmp, _ids, _y = inputs
    res = _run(
        "ordinal",
        *_source(tmp),
        "--classes",
        "3",
        "--labels",
        tmp / "labels.csv",
        "--n-labels",
        "2,5",
        "--repeats",
        "30",
        "--out",
        tmp / "o",
        "--json",
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["labels"]["binned"] is True and len(data["labels"]["edges"]) == 2
    assert "not class indices 0-2: binned into 3 equal-count classes at" in res.stderr  # said, not silent
    assert data["evaluation"]["unsupervised"]["accuracy"] > 0.97  # labels are exactly monotone in d
    assert data["evaluation"]["fewshot"][1]["accuracy_mean"] > 0.8
    assert len((tmp / "o" / "classes.csv").read_text().splitlines()) == 121


def test_suggest_labels_ranks_candidates(inputs):
    tmp, ids, _y = inputs
    rows = ",".join(f"{ids[i]}" for i in range(5))
    (tmp / "few.csv").write_text(
        "image,v\n" + "".join(line + "\n" for line in (tmp / "labels.csv").read_text().splitlines()[1:6])
    )
    res = _run(
        "suggest-labels",
        *_source(tmp, 0),
        "--direction",
        f"file:{tmp / 'dirs.safetensors'}:1",
        "--labels",
        tmp / "few.csv",
        "--k",
        "2",
        "--json",
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["ranked_by"] == "loo_mae" and data["direction"].endswith(":1")
    assert data["ranking"][0]["loo_mae"] < 1e-6
    assert len(data["suggestions"]["ids"]) == 2 and not set(data["suggestions"]["ids"]) & set(rows.split(","))


def test_layers_writes_weights_readable_by_regress(inputs, tmp_path, monkeypatch):
    monkeypatch.setenv("LARGE_TK_CACHE", str(tmp_path / "cache"))  # the SeFa result is cached there
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    out = tmp_path / "ly"
    res = _run(
        "layers", "--direction", "sefa:3", "--random-samples", "2", "--edit-samples", "2", "--out", out, "--json"
    )
    assert res.exit_code == 0, res.output
    w = np.loadtxt(out / "layer_weights.txt")
    assert w.shape == (8,) and w.sum() == pytest.approx(1 / 64)
    assert read_image(out / "importance.png").shape[2] == 3  # a matplotlib bar chart
    from large_toolkit.cli.latent_inputs import read_layer_weights

    assert np.allclose(read_layer_weights(out / "layer_weights.safetensors"), w)
    torch.set_num_threads(before)


@pytest.mark.parametrize(
    "args, msg",
    [
        (["sort", "--direction", "DIRS:1", "--latents", "missing.safetensors"], "not found"),
        (["ordinal", "--direction", "DIRS:1", "--latents", "LAT", "--priors", "1,2"], "priors"),
        (["ordinal", "--direction", "DIRS:1", "--latents", "LAT", "--method", "svm"], "method"),
        (
            ["suggest-labels", "--direction", "DIRS:1", "--latents", "LAT", "--label", "nope=1", "--label", "x=2"],
            "that are not among the images",
        ),
        (["layers", "--direction", "DIRS:1", "--latents", "LAT"], "--latents was given alone (add --labels"),
    ],
)
def test_bad_input_is_one_line_exit_2(inputs, args, msg):
    tmp, _ids, _y = inputs
    sub = {"DIRS:1": f"file:{tmp / 'dirs.safetensors'}:1", "LAT": str(tmp / "lat.safetensors")}
    res = _run(*[sub.get(a, a) for a in args], "--out", tmp / "o2")
    assert res.exit_code == 2, res.output
    assert msg in res.output and len(res.output.strip().splitlines()) <= 2
    assert not (tmp / "o2").exists()


@pytest.mark.parametrize(
    "value, msg",
    [
        ("7", "class 7 is not a class index 0-1 (--classes 2) (labels must be class indices 0-1; pass --classes 8"),
        ("0.5", "class 0.5 is not a class index 0-1 (--classes 2) (labels must be class indices 0-1; relabel;"),
    ],
)
def test_ordinal_label_pairs_outside_the_classes_are_refused(inputs, value, msg):
    # Before: --label pairs outside 0..K-1 were silently binned into quantile classes.
    tmp, ids, _y = inputs
    res = _run("ordinal", *_source(tmp), "--classes", "2", "--label", f"{ids[0]}=0", "--label", f"{ids[1]}={value}")
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and msg in lines[0], lines
