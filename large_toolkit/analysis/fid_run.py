"""One Fréchet-distance run: a generator's samples against a real image set (what ``large-tk fid`` does).

Cheap checks and loads come first (a bad weights file or generator fails before any long step), then the
extractor (trained once per real set and cached, or Inception from a file), the real statistics (cached)
and the generated statistics.  The result is JSON-ready data; the front end renders it.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from large_toolkit.analysis.defaults import DEFAULT_ROTATION_EPOCHS
from large_toolkit.errors import UserInputError

if TYPE_CHECKING:
    import numpy as np
    import torch

    from large_toolkit.analysis.frechet import FeatureExtractor, GaussianStats
    from large_toolkit.interfaces import Generator

SYNTHETIC_REAL_N = 5000

Stage = Callable[[str, int], Callable[[int], None]]
"""``stage(description, total)`` opens a progress stage and returns its ``advance(k)``."""


@dataclass(frozen=True)
class FidSettings:
    """What one run measures; the defaults are ``large-tk fid``'s."""

    real: str  # a folder of real images, or "synthetic" (the procedural demo set)
    backend: str = "stylegan2"
    checkpoint: str | None = None
    class_idx: int | None = None  # the class of a class-conditional model
    n: int = 5000
    n_real: int = SYNTHETIC_REAL_N  # size of the synthetic real set
    real_seed: int = 1
    extractor: str = "rotation"
    inception_weights: str | None = None
    psi: float = 1.0
    seed: int = 0  # of the generated z, not of the extractor
    rotation_epochs: int = DEFAULT_ROTATION_EPOCHS
    batch_size: int = 250
    use_cache: bool = True

    def check(self) -> None:
        """Refuse inconsistent settings in one line, before anything is loaded."""
        from large_toolkit.analysis.fid_extractors import EXTRACTORS
        from large_toolkit.validate import check_finite

        check_finite(self.psi, "--psi")
        if self.extractor not in EXTRACTORS:
            raise UserInputError(f"unknown extractor {self.extractor!r}", hint=f"use {' or '.join(EXTRACTORS)}")
        if self.extractor == "inception" and not self.inception_weights:
            raise UserInputError(
                "--extractor inception needs --inception-weights FILE",
                hint="large-tk never downloads weights; save torchvision's inception_v3 state dict",
            )
        if self.inception_weights and self.extractor != "inception":
            raise UserInputError("--inception-weights is only used with --extractor inception")


