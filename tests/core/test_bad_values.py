"""Issue 17, points 5 and 6: every bad value ends in ONE line, exit 2, before any work, no partial output.

The commands run in-process through :func:`large_toolkit.cli.main.run` (the same path as the
console script) so the whole list stays fast; ``test_usage_error_*`` also runs a real process.
"""

from __future__ import annotations

import os
import pickle
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from large_toolkit.cli.main import run

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def app():
    from large_toolkit.cli.app import build_app

    return build_app()


@pytest.fixture(scope="module")
def latents_file(tmp_path_factory) -> Path:
    """Six W latents of the bundled demo generator, with image ids a..f."""
    from large_toolkit.io.artifacts import save_latents
    from large_toolkit.plugins import load_generator
    from large_toolkit.types import Latents, LatentSpace

    g = load_generator("stylegan2", None, "cpu")
    with torch.no_grad():
        ws = g.mapping(g.sample_z(6, 0))[:, 0]
    path = tmp_path_factory.mktemp("lat") / "lat.safetensors"
    save_latents(path, Latents(ws, LatentSpace.W), list("abcdef"), g)
    return path


def _refused(app, capsys, args: list[str], *needles: str, folder: Path | None = None) -> str:
    before = sorted(folder.rglob("*")) if folder is not None else None
    code = run(app, args)
    captured = capsys.readouterr()
    lines = [ln for ln in captured.err.splitlines() if ln.strip()]
    assert code == 2, (args, captured.err[-2000:])
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "\x1b" not in lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    if folder is not None:
        assert sorted(folder.rglob("*")) == before, "partial output left behind"
    return lines[0]


# -- point 5: values accepted with exit 0 before ---------------------------------------------------


def test_non_finite_psi_is_refused(app, capsys, tmp_path):
    _refused(
        app,
        capsys,
        ["generate", "--seeds", "0", "--trunc", "nan", "--out", str(tmp_path / "g.png")],
        "finite",
        folder=tmp_path,
    )
    args = ["directions", "edit", "--backend", "stylegan2", "--direction", "sefa:0", "--psi", "inf"]
    _refused(app, capsys, [*args, "--out", str(tmp_path / "e.png")], "--psi", folder=tmp_path)


def test_negative_repeats_is_refused(app, capsys, tmp_path):
    _refused(app, capsys, ["regress", "--direction", "sefa:0", "--repeats", "-1"], "--repeats", folder=tmp_path)


def test_trim_outside_unit_interval_is_refused(app, capsys, tmp_path):
    _refused(app, capsys, ["regress", "--direction", "sefa:0", "--trim", "2"], "--trim", folder=tmp_path)


def test_constant_labels_are_refused(app, capsys, latents_file, tmp_path):
    args = ["regress", "--backend", "stylegan2", "--latents", str(latents_file), "--direction", "sefa:0"]
    labels = [f"--label={i}=3.5" for i in "abcdef"]
    line = _refused(app, capsys, [*args, *labels, "--out", str(tmp_path / "r")], "same value", folder=tmp_path)
    assert "3.5" in line


# -- point 5: raw exceptions before ------------------------------------------------------------------


def test_object_arrays_in_npz(app, capsys, tmp_path):
    path = tmp_path / "dirs.npz"
    np.savez(path, lat_comp=np.array([None, 1], dtype=object), lat_mean=np.zeros(2), lat_stdev=np.ones(2))
    _refused(app, capsys, ["directions", "show", str(path)], "dtype '|O'")


@pytest.mark.parametrize("meta", ["{not json", "[1, 2]"])
def test_bad_safetensors_metadata(app, capsys, tmp_path, meta):
    from safetensors.torch import save_file

    path = tmp_path / "d.safetensors"
    save_file({"w": torch.zeros(2, 2)}, str(path), metadata={"large_toolkit": meta})
    _refused(app, capsys, ["directions", "show", str(path)], "metadata")


def test_3000_deep_pickle(app, capsys, tmp_path):
    path = tmp_path / "deep.pkl"
    path.write_bytes(b"\x80\x02" + b"]" * 3000 + b"a" * 2999 + b".")
    _refused(app, capsys, ["convert", str(path), str(tmp_path / "c.safetensors")], "deep", folder=tmp_path)


