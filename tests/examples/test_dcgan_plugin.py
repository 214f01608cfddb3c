"""The example non-StyleGAN plugin (``examples/large_tk_dcgan``) end to end, installed like a user would.

A DCGAN has one latent space (z), no mapping network, no W+, no style layers: every general command
works on it without faking any, and the style-only ones refuse with one line.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner


def _run(*args):
    from large_toolkit.cli.app import build_app

    return CliRunner().invoke(build_app(), ["--device", "cpu", *map(str, args)])


def _ok(result):
    assert result.exit_code == 0, result.output
    return result


def _one_line_refusal(result, *words):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def dcgan(dcgan_installed):
    from large_toolkit.plugins import load_generator

    return load_generator("dcgan", None, "cpu")


def test_passes_the_conformance_checks(dcgan) -> None:
    from large_toolkit.testing import check_generator

    check_generator(dcgan)
    assert dcgan.capabilities == frozenset({"export"}) and dcgan.style_layers == ()
    assert dcgan.latent_spaces() == {"z": (32,), "w": (32,)}


def test_generate_with_bundled_and_recognised_checkpoint(dcgan_installed, tmp_path) -> None:
    from large_tk_dcgan import BUNDLED

    res = _ok(_run("generate", "--backend", "dcgan", "--seeds", "0-3", "--out", tmp_path / "grid.png", "--json"))
    assert json.loads(res.stdout)["shape"] == [4, 3, 32, 32]
    # no --backend: the plugin's recognizes hook claims its own checkpoint
    res = _ok(_run("generate", "--checkpoint", BUNDLED, "--seeds", "0-1", "--out", tmp_path / "g.npy", "--json"))
    assert json.loads(res.stdout)["backend"] == "dcgan"
    _one_line_refusal(_run("generate", "--backend", "dcgan", "--psi", "0.7", "--out", tmp_path / "t.png"), "truncation")


@pytest.mark.parametrize(
    ("finder", "options"),
    [
        ("ganspace", ["num_samples=2000", "batch_size=500", "components=8"]),
        ("interfacegan", ["scorer=large_tk_dcgan.scorers:brightness", "num_samples=400", "ratio=0.25"]),
        pytest.param(
            "voynov", ["steps=20", "directions=4", "batch_size=8", "eval_per_direction=2"], marks=pytest.mark.slow
        ),
        ("random", ["count=4"]),
    ],
)
def test_directions_find_on_a_generator_without_style_layers(dcgan_installed, tmp_path, finder, options) -> None:
    args = ["directions", "find", finder, "--backend", "dcgan", "--json", "--out", tmp_path / f"{finder}.safetensors"]
    for option in options:
        args += ["--option", option]
    data = json.loads(_ok(_run(*args)).stdout)
    assert data["count"] >= 1
    assert all(row["space"] == "w" and row["dominant_layers"] in ("all", "w0") for row in data["directions"])
    shown = json.loads(_ok(_run("directions", "show", tmp_path / f"{finder}.safetensors", "--json")).stdout)
    assert shown["count"] == data["count"]


def test_sefa_refuses_with_one_line(dcgan_installed) -> None:
    _one_line_refusal(_run("directions", "find", "sefa", "--backend", "dcgan"), "style_affines", "dcgan")


@pytest.fixture
def dcgan_images(dcgan_installed, tmp_path) -> Path:
    folder = tmp_path / "images"
    _ok(_run("generate", "--backend", "dcgan", "--seeds", "0-7", "--out", folder))
    return folder


@pytest.mark.slow
def test_invert_regress_sort(dcgan_installed, dcgan_images, tmp_path) -> None:
    from large_toolkit.io.artifacts import load_latents
    from large_toolkit.io.images import read_image as read_png

    lat_path = tmp_path / "lat.safetensors"
    _ok(_run("invert", "--backend", "dcgan", "--images", dcgan_images, "--out", lat_path, "--space", "w",
             "--steps", "30", "--batch-size", "8"))  # fmt: skip
    latents, ids, _ = load_latents(lat_path)
    assert latents.space.value == "w" and tuple(latents.tensor.shape) == (8, 32) and len(ids) == 8
    # labels: mean brightness of each image, so a direction along brightness regresses well
    rows = ["image,brightness"]
    for path in sorted(dcgan_images.glob("*.png")):
        rows.append(f"{path.name},{read_png(path).astype(np.float64).mean():.6f}")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    dirs = tmp_path / "ig.safetensors"
    scorer = "scorer=large_tk_dcgan.scorers:brightness"
    _ok(_run("directions", "find", "interfacegan", "--backend", "dcgan", "--option", scorer,
             "--option", "num_samples=400", "--out", dirs))  # fmt: skip
    res = _ok(_run("regress", "--backend", "dcgan", "--latents", lat_path, "--direction", f"file:{dirs}:0",
                   "--labels", tmp_path / "labels.csv", "--repeats", "20", "--n-labels", "2,4", "--json"))  # fmt: skip
    report = json.loads(res.stdout)
    assert np.isfinite(report["coef"]).all()
    out = tmp_path / "sorted"
    res = _ok(_run("sort", "--backend", "dcgan", "--latents", lat_path, "--direction", f"file:{dirs}:0",
                   "--strip", "4", "--out", out, "--json"))  # fmt: skip
    assert (out / "strip.png").is_file() and len(json.loads((out / "sorted.json").read_text())["sorted"]) == 8


def test_example_finder_and_projector_conformance(dcgan) -> None:
    from large_toolkit.plugins import get_host, load_direction_finder
    from large_toolkit.testing import check_finder, check_inverter

    for name, config in (("random", {"count": 3}), ("ganspace", {"num_samples": 500, "batch_size": 250})):
        check_finder(load_direction_finder(name), dcgan, config, name)
    projector = get_host().inverter("optim").create(dcgan, None, "cpu", num_steps=3)
    check_inverter(projector, dcgan, "w", name="optim")


def test_convert_round_trip_keeps_the_fingerprint(dcgan_installed, tmp_path) -> None:
    from large_tk_dcgan import BUNDLED

    out = tmp_path / "copy.safetensors"
    first = json.loads(_ok(_run("convert", BUNDLED, out, "--json")).stdout)
    again = json.loads(_ok(_run("convert", out, tmp_path / "again.safetensors", "--json")).stdout)
    assert first["backend"] == again["backend"] == "dcgan" and first["fingerprint"] == again["fingerprint"]


def test_latents_of_one_generator_are_refused_with_another(dcgan_installed, dcgan_images, tmp_path) -> None:
    lat_path = tmp_path / "lat.safetensors"
    _ok(_run("invert", "--backend", "dcgan", "--images", dcgan_images, "--out", lat_path, "--space", "w",
             "--steps", "2"))  # fmt: skip
    # no --backend: the latents' own generator is used (never the bundled StyleGAN2), which has no SeFa
    _one_line_refusal(_run("sort", "--latents", lat_path, "--direction", "sefa:0"), "style_affines", "dcgan")
    # another generator named explicitly: refused, the latents were not made with it
    _one_line_refusal(
        _run("sort", "--backend", "stylegan2", "--latents", lat_path, "--direction", "sefa:0"), "fingerprint"
    )
    # a direction file made on another model of the same size is refused too
    other = tmp_path / "other.safetensors"
    _ok(_run("directions", "find", "random", "--backend", "dcgan", "--out", other))
    from large_toolkit.io.artifacts import load_directions, save_directions

    dirs = load_directions(other)
    for d in dirs.directions:
        d.provenance["generator"] = "0123456789abcdef"
    save_directions(other, dirs)
    _one_line_refusal(_run("sort", "--backend", "dcgan", "--latents", lat_path, "--direction", f"file:{other}:0"),
                      "fingerprint")  # fmt: skip
