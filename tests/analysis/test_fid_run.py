"""``run_fid``'s settings and real-set checks: bad input is refused in one line before anything is loaded."""

from __future__ import annotations

import numpy as np
import pytest

from large_toolkit.analysis.fid_run import FidSettings, load_real
from large_toolkit.errors import UserInputError


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (FidSettings("synthetic", psi=float("nan")), "--psi"),
        (FidSettings("synthetic", extractor="clip"), "unknown extractor 'clip'"),
        (FidSettings("synthetic", extractor="inception"), "needs --inception-weights"),
        (FidSettings("synthetic", inception_weights="w.pth"), "only used with --extractor inception"),
    ],
)
def test_inconsistent_settings_are_refused(settings: FidSettings, message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        settings.check()


def test_real_sets(tmp_path) -> None:
    from large_toolkit.io.images import write_image

    images, name = load_real("synthetic", 3, 1, 16)
    assert images.shape[:3] == (3, 16, 16) and images.dtype == np.uint8 and name == "synthetic(seed 1)"
    with pytest.raises(UserInputError, match="is not a folder"):
        load_real(str(tmp_path / "missing"), 3, 1, 16)
    write_image(tmp_path / "a.png", np.zeros((16, 16, 3), np.uint8))
    with pytest.raises(UserInputError, match="a covariance needs at least 2"):
        load_real(str(tmp_path), 3, 1, 16)
