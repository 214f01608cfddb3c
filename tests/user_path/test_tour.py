"""The README's tour as a user runs it: subprocesses with no terminal attached, the bundled 32 px demo model.

Each test is one promise of issue 16: a JPEG folder regresses with only --label-column, latents need no
--backend, the shared vocabulary (--psi, -o/--out, --batch-size) is accepted, predict reproduces
predictions.csv, a grouped split never mixes a group, and progress shows as plain lines off a terminal.
"""

from __future__ import annotations

import csv
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(command: str | list[str], cwd: Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``large-tk`` with ``command`` (a shell-style line, as the README writes it, or an argv list)."""
    args = shlex.split(command) if isinstance(command, str) else command
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "LARGE_TK_PROGRESS_INTERVAL": "0",
        "LARGE_TK_CACHE": str(cwd / ".cache"),
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "plugins"), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("LARGE_TK_PROGRESS", None)
    proc = subprocess.run(
        [sys.executable, "-m", "large_toolkit", *args],
        cwd=cwd,
        env=env,
        text=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    if ok:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``data synth --format jpg``, then ``regress`` on the JPEG folder with only ``--label-column``."""
    work = tmp_path_factory.mktemp("tour")
    _run(["data", "synth", "--n", "40", "--seed", "3", "--format", "jpg", "--out", "synth"], work)
    assert sorted(os.listdir(work / "synth"))[:2] == ["000000.jpg", "000001.jpg"]
    proc = _run(
        "regress --direction sefa:3 --images synth --label-column light_intensity --repeats 20 -o run --batch-size 16",
        work,
    )
    (work / "regress.stderr").write_text(proc.stderr)
    return work


def _fit_and_predict(tour: Path, fit: str, model: str, out: str) -> None:
    """``fit`` on the tour's latents and its labels.csv (by absolute path), writing ``model``; then ``predict``
    with that model on the same latents into ``out``."""
    labels = tour / "synth" / "labels.csv"
    _run([*shlex.split(fit), "--latents", "lat.safetensors", "--labels", str(labels)], tour)
    _run(["predict", "--model", model, "--latents", "lat.safetensors", "-o", out], tour)


def _predictions(path: Path) -> dict[str, tuple[float, float]]:
    with path.open() as f:
        return {r["id"]: (float(r["distance"]), float(r["prediction"])) for r in csv.DictReader(f)}


@pytest.mark.slow
def test_jpeg_folder_regresses_with_only_the_label_column(tour: Path) -> None:
    results = json.loads((tour / "run" / "results.json").read_text())
    assert results["label_column"] == "light_intensity" and results["n_labels"] == 40
    assert "labels: column 'light_intensity' (40 labelled of 40 images)" in (tour / "regress.stderr").read_text()
    assert results["protocol"]["rows"][-1]["r2_mean"] > 0.3  # sefa:3 tracks the light in the demo model


@pytest.mark.slow
def test_several_columns_without_a_choice_is_one_error(tour: Path) -> None:
    proc = _run(["regress", "--direction", "sefa:3", "--images", "synth", "--repeats", "5"], tour, ok=False)
    assert proc.returncode == 2
    assert "8 label columns (head_size" in proc.stderr and "--label-column" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow  # fast itself, but it needs the module's tour fixture (a ~15 s regress run)
def test_progress_lines_off_a_terminal(tour: Path) -> None:
    assert "inverting: 40/40" in (tour / "regress.stderr").read_text()


@pytest.fixture(scope="module")
def latents(tour: Path) -> Path:
    """``invert`` with no --inverter / --backend: the bundled encoder of the demo model, progress off a terminal."""
    proc = _run(["invert", "--images", "synth", "-o", "lat.safetensors", "--batch-size", "16", "--no-report"], tour)
    assert "inverter: encoder (the bundled encoder of the demo generator)" in proc.stderr
    assert "inverting (encoder): 40/40" in proc.stderr
    return tour / "lat.safetensors"


@pytest.mark.slow
def test_latents_need_no_backend_and_predict_reproduces(tour: Path, latents: Path) -> None:
    _fit_and_predict(
        tour, "regress --label-column roll --direction sefa:3 --repeats 10 --out run_lat", "run_lat", "pred.csv"
    )
    fitted, again = _predictions(tour / "run_lat" / "predictions.csv"), _predictions(tour / "pred.csv")
    assert fitted.keys() == again.keys() and len(again) == 40
    for key, (d, p) in fitted.items():
        assert again[key][0] == pytest.approx(d, abs=1e-9) and again[key][1] == pytest.approx(p, abs=1e-9)
    _run(["predict", "--model", "run/regressor.safetensors", "--images", "synth", "-o", "pred_img.csv"], tour)
    first = _predictions(tour / "run" / "predictions.csv")
    from_images = _predictions(tour / "pred_img.csv")
    assert all(abs(from_images[k][1] - v[1]) < 1e-6 for k, v in first.items())


@pytest.mark.slow
def test_predict_refuses_another_generator(tour: Path, tmp_path: Path) -> None:
    from safetensors import safe_open
    from safetensors.torch import save_file

    model = tour / "run" / "regressor.safetensors"
    with safe_open(str(model), "pt") as f:
        meta, tensors = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    key = "large_toolkit"
    header = json.loads(meta[key])
    header["generator_fingerprint"] = "0123456789abcdef"
    other = tmp_path / "m"
    other.mkdir()
    save_file(tensors, str(other / "regressor.safetensors"), metadata={key: json.dumps(header)})
    (other / "direction.safetensors").write_bytes((tour / "run" / "direction.safetensors").read_bytes())
    proc = _run(["predict", "--model", str(other), "--images", "synth", "-o", "x.csv"], tour, ok=False)
    assert proc.returncode == 2 and "fitted for generator 0123456789abcdef" in proc.stderr
    assert not (tour / "x.csv").exists()


@pytest.mark.slow
def test_grouped_split_never_mixes_a_group(tour: Path) -> None:
    rows = list(csv.reader((tour / "synth" / "labels.csv").open()))
    with (tour / "grouped.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "light_intensity", "subject"])
        for i, r in enumerate(rows[1:]):
            w.writerow([r[0].replace(".jpg", ""), r[rows[0].index("light_intensity")], f"s{i % 7}"])
    proc = _run(
        "regress --direction sefa:3 --images synth --labels grouped.csv"
        " --label-column light_intensity --group-column subject --repeats 5 --json",
        tour,
    )
    result = json.loads(proc.stdout)
    assert result["protocol"]["settings"]["grouped"] is True
    import numpy as np

    from large_toolkit.regression.protocol import split_groups

    groups = [f"s{i % 7}" for i in range(40)]
    for seed in range(20):
        train, test = split_groups(groups, 20, np.random.RandomState(seed))
        assert not {groups[i] for i in train} & {groups[i] for i in test}
        assert len(train) + len(test) == 40


@pytest.mark.parametrize(
    ("command", "flags"),
    [
        ("regress", ["-o", "--out", "--batch-size"]),
        ("invert", ["-o", "--out", "--batch-size"]),
        ("layers", ["-o", "--out", "--batch-size", "--psi"]),
        ("sort", ["-o", "--out"]),
        ("predict", ["-o", "--out", "--batch-size"]),
        ("train-encoder", ["-o", "--out", "--batch-size"]),
        ("ordinal", ["-o", "--out"]),
        ("suggest-labels", ["-o", "--out"]),
        ("data synth", ["-o", "--out"]),
    ],
)
def test_shared_vocabulary(tmp_path: Path, command: str, flags: list[str]) -> None:
    text = _run([*command.split(), "--help"], tmp_path).stdout
    for flag in flags:
        assert flag in text, f"{command} --help lacks {flag}"
    assert "--device" not in text.replace("large-tk --device", "")


@pytest.mark.slow
def test_compare_and_auto_direction(tour: Path) -> None:
    proc = _run(
        "regress --direction sefa:0-5 --images synth --label-column light_intensity --repeats 10 --compare --json",
        tour,
    )
    result = json.loads(proc.stdout)
    assert result["direction"] == result["direction_chosen"] and result["direction_chosen"].startswith("sefa:")
    assert len(result["direction_ranking"]) == 6
    assert f"direction: {result['direction_chosen']} chosen from 6 candidates by leave-one-out" in proc.stderr
    maes = result["compare"]["mae"]
    assert set(maes) == {
        "LARGE (distance line)",
        "mean of labels",
        "ridge on pixels",
        "ridge on latent code",
        "k-NN on latent code",
    }
    assert all(len(per) == len(maes["mean of labels"]) for per in maes.values())


@pytest.mark.slow
def test_predict_applies_an_ordinal_model(tour: Path, latents: Path) -> None:
    fit = "ordinal --direction sefa:3 --classes 3 --label-column light_intensity --repeats 5 -o ord"
    _fit_and_predict(tour, fit, "ord", "cls.csv")
    with (tour / "ord" / "classes.csv").open() as f:
        fitted = {r["id"]: r["class"] for r in csv.DictReader(f)}
    with (tour / "cls.csv").open() as f:
        again = {r["id"]: r["class"] for r in csv.DictReader(f)}
    assert again == fitted and set(again.values()) == {"0", "1", "2"}


@pytest.mark.slow
def test_layers_takes_the_shared_flags_and_reports_progress(tour: Path, latents: Path) -> None:
    proc = _run(
        "layers --direction sefa:3 --random-samples 4 --edit-samples 4 --batch-size 4 --psi 0.7"
        " --latents lat.safetensors --labels synth/labels.csv --label-column light_intensity -o layers",
        tour,
    )
    assert "gradient pairs: 8/8" in proc.stderr
    assert (tour / "layers" / "importance.png").is_file() and (tour / "layers" / "linearity.png").is_file()
    assert json.loads((tour / "layers" / "importance.json").read_text())["settings"]["truncation"] == 0.7


@pytest.mark.slow
def test_images_take_several_files_after_one_flag(tour: Path) -> None:
    """The help's own example: ``invert --images a.png b.png`` (what a shell glob expands to)."""
    from large_toolkit.cli.options import spread_multi_values

    assert spread_multi_values(["invert", "--images", "a", "b", "-o", "x", "--images", "c"]) == [
        "invert", "--images", "a", "--images", "b", "-o", "x", "--images", "c"]  # fmt: skip
    proc = _run(["invert", "--images", "synth/000000.jpg", "synth/000001.jpg", "-o", "two.safetensors",
                 "--no-report", "--json"], tour)  # fmt: skip
    assert json.loads(proc.stdout)["images"] == 2
