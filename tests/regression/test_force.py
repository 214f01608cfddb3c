"""``--force``: a provenance mismatch (latents, direction or model from another generator) is refused in one
line, exit 2, no output; the same command with ``--force`` runs and prints one warning line."""

import json

import pytest
from typer.testing import CliRunner

from large_toolkit.cli.app import build_app
from large_toolkit.io.artifacts import load_latents, save_latents

LATENTS_MADE_ON = {"fingerprint": "00000000feedf00d", "backend": "stylegan2", "w_dim": 64, "num_ws": 8}
DIRECTION_MADE_ON = "11111111cafecafe"


@pytest.fixture()
def inputs(tmp_path, save_linear_inputs):
    """Demo-sized latents (w_dim 64, 8 layers) recorded as made on one generator, a direction made on another."""
    ids, y = save_linear_inputs(60, dim=64, generator=LATENTS_MADE_ON, direction_generator=DIRECTION_MADE_ON)
    (tmp_path / "labels.csv").write_text("image,v\n" + "".join(f"{i},{v!r}\n" for i, v in zip(ids, y, strict=True)))
    return tmp_path


def _run(*args):
    return CliRunner().invoke(build_app(), list(map(str, args)))


def _refused_then_forced(args, out):
    refused = _run(*args)
    assert refused.exit_code == 2, refused.output
    assert len(refused.output.strip().splitlines()) == 1 and "--force" in refused.output
    assert not out.exists()
    forced = _run(*args, "--force")
    assert forced.exit_code == 0, forced.output
    warnings = [line for line in forced.output.splitlines() if line.startswith("warning:")]
    assert warnings and all("used anyway: --force" in line for line in warnings)  # one line per mismatch
    assert out.exists()
    return forced


@pytest.mark.parametrize(
    "command, extra, written",
    [
        ("sort", ["--strip", "0"], "sorted.csv"),
        ("ordinal", ["--classes", "3", "--labels", "LABELS", "--n-labels", "2", "--repeats", "5"], "classes.csv"),
        ("suggest-labels", ["--k", "2"], "suggestions.json"),
        ("layers", ["--skip-importance", "--labels", "LABELS"], "linearity.json"),
    ],
)
def test_direction_from_another_generator(inputs, command, extra, written):
    tmp = inputs
    args = [command, "--latents", tmp / "lat.safetensors", "--direction", f"file:{tmp / 'dirs.safetensors'}:1"]
    args += [tmp / "labels.csv" if a == "LABELS" else a for a in extra]
    _refused_then_forced([*args, "--out", tmp / "o"], tmp / "o" / written)
    assert DIRECTION_MADE_ON in _run(*args, "--out", tmp / "o2").output  # the line names both generators


def test_regress_latents_from_another_generator(inputs):
    """``--backend`` loads the bundled generator, whose fingerprint is not the one the latents record."""
    tmp = inputs
    args = ["regress", "--latents", tmp / "lat.safetensors", "--direction", f"file:{tmp / 'dirs.safetensors'}:1"]
    args += ["--backend", "stylegan2", "--labels", tmp / "labels.csv", "--repeats", "5", "--json"]
    forced = _refused_then_forced([*args, "-o", tmp / "run"], tmp / "run" / "regressor.safetensors")
    assert json.loads(forced.stdout)["n_labels"] == 60


def test_predict_with_a_model_of_another_generator(inputs):
    tmp = inputs
    fit = ["regress", "--latents", tmp / "lat.safetensors", "--direction", f"file:{tmp / 'dirs.safetensors'}:1"]
    fit += ["--labels", tmp / "labels.csv", "--repeats", "5", "-o", tmp / "run"]
    _refused_then_forced(fit, tmp / "run" / "regressor.safetensors")  # the direction was made on another generator
    lat, ids, _ = load_latents(tmp / "lat.safetensors")
    other = {**LATENTS_MADE_ON, "fingerprint": "22222222deadbeef"}
    save_latents(tmp / "other.safetensors", lat, ids, extra={"generator": other})
    args = ["predict", "--model", tmp / "run", "--latents", tmp / "other.safetensors"]
    _refused_then_forced([*args, "-o", tmp / "p" / "pred.csv"], tmp / "p" / "pred.csv")
    assert len((tmp / "p" / "pred.csv").read_text().splitlines()) == 61