class _Clock:
    """Named durations of a run's steps, in the order they ran."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.seconds: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        t = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - t


def run_fid(settings: FidSettings, device: str | None = None, show_progress: bool = True) -> dict[str, Any]:
    """Measure ``settings`` on ``device`` (default: the best available); returns the JSON-ready result."""
    from large_toolkit.analysis.fid_extractors import images_hash
    from large_toolkit.analysis.frechet import frechet_distance
    from large_toolkit.generators import resolve_generator
    from large_toolkit.runner import resolve_device

    settings.check()
    dev = resolve_device(device)
    clock = _Clock()
    with clock.step("load_seconds"):
        feat = _inception(settings.inception_weights, dev) if settings.extractor == "inception" else None
        gen = resolve_generator(settings.backend, settings.checkpoint, str(dev), settings.class_idx)
        images, real_name = load_real(settings.real, settings.n_real, settings.real_seed, gen.resolution)
        real_fingerprint = images_hash(images)
    with _cache(settings.use_cache) as cache, _stages(show_progress) as stage:
        cached_net = None
        if feat is None:
            with clock.step("extractor_seconds"):
                feat, cached_net = _rotation(images, settings.rotation_epochs, cache, dev, stage)
        with clock.step("real_seconds"):
            real_stats, cached_stats = _real_stats(feat, images, settings.batch_size, dev, cache, stage)
        with clock.step("generated_seconds"):
            fake_stats = _generated_stats(feat, gen, settings, dev, stage)
    value = frechet_distance(fake_stats, real_stats)
    clock.seconds["total_seconds"] = time.perf_counter() - clock.start
    return {
        "fd": value,
        "fd_relative": value / max(float(real_stats.cov.trace()), 1e-300),
        "extractor": feat.name,
        "extractor_fingerprint": feat.fingerprint,
        "feature_dim": feat.dim,
        "n": settings.n,
        "n_real": real_stats.n,
        "real": real_name,
        "real_fingerprint": real_fingerprint,
        "generator": gen.fingerprint(),
        "psi": settings.psi,
        "seed": settings.seed,
        "device": str(dev),
        "cached": {"extractor": cached_net, "real_stats": cached_stats},
        **{k: round(v, 3) for k, v in clock.seconds.items()},
    }


@contextmanager
def _cache(use_cache: bool) -> Iterator[Path | None]:
    """The FID cache folder (None: the default one), or a throw-away folder when the cache is off."""
    if use_cache:
        yield None
        return
    with tempfile.TemporaryDirectory() as scratch:
        yield Path(scratch)


@contextmanager
def _stages(show: bool) -> Iterator[Stage]:
    """Progress stages on one bar display (stderr), shown or silent."""
    from large_toolkit.progress import make_progress

    with make_progress(disable=not show) as bar:

        def stage(description: str, total: int) -> Callable[[int], None]:
            task = bar.add_task(description, total=total)
            return lambda k: bar.advance(task, k)

        yield stage


def _inception(weights: str | None, device: torch.device) -> FeatureExtractor:
    from large_toolkit.analysis.inception import InceptionExtractor

    return InceptionExtractor.from_file(weights, device)  # type: ignore[arg-type]


def _rotation(
    images: np.ndarray, epochs: int, cache: Path | None, device: torch.device, stage: Stage
) -> tuple[FeatureExtractor, bool]:
    """The real set's rotation extractor (trained now, or read from the cache) and whether it was cached."""
    from large_toolkit.analysis.fid_extractors import EXTRACTOR_SEED, MAX_ROTATION_TRAIN, RotationExtractor

    advance = stage("training rotation extractor", min(len(images), MAX_ROTATION_TRAIN) * epochs)
    feat, cached = RotationExtractor.cached(images, seed=EXTRACTOR_SEED, epochs=epochs, cache=cache, progress=advance)
    feat.to(device)
    return feat, cached


def _real_stats(
    feat: FeatureExtractor, images: np.ndarray, batch_size: int, device: torch.device, cache: Path | None, stage: Stage
) -> tuple[GaussianStats, bool]:
    from large_toolkit.analysis.fid_extractors import real_statistics

    advance = stage("real features", len(images))
    return real_statistics(feat, images, batch_size, device, cache, advance)


def _generated_stats(
    feat: FeatureExtractor, gen: Generator, settings: FidSettings, device: torch.device, stage: Stage
) -> GaussianStats:
    from large_toolkit.analysis.fid_extractors import generator_batches
    from large_toolkit.analysis.frechet import feature_statistics

    batches = generator_batches(gen, settings.n, settings.seed, settings.psi, settings.batch_size)
    return feature_statistics(feat, batches, device, stage("generated features", settings.n))


def load_real(real: str, n_real: int, real_seed: int, resolution: int) -> tuple[np.ndarray, str]:
    """uint8 NHWC real images and a short description: the synthetic set, or a folder of images."""
    if real == "synthetic":
        from large_toolkit.data.synthetic import generate

        return generate(n_real, seed=real_seed, resolution=resolution).images, f"synthetic(seed {real_seed})"
    from large_toolkit.data.folders import read_image_folder

    if not Path(real).is_dir():
        raise UserInputError(f"--real {real!r} is not a folder", hint="pass a folder of PNGs or 'synthetic'")
    folder = read_image_folder(real, find_labels=False)
    if len(folder.images) < 2:
        raise UserInputError(f"--real {real} has {len(folder.images)} image(s); a covariance needs at least 2")
    return folder.images, str(real)
