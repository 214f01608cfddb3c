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
from large_toolkit.io.images import write_image


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
        ("image,a\n000000.png,1\n000000.jpg,2\n", "line 3: duplicate image id '000000.jpg'"),
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
    assert info.value.hint  # every label-table error names its fix too


def test_labels_naming_a_missing_image(dataset) -> None:
    out, _ = dataset
    (out / LABELS_FILE).write_text("image,a\n000001.png,1\nghost.png,2\n")
    with pytest.raises(UserInputError, match=r"names 1 image\(s\) that are not among the images: ghost\.png"):
        read_image_folder(out)
    with pytest.raises(UserInputError, match="not found"):
        read_image_folder(out, out / "nope.csv")


def test_grey_and_rgba_are_read_as_rgb_and_sizes_must_agree(dataset) -> None:
    out, _ = dataset
    write_image(out / "zzy.png", np.full((32, 32), 7, np.uint8))
    write_image(out / "zzz.png", np.zeros((32, 32, 4), np.uint8))  # fully transparent: white
    back = read_image_folder(out)
    assert back.images.shape == (14, 32, 32, 3)
    assert (back.images[-2] == 7).all() and (back.images[-1] == 255).all()
    write_image(out / "zzzz.png", np.zeros((16, 32, 3), np.uint8))
    with pytest.raises(UserInputError) as e:  # the two commonest sizes, an example of each, and the fix
        read_image_folder(out)
    assert str(e.value) == (
        "the images have 2 different sizes: 14 are 32x32 (e.g. 000000.png), 1 is 32x16 (e.g. zzzz.png) "
        "(all images must have the same size: resize them, e.g. all to 32x32)"
    )
    write_image(out / "zzzzz.png", np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(UserInputError, match=r"3 different sizes: .*, and 1 other size\(s\) \("):
        read_image_folder(out)
    (out / "zzzzz.png").unlink()
    fitted = read_image_folder(out, resolution=32)  # at a resolution: center-cropped, with one note
    assert fitted.images.shape == (15, 32, 32, 3)
    assert fitted.note is not None and "1 of 15 image(s) (32x16) center-cropped" in fitted.note


def test_folder_errors(tmp_path: Path, dataset) -> None:
    out, _ = dataset
    with pytest.raises(UserInputError, match="is 32x32, the generator makes 64x64"):
        read_image_folder(out, resolution=64, resize="error")
    with pytest.raises(UserInputError, match="not found"):
        read_image_folder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserInputError, match="no images in"):
        read_image_folder(tmp_path / "empty")
    (out / "photo.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(UserInputError, match=r"photo\.jpg"):
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
    real = folders.write_image
    calls = []

    def flaky(path, image):
        calls.append(1)
        if len(calls) == 4:
            raise OSError("disk full")
        return real(path, image)

    monkeypatch.setattr(folders, "write_image", flaky)
    with pytest.raises(OSError, match="disk full"):
        write_image_folder(tmp_path / "ds", ds.images, ds.labels)
    assert list(tmp_path.iterdir()) == []  # no target, no hidden temp folder


def test_label_ids_match_with_or_without_extension_and_other_formats(dataset, tmp_path: Path) -> None:
    out, _ = dataset
    (out / LABELS_FILE).write_text("name\tage\n000003\t31\n000007.jpg\t45.5\n")  # tab separated, id first
    back = read_image_folder(out)
    assert back.label_rows.tolist() == [3, 7]
    name, values = back.labels.pick(None)
    assert name == "age" and values.tolist() == [31.0, 45.5]


def test_several_columns_need_a_choice(dataset) -> None:
    out, _ = dataset
    table = read_image_folder(out).labels
    with pytest.raises(UserInputError, match=r"8 label columns \(head_size, .*\); choose one") as info:
        table.pick(None, "labels.csv")
    assert "--label-column" in info.value.one_line()
    name, values = table.pick("roll")
    assert name == "roll" and values.shape == (12,)


def test_jpeg_dataset_round_trip(tmp_path: Path) -> None:
    ds = generate(4, seed=1)
    out = write_image_folder(tmp_path / "jpg", ds.images, ds.labels, image_format="jpg")
    back = read_image_folder(out, resolution=32)
    assert back.ids == ["000000.jpg", "000001.jpg", "000002.jpg", "000003.jpg"]
    assert back.label_rows.tolist() == [0, 1, 2, 3]
    assert np.abs(back.images.astype(int) - ds.images).mean() < 12  # lossy, but the same pictures