def test_non_utf8_label_csv(app, capsys, latents_file, tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_bytes("image,age\na,1\nb,2\nc,\xe9\n".encode("latin-1"))
    args = ["regress", "--backend", "stylegan2", "--latents", str(latents_file), "--direction", "sefa:0"]
    _refused(app, capsys, [*args, "--labels", str(labels)], "not UTF-8", "0xe9")


def test_huge_counts_are_refused_before_allocating(app, capsys, tmp_path):
    _refused(app, capsys, ["data", "synth", "--n", str(10**12), "--out", str(tmp_path / "d")], "--n", folder=tmp_path)
    _refused(
        app,
        capsys,
        ["generate", "--seeds", "0-99999999999", "--out", str(tmp_path / "g.png")],
        "--seeds",
        folder=tmp_path,
    )


def test_zero_step_count(app, capsys, tmp_path):
    args = ["directions", "edit", "--backend", "stylegan2", "--direction", "sefa:0", "--steps", "-3..3:0"]
    _refused(app, capsys, [*args, "--out", str(tmp_path / "e.png")], "--steps", folder=tmp_path)


def test_unusable_out_is_found_before_the_work(app, capsys, tmp_path):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    _refused(app, capsys, ["generate", "--seeds", "0", "--out", str(a_file / "g.png")], "not a directory")
    a_dir = tmp_path / "dir.npy"
    a_dir.mkdir()
    _refused(
        app, capsys, ["directions", "export", "sefa:0", "--backend", "stylegan2", "--out", str(a_dir)], "is a directory"
    )
    args = ["directions", "find", "sefa", "--backend", "stylegan2", "--out", str(a_dir)]
    _refused(app, capsys, args, "is a directory")
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        _refused(app, capsys, ["generate", "--seeds", "0", "--out", str(locked / "g.png")], "not writable")


def test_usage_error_is_one_line(app, capsys):
    _refused(app, capsys, ["regress", "--no-such-option"], "No such option", "--help")
    proc = subprocess.run(
        [sys.executable, "-m", "large_toolkit", "nosuchcommand"],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "plugins"), os.environ.get("PYTHONPATH", "")]),
        },
        timeout=120,
    )
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "╭" not in proc.stderr and "(see large-tk --help)" in proc.stderr


class _Payload:
    def __reduce__(self):
        return os.system, ("true",)


def test_torch_refusal_has_no_ansi_and_no_unsafe_advice(app, capsys, tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"w": _Payload()}, path)
    line = _refused(app, capsys, ["convert", str(path), str(tmp_path / "c.safetensors")], "system")
    assert "weights_only" not in line and "trust" not in line


def test_directory_as_checkpoint_says_directory(app, capsys, tmp_path):
    folder = tmp_path / "ckpt.pkl"
    folder.mkdir()
    _refused(app, capsys, ["convert", str(folder), str(tmp_path / "c.safetensors")], "is a directory")


def test_npy_header_lie_is_refused_before_reading(tmp_path):
    from large_toolkit.errors import CheckpointError
    from large_toolkit.io.numpy_files import load_npy, load_npz

    path = tmp_path / "lie.npy"
    with path.open("wb") as handle:
        np.lib.format.write_array_header_1_0(handle, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)})
        handle.write(b"\x00" * 8)
    with pytest.raises(CheckpointError, match="declares shape"):
        load_npy(path)
    with zipfile.ZipFile(tmp_path / "lie.npz", "w") as zf:
        zf.write(path, "lat_comp.npy")
    with pytest.raises(CheckpointError, match="declares shape"):
        load_npz(tmp_path / "lie.npz")
    good = tmp_path / "good.npz"
    np.savez_compressed(good, a=np.arange(6.0).reshape(2, 3), names=np.array(["x", "y"]))
    arrays = load_npz(good)
    assert arrays["a"].tolist() == [[0, 1, 2], [3, 4, 5]] and arrays["names"].tolist() == ["x", "y"]


# -- point 6 --------------------------------------------------------------------------------------------


def test_discriminator_without_d_weight_is_refused(app, capsys, tmp_path):
    from large_toolkit.io.images import write_image as write_png

    write_png(tmp_path / "a.png", np.zeros((32, 32, 3), dtype=np.uint8))
    d = tmp_path / "snap.pkl"
    d.write_bytes(pickle.dumps({"D": None}))
    args = [
        "invert",
        "--backend",
        "stylegan2",
        "--images",
        str(tmp_path / "a.png"),
        "--out",
        str(tmp_path / "l.safetensors"),
    ]
    _refused(app, capsys, [*args, "--inverter", "optim", "--inverter-option", f"discriminator={d}"], "d_weight")
    assert not (tmp_path / "l.safetensors").exists()


