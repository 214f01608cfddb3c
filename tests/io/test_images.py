"""Reading real image files through Pillow: formats, modes, EXIF orientation, resize policies, size cap."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from large_toolkit.errors import UserInputError
from large_toolkit.io.images import fit_to_resolution, list_images, make_grid, read_image, resize_note, write_image


def _rgb(h: int = 8, w: int = 12) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 20, y * 30, (x + y) * 10], axis=2).astype(np.uint8)


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif", ".webp"])
def test_lossless_formats_round_trip(tmp_path: Path, suffix: str) -> None:
    img = _rgb()
    Image.fromarray(img).save(tmp_path / f"a{suffix}", **({"lossless": True} if suffix == ".webp" else {}))
    assert np.array_equal(read_image(tmp_path / f"a{suffix}"), img)


def test_jpeg_is_read_and_written(tmp_path: Path) -> None:
    img = np.full((16, 16, 3), (200, 40, 90), np.uint8)
    write_image(tmp_path / "a.jpg", img)
    back = read_image(tmp_path / "a.jpg")
    assert back.shape == (16, 16, 3) and np.abs(back.astype(int) - img).max() <= 3


def test_modes_become_rgb(tmp_path: Path) -> None:
    grey = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    Image.fromarray(grey).save(tmp_path / "g.png")
    assert np.array_equal(read_image(tmp_path / "g.png"), np.repeat(grey[:, :, None], 3, axis=2))
    wide = (grey.astype(np.uint16) * 257).astype(np.uint16)  # 16-bit grey: full range maps to 0..255
    Image.fromarray(wide).save(tmp_path / "g16.png")
    assert np.array_equal(read_image(tmp_path / "g16.png")[:, :, 0], grey)
    Image.fromarray(_rgb()).convert("P", palette=Image.Palette.ADAPTIVE, colors=16).save(tmp_path / "p.png")
    assert read_image(tmp_path / "p.png").shape == (8, 12, 3)
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:2, :, 3] = 255  # top half opaque red, bottom half transparent: white
    Image.fromarray(rgba).save(tmp_path / "a.png")
    out = read_image(tmp_path / "a.png")
    assert out[0, 0].tolist() == [255, 0, 0] and out[3, 0].tolist() == [255, 255, 255]


def test_exif_orientation_is_honoured(tmp_path: Path) -> None:
    img = _rgb(6, 10)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view"
    Image.fromarray(img).save(tmp_path / "r.jpg", exif=exif, quality=100)
    back = read_image(tmp_path / "r.jpg")
    assert back.shape == (10, 6, 3)  # stored 10 wide, shown upright 6 wide


def test_resize_policies_and_note() -> None:
    img = np.zeros((20, 40, 3), np.uint8)
    img[:, 10:30] = 255  # a white centre square
    crop = fit_to_resolution(img, 10, "center-crop")
    assert crop.shape == (10, 10, 3) and crop.min() > 200  # only the centre is kept
    fit = fit_to_resolution(img, 10, "fit")
    assert fit.shape == (10, 10, 3) and fit[5, 0].max() < 40 and fit[0, 5].min() > 200  # padded white
    with pytest.raises(UserInputError, match=r"x\.png is 40x20, the generator makes 10x10"):
        fit_to_resolution(img, 10, "error", "x.png")
    assert resize_note([(10, 10)], 10, "center-crop") is None
    line = resize_note([(40, 20), (10, 10)], 10, "center-crop")
    assert line is not None and line.startswith("1 of 2 image(s) (40x20) center-cropped") and "\n" not in line


def test_pixel_cap_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Image.fromarray(_rgb(40, 40)).save(tmp_path / "big.png")
    monkeypatch.setenv("LARGE_TK_MAX_IMAGE_PIXELS", "1000")
    with pytest.raises(UserInputError) as info:
        read_image(tmp_path / "big.png")
    line = info.value.one_line()
    assert "big.png is too large to read safely (40x40, cap 1000 pixels)" in line
    assert "LARGE_TK_MAX_IMAGE_PIXELS" in line
    monkeypatch.setenv("LARGE_TK_MAX_IMAGE_PIXELS", "2000")
    assert read_image(tmp_path / "big.png").shape == (40, 40, 3)


def test_lister_takes_folders_files_and_globs(tmp_path: Path) -> None:
    for name in ("b.jpg", "a.png", "c.webp", "notes.txt", ".hidden.png"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in list_images(tmp_path)] == ["a.png", "b.jpg", "c.webp"]
    assert [p.name for p in list_images([tmp_path / "b.jpg", tmp_path / "a.png"])] == ["b.jpg", "a.png"]
    assert [p.name for p in list_images([str(tmp_path / "*.png")])] == ["a.png"]
    with pytest.raises(UserInputError, match="unique"):
        list_images([tmp_path, tmp_path / "a.png"])
    with pytest.raises(UserInputError, match="not an image file"):
        list_images([tmp_path / "notes.txt"])
    with pytest.raises(UserInputError, match="no images match"):
        list_images([str(tmp_path / "*.gif")])


def test_broken_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(UserInputError, match=r"bad\.png"):
        read_image(tmp_path / "bad.png")


def test_grid() -> None:
    tiles = np.arange(5 * 2 * 2 * 3, dtype=np.uint8).reshape(5, 2, 2, 3)
    grid = make_grid(tiles, columns=3)
    assert grid.shape == (4, 6, 3) and np.array_equal(grid[:2, 2:4], tiles[1]) and not grid[2:, 4:].any()
