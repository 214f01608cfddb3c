"""Class-conditional generators: ``--class-idx`` binds one class, everywhere a generator is loaded.

A tiny random conditional StyleGAN2 (4 classes, 8x8) stands in for ``large-tk train --labels`` output and
NVIDIA's conditional pickles (both load into the same generator class with ``c_dim > 0``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from large_toolkit.cli.app import build_app
from large_toolkit.conditional import ClassBoundGenerator, bind_class
from large_toolkit.errors import UserInputError

CLASSES = 4


def _conditional(c_dim: int = CLASSES):
    from large_stylegan2 import StyleGAN2Generator

    return StyleGAN2Generator.random(resolution=8, z_dim=16, w_dim=16, channel_base=64, channel_max=16, c_dim=c_dim)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """A conditional checkpoint, six images, and latents inverted under class 2 (3 projector steps)."""
    from PIL import Image

    root = tmp_path_factory.mktemp("conditional")
    _conditional().save_safetensors(root / "cond.safetensors")
    rng = np.random.RandomState(0)
    (root / "imgs").mkdir()
    for i in range(6):
        Image.fromarray(rng.randint(0, 255, (8, 8, 3), dtype=np.uint8)).save(root / "imgs" / f"im{i}.png")
    result = _cli(root, "invert", "--images", str(root / "imgs"), "-o", str(root / "lat2.safetensors"),
                  "--class-idx", "2", "--inverter", "optim", "--steps", "3", "--space", "w", "--no-report")  # fmt: skip
    assert result.exit_code == 0, result.output
    return {"root": root, "latents": root / "lat2.safetensors"}


def _cli(root: Path, *args: str):
    model = ["--backend", "stylegan2", "--checkpoint", str(root / "cond.safetensors")]
    command = list(args[:2]) if args[0] == "directions" else [args[0]]
    rest = list(args[len(command) :])
    return CliRunner().invoke(build_app(), [*command, *model, *rest])


# -- the bound view -----------------------------------------------------------------------------------


def test_bind_class_refuses_bad_indices_in_one_line():
    g = _conditional()
    with pytest.raises(UserInputError, match="class-conditional \\(4 classes\\)") as missing:
        bind_class(g, None)
    assert "--class-idx" in (missing.value.hint or "")
    for bad in (4, -1):
        with pytest.raises(UserInputError, match="out of range"):
            bind_class(g, bad)
    from large_toolkit.testing import ToyGenerator

    toy = ToyGenerator()
    assert bind_class(toy, None) is toy
    with pytest.raises(UserInputError, match="unconditional"):
        bind_class(toy, 1)


def test_bound_view_maps_with_its_class_and_fingerprints_it():
    g = _conditional()
    view = bind_class(g, 2)
    assert isinstance(view, ClassBoundGenerator) and view.c_dim == 0 and view.classes == CLASSES
    z = torch.randn(3, g.z_dim, generator=torch.Generator().manual_seed(0))
    one_hot = torch.nn.functional.one_hot(torch.full((3,), 2), CLASSES).float()
    expected = g.mapping(z, one_hot, psi=0.7)
    assert torch.equal(view.mapping(z, psi=0.7), expected)
    assert torch.equal(view.mapping(z, torch.zeros(3, CLASSES), psi=0.7), expected)  # class-agnostic c replaced
    assert torch.equal(view.sample_latents(3, seed=1).tensor, g.mapping(g.sample_z(3, 1), one_hot[:3])[:, 0])
    prints = {g.fingerprint(), view.fingerprint(), bind_class(g, 3).fingerprint()}
    assert len(prints) == 3 and bind_class(g, 2).fingerprint() == view.fingerprint()
    assert view.describe()["class_idx"] == 2 and view.describe()["c_dim"] == CLASSES
    assert view.params is g.params and view.style_layers == g.style_layers  # plugin extras delegate
    images = view.synthesis(view.mapping(z))
    assert images.shape == (3, 3, 8, 8)


# -- the CLI ------------------------------------------------------------------------------------------


def test_missing_class_idx_is_one_line_exit_2(files):
    result = _cli(files["root"], "generate", "--seeds", "0", "-o", str(files["root"] / "g.png"))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: this model is class-conditional (4 classes) (pass --class-idx N with N in 0-3)"
    ]
    result = _cli(files["root"], "directions", "find", "sefa")
    assert result.exit_code == 2 and "class-conditional" in result.stderr


def test_sort_runs_under_the_class_the_latents_were_made_with(files):
    lat = str(files["latents"])
    result = _cli(files["root"], "sort", "--latents", lat, "--direction", "sefa:0", "--class-idx", "2", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n_images"] == 6


def test_latents_from_class_2_are_refused_under_class_3_unless_forced(files):
    lat = str(files["latents"])
    result = _cli(files["root"], "sort", "--latents", lat, "--direction", "sefa:0", "--class-idx", "3")
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "was made with generator" in result.stderr
    assert "backend stylegan2, class 2, fingerprint" in result.stderr  # the latents record their class
    result = _cli(files["root"], "sort", "--latents", lat, "--direction", "sefa:0", "--class-idx", "3", "--force")
    assert result.exit_code == 0 and "used anyway: --force" in result.stderr


def test_directions_find_and_edit_and_fid_take_the_class(files):
    root = files["root"]
    result = _cli(root, "directions", "find", "sefa", "--class-idx", "1", "--json")
    assert result.exit_code == 0, result.output
    result = _cli(root, "directions", "edit", "-d", "sefa:0", "--class-idx", "1", "-o", str(root / "e.png"),
                  "--seeds", "0", "--steps", "-1,1", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    result = _cli(root, "fid", "--real", "synthetic", "--class-idx", "2", "--n", "8", "--n-real", "8",
                  "--rotation-epochs", "1", "--no-cache", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["generator"] == bind_class(_conditional(), 2).fingerprint()


def test_directions_show_and_export_take_the_class(files):
    """A finder spec on a conditional model needs the class; the exported set records the bound model."""
    from large_toolkit.io.direction_formats import load_direction_file

    root = files["root"]
    assert _cli(root, "directions", "show", "sefa").exit_code == 2
    result = _cli(root, "directions", "show", "sefa", "--class-idx", "1", "--json")
    assert result.exit_code == 0, result.output
    out = root / "sefa1.safetensors"
    result = _cli(root, "directions", "export", "sefa", "-o", str(out), "--class-idx", "1")
    assert result.exit_code == 0, result.output
    exported = load_direction_file(out)
    assert exported.directions[0].provenance["generator"] == bind_class(_conditional(), 1).fingerprint()


def test_a_regressor_fitted_under_class_2_predicts_there_and_refuses_class_3(files):
    root, lat = files["root"], str(files["latents"])
    labels = ["--label", "im0.png=1", "--label", "im1.png=2", "--label", "im2.png=4"]
    result = _cli(root, "regress", "--latents", lat, "--direction", "sefa:0", "--class-idx", "2", *labels,
                  "--repeats", "5", "--n-labels", "2", "-o", str(root / "run2"), "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    ok = _cli(root, "predict", "--model", str(root / "run2"), "--latents", lat, "--class-idx", "2",
              "-o", str(root / "p.csv"), "--json")  # fmt: skip
    assert ok.exit_code == 0, ok.output
    refused = _cli(root, "predict", "--model", str(root / "run2"), "--images", str(root / "imgs"), "--class-idx", "3",
                   "--inverter", "optim", "-o", str(root / "p3.csv"))  # fmt: skip
    assert refused.exit_code == 2 and "was fitted for generator" in refused.stderr
    assert f"the images (inverted with {root / 'cond.safetensors'} class 3)" in refused.stderr
    assert not (root / "p3.csv").exists()


def test_suggest_labels_takes_the_class(files):
    result = _cli(files["root"], "suggest-labels", "--latents", str(files["latents"]), "--direction", "sefa:0",
                  "--class-idx", "2", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output


def test_engine_workers_rebuild_the_bound_view(files):
    from large_toolkit.chunk_engine import generator_recipe
    from large_toolkit.generators import resolve_generator

    view = resolve_generator("stylegan2", str(files["root"] / "cond.safetensors"), "cpu", class_idx=1)
    recipe = generator_recipe(view)
    assert recipe is not None and recipe.class_idx == 1
    assert recipe.load("cpu").fingerprint() == view.fingerprint()


def test_an_inversion_recipe_binds_the_class_for_every_worker(files):
    """Ray workers rebuild the models from the picklable ModelSpec, so the class must travel in it."""
    import pickle

    from large_inverters.spec import ModelSpec

    spec = ModelSpec("optim", "stylegan2", str(files["root"] / "cond.safetensors"), class_idx=2)
    rebuilt = pickle.loads(pickle.dumps(spec)).load_generator("cpu")
    assert rebuilt.fingerprint() == bind_class(_conditional(), 2).fingerprint()


def test_train_encoder_takes_the_class_and_invert_refuses_another(files):
    """train-encoder on a conditional model said 'pass a class label' yet had no --class-idx to pass."""
    root = files["root"]
    enc = root / "enc1.safetensors"
    train = ["train-encoder", "--steps", "1", "--batch-size", "2", "--input-size", "8", "--out", str(enc)]
    result = _cli(root, *train)
    assert result.exit_code == 2 and "pass --class-idx N with N in 0-3" in result.stderr
    assert not enc.exists()
    assert _cli(root, *train, "--class-idx", "1").exit_code == 0
    invert = ["invert", "--images", str(root / "imgs"), "--inverter-checkpoint", str(enc), "--no-report"]
    assert _cli(root, *invert, "--class-idx", "1", "-o", str(root / "e1.safetensors")).exit_code == 0
    refused = _cli(root, *invert, "--class-idx", "2", "-o", str(root / "e2.safetensors"))
    assert refused.exit_code == 2 and "was made for generator" in refused.stderr
    assert not (root / "e2.safetensors").exists()


def test_the_bundled_encoder_on_another_model_names_the_option_to_pass(files):
    root = files["root"]
    result = _cli(root, "invert", "--images", str(root / "imgs"), "--class-idx", "1", "--inverter", "encoder",
                  "-o", str(root / "x.safetensors"))  # fmt: skip
    assert result.exit_code == 2
    assert "--inverter-checkpoint enc.safetensors, or use --inverter optim" in result.stderr
    assert not (root / "x.safetensors").exists()


def test_a_direction_from_another_class_names_the_direction_not_the_generator_options(files):
    root, lat = files["root"], str(files["latents"])
    found = root / "sefa_class1.safetensors"
    assert _cli(root, "directions", "find", "sefa", "--class-idx", "1", "-o", str(found)).exit_code == 0
    result = CliRunner().invoke(build_app(), ["sort", "--latents", lat, "--direction", f"file:{found}:0"])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert "direction sefa_0 was found on generator" in line and "`large-tk directions find` with the same" in line


def test_a_direction_file_from_another_class_names_the_class_it_was_made_under(files):
    root = files["root"]
    found = root / "sefa_made_under_1.safetensors"
    assert _cli(root, "directions", "find", "sefa", "--class-idx", "1", "-o", str(found)).exit_code == 0
    result = _cli(root, "directions", "show", str(found), "--class-idx", "2")
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert "(it was made under --class-idx 1: pass that, or recompute it for this class)" in line


def test_convert_keeps_every_class_of_a_conditional_model(files):
    """convert asked for --class-idx (which it does not have): it saves the whole conditional model."""
    root = files["root"]
    out = root / "converted.safetensors"
    result = CliRunner().invoke(build_app(), ["convert", str(root / "cond.safetensors"), str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["c_dim"] == CLASSES
    for checkpoint in (root / "cond.safetensors", out):
        args = ["generate", "--checkpoint", str(checkpoint), "--seeds", "0", "--class-idx", "3"]
        assert CliRunner().invoke(build_app(), [*args, "-o", str(root / f"{checkpoint.stem}.npy")]).exit_code == 0
    assert np.array_equal(np.load(root / "cond.npy"), np.load(root / "converted.npy"))