def test_random_noise_is_reproducible_for_a_seed(app, tmp_path):
    outs = []
    for k in range(2):
        out = tmp_path / f"r{k}.npy"
        assert run(app, ["generate", "--seeds", "3-4", "--noise-mode", "random", "--out", str(out)]) == 0
        outs.append(np.load(out, allow_pickle=False))
    const = tmp_path / "c.npy"
    assert run(app, ["generate", "--seeds", "3-4", "--out", str(const)]) == 0
    assert np.array_equal(outs[0], outs[1])
    assert not np.array_equal(outs[0], np.load(const, allow_pickle=False))  # the noise really is random


def test_safetensors_outputs_get_the_same_mode_as_other_outputs(tmp_path):
    from large_toolkit.io.artifacts import save_tensors
    from large_toolkit.io.atomic import write_text_atomic

    save_tensors(tmp_path / "a.safetensors", {"w": torch.zeros(2)}, {"format": "test"})
    write_text_atomic(tmp_path / "b.txt", "x")
    with (tmp_path / "plain.txt").open("w") as handle:  # what a normal open gives under this umask
        handle.write("x")
    modes = {stat.S_IMODE((tmp_path / n).stat().st_mode) for n in ("a.safetensors", "b.txt", "plain.txt")}
    assert len(modes) == 1, modes


def test_image_pixel_cap_is_configurable(monkeypatch):
    from large_toolkit.errors import UserInputError
    from large_toolkit.validate import check_image_size

    check_image_size(5000, 5000, "big.png")  # 25 MP: under the default cap
    monkeypatch.setenv("LARGE_TK_MAX_PIXELS", "1000000")
    with pytest.raises(UserInputError, match=r"big.png declares 5000x5000 pixels, more than the limit of 1000000"):
        check_image_size(5000, 5000, "big.png")


def test_an_unknown_export_suffix_names_the_format_option(app, capsys, tmp_path):
    args = ["directions", "export", "sefa", "--backend", "stylegan2", "--out", str(tmp_path / "d.xyz")]
    _refused(app, capsys, args, "cannot tell the format of", "pass --format with one of", folder=tmp_path)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--data", "synthetic", "--n-synthetic", "0"], "--n-synthetic must be >= 1"),  # was a RuntimeError, exit 1
        (["--data", "synthetic", "--kimg", "-1"], "--kimg must be > 0"),  # was a run of 0 steps, exit 0
        (["--data", "synthetic", "--resolution", "9"], "--resolution 9 is not a power of two"),
        (["--data", "synthetic", "--batch-size", "1"], "--batch-size must be >= 2"),
    ],
)
def test_train_sizes_are_refused_before_the_run_folder(app, capsys, tmp_path, args, needle):
    _refused(app, capsys, ["train", *args, "-o", str(tmp_path / "run")], needle, folder=tmp_path)


def test_a_run_folder_as_checkpoint_names_the_generator_inside(app, capsys, tmp_path):
    run_folder = tmp_path / "run"
    run_folder.mkdir()
    for name in ("G_ema.safetensors", "training-state.safetensors"):
        (run_folder / name).write_bytes(b"x")
    args = ["generate", "--checkpoint", str(run_folder), "--seeds", "0", "--out", str(tmp_path / "g.png")]
    _refused(app, capsys, args, f"pass {run_folder / 'G_ema.safetensors'}", folder=tmp_path)


def test_regress_images_with_a_mistyped_label_id_fails_before_the_inversion(app, capsys, tmp_path, monkeypatch):
    """It used to invert every image first (minutes with --inverter optim), then refuse the label."""
    from PIL import Image

    import large_toolkit.regression.inputs as inputs

    def no_inversion(*args, **kwargs):
        raise AssertionError("inverted before the labels were matched")

    monkeypatch.setattr(inputs, "invert_with", no_inversion)
    images = tmp_path / "imgs"
    images.mkdir()
    for name in ("a.png", "b.png"):
        Image.new("RGB", (32, 32)).save(images / name)
    args = ["regress", "--images", str(images), "--direction", "sefa:0", "--label", "a.png=1", "--label", "z.png=2"]
    _refused(app, capsys, [*args, "-o", str(tmp_path / "run")], "not among the images: z.png", folder=tmp_path)


def test_directions_edit_refuses_a_name_the_grid_would_not_be(app, capsys, tmp_path):
    """The annotated grid was written as PNG under any name (``grid.txt`` included)."""
    args = ["directions", "edit", "--backend", "stylegan2", "--direction", "sefa:0", "--seeds", "0"]
    _refused(app, capsys, [*args, "--out", str(tmp_path / "grid.txt")], "written as PNG", folder=tmp_path)
    _refused(app, capsys, [*args, "--out", str(tmp_path / "grid.jpg")], "--raw also writes .jpg", folder=tmp_path)
