"""Image folder + labels.csv writing and reading, and every validation error as one clear line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from large_toolkit.data import folders
from large_toolkit.data.folders import (
    LABELS_FILE,
    check_output_folder,
    read_image_folder,
    read_labels_csv,
    write_image_folder,
)
from large_toolkit.data.synthetic import generate
from large_toolkit.errors import UserInputError
from large_toolkit.io.png import write_png


@pytest.fixture
def dataset(tmp_path: Path) -> tuple[Path, object]:
    ds = generate(12, seed=2)
    return write_image_folder(tmp_path / "ds", ds.images, ds.labels), ds


def test_round_trip_is_exact(dataset) -> None:
    out, ds = dataset
    back = read_image_folder(out, resolution=32)
    assert back.ids[0] == "000000.png" and len(back.ids) == 12
    assert np.array_equal(back.images, ds.images)
    assert back.labels is not None and back.labels.columns == list(ds.labels.dtype.names)
    assert np.array_equal(back.labels.values, ds.label_matrix())  # repr floats: bit-exact
    assert np.array_equal(back.label_rows, np.arange(12))
    header = (out / LABELS_FILE).read_text().splitlines()[0]
    assert header.split(",")[0] == "image"
    assert np.array_equal(back.labels.column("roll"), ds.labels["roll"])
    assert read_image_folder(out, find_labels=False).labels is None


def test_partial_labels_are_allowed(dataset, tmp_path: Path) -> None:
    out, _ = dataset
    csv = tmp_path / "few.csv"
    csv.write_text("image,age\n000003.png,31\n000007.png,45.5\n")
    back = read_image_folder(out, csv)
    assert back.labels.ids == ["000003.png", "000007.png"]
    assert back.label_rows.tolist() == [3, 7]
    assert back.labels.values[:, 0].tolist() == [31.0, 45.5]


def _labels(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "labels.csv"
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("image,a\n000000.png,1\n000000.png,2\n", "line 3: duplicate image id '000000.png' (first on line 2)"),
        ("image,a\n000000.png,nan\n", "line 2, column 'a': 'nan' is not a finite number"),
        ("image,a\n000000.png,-inf\n", "'-inf' is not a finite number"),
        ("image,a\n000000.png,tall\n", "line 2, column 'a': 'tall' is not a number"),
        ("image,a\n000000.png,\n", "column 'a': empty value"),
        ("image,a\n000000.png,1,2\n", "line 2: 3 fields, header has 2"),
        ("name,a\nx.png,1\n", "has no 'image' column"),
        ("image\n000000.png\n", "has no label columns"),
        ("image,a,a\n000000.png,1,2\n", "repeats column 'a'"),
        ("image,a\n", "no label rows"),
        ("", "is empty"),
    ],
)
def test_label_table_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserInputError) as info:
        read_labels_csv(_labels(tmp_path, text))
    assert message in info.value.one_line()
    assert "\n" not in info.value.one_line()


def test_labels_naming_a_missing_image(dataset) -> None:
    out, _ = dataset
    (out / LABELS_FILE).write_text("image,a\n000001.png,1\nghost.png,2\n")
    with pytest.raises(UserInputError, match=r"names image 'ghost\.png', which is not in"):
        read_image_folder(out)
    with pytest.raises(UserInputError, match="does not exist"):
        read_image_folder(out, out / "nope.csv")


@pytest.mark.parametrize(("shape", "message"), [((32, 32), "grayscale, expected RGB"),
                                                ((32, 32, 4), "RGBA, expected RGB"),
                                                ((16, 32, 3), "is 32x16, but 000000.png is 32x32")])
def test_image_mode_and_size_errors(dataset, shape, message: str) -> None:
    out, _ = dataset
    write_png(out / "zzz.png", np.zeros(shape, np.uint8))
    with pytest.raises(UserInputError, match=message):
        read_image_folder(out)


def test_folder_errors(tmp_path: Path, dataset) -> None:
    out, _ = dataset
    with pytest.raises(UserInputError, match="expected 64x64"):
        read_image_folder(out, resolution=64)
    with pytest.raises(UserInputError, match="does not exist"):
        read_image_folder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserInputError, match="no PNG images"):
        read_image_folder(tmp_path / "empty")
    (out / "photo.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(UserInputError, match="only PNG"):
        read_image_folder(out)
    (out / "photo.jpg").unlink()
    (out / "bad.png").write_bytes(b"not a png at all")
    with pytest.raises(UserInputError, match=r"bad\.png"):
        read_image_folder(out)


def test_refuses_to_overwrite_and_overwrites_only_datasets(tmp_path: Path, dataset) -> None:
    out, ds = dataset
    with pytest.raises(UserInputError, match=r"not empty .*--overwrite"):
        write_image_folder(out, ds.images[:2], ds.labels[:2])
    write_image_folder(out, ds.images[:2], ds.labels[:2], overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == ["000000.png", "000001.png", LABELS_FILE]
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("precious")
    with pytest.raises(UserInputError, match=r"thesis\.tex"):
        check_output_folder(home, overwrite=True)
    assert (home / "thesis.tex").read_text() == "precious"
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserInputError, match="not a folder"):
        check_output_folder(tmp_path / "file", overwrite=True)


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    ds = generate(6, seed=0)
    real = folders.encode_png
    calls = []

    def flaky(image):
        calls.append(1)
        if len(calls) == 4:
            raise OSError("disk full")
        return real(image)

    monkeypatch.setattr(folders, "encode_png", flaky)
    with pytest.raises(OSError, match="disk full"):
        write_image_folder(tmp_path / "ds", ds.images, ds.labels)
    assert list(tmp_path.iterdir()) == []  # no target, no hidden temp folder
