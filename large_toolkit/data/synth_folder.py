"""Write the procedural demo dataset to a folder: the job behind ``large-tk data synth``.

Kept apart from the command so that the GUI (or a script) can write the same folder with its own
progress display: the caller passes a ``stage(description, total)`` factory that returns the
``advance(k)`` callback for that stage.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from large_toolkit.data.folders import check_output_folder, write_image_folder
from large_toolkit.data.synthetic import SyntheticSet, generate
from large_toolkit.errors import UserInputError
from large_toolkit.validate import MAX_ITEMS, check_int_range

RESOLUTIONS = (16, 32, 64, 128, 256)
IMAGE_FORMATS = ("png", "jpg")

Stage = Callable[[str, int], Callable[[int], None]]
"""``stage(description, total)`` -> ``advance(k)``: one progress stage (rendering, then writing)."""


@dataclass(frozen=True)
class SynthRequest:
    """What to write: ``n`` images of ``resolution`` from ``seed`` into ``out`` as ``image_format`` files."""

    out: Path
    n: int = 10000
    seed: int = 0
    resolution: int = 32
    overwrite: bool = False
    image_format: str = "png"

    def check(self) -> None:
        """Refuse bad values and an output folder we must not replace, before any slow work starts."""
        check_int_range(self.n, "--n", 1, MAX_ITEMS)
        if self.image_format not in IMAGE_FORMATS:
            raise UserInputError(f"--format must be png or jpg, got {self.image_format!r}")
        if self.resolution not in RESOLUTIONS:
            raise UserInputError(
                f"--resolution must be one of {', '.join(map(str, RESOLUTIONS))}, got {self.resolution}"
            )
        check_output_folder(self.out, self.overwrite)


@dataclass(frozen=True)
class SynthResult:
    """The written dataset and how long rendering and the whole job took."""

    request: SynthRequest
    dataset: SyntheticSet
    render_seconds: float
    total_seconds: float

    def summary(self) -> dict[str, Any]:
        """The JSON summary of ``data synth --json``."""
        req = self.request
        return {
            "out": str(req.out),
            "n": req.n,
            "seed": req.seed,
            "resolution": req.resolution,
            "labels": str(req.out / "labels.csv"),
            "factors": [f.to_dict() for f in self.dataset.factors],
            "render_seconds": round(self.render_seconds, 3),
            "total_seconds": round(self.total_seconds, 3),
            "render_images_per_second": round(req.n / max(self.render_seconds, 1e-9), 1),
        }


def write_synthetic_folder(request: SynthRequest, stage: Stage) -> SynthResult:
    """Check the request, render the images, write them with ``labels.csv``; progress goes to ``stage``."""
    request.check()
    t0 = time.perf_counter()
    dataset = generate(
        request.n, seed=request.seed, resolution=request.resolution, progress=stage("rendering", request.n)
    )
    t_render = time.perf_counter() - t0
    write_image_folder(
        request.out,
        dataset.images,
        dataset.labels,
        overwrite=request.overwrite,
        progress=stage(f"writing {request.image_format.upper()}s", request.n),
        image_format=request.image_format,
    )
    return SynthResult(request, dataset, t_render, time.perf_counter() - t0)
