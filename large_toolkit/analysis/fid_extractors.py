"""Feature extractors for ``large-tk fid`` and the on-disk cache that makes repeat runs cheap.

``rotation`` (default): the self-supervised rotation-prediction network of
:mod:`large_toolkit.analysis.rotation_features`, trained here on the real images themselves.  Why:
it needs no download, it sees the real domain (an ImageNet network at 32x32 sees blurry blobs), and
training is deterministic for a seed on CPU.  The price: its values are only comparable between runs
that share the extractor, i.e. the same real set, seed and settings -- hence the fingerprint, and
the cache keyed by a content hash of the real images.

``inception``: torchvision's Inception-v3 pool3 from a user-supplied weights file
(:mod:`large_toolkit.analysis.inception`).

Cache layout (``$LARGE_TK_CACHE/fid``): ``rotation-<key>.safetensors`` holds a trained network,
``stats-<key>.safetensors`` a real set's Gaussian fit for one extractor fingerprint.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch.nn import functional as F

from large_toolkit.analysis.defaults import DEFAULT_ROTATION_EPOCHS
from large_toolkit.analysis.frechet import (
    FeatureExtractor,
    GaussianStats,
    feature_statistics,
    image_batches,
    quantize,
)
from large_toolkit.analysis.inception import state_fingerprint
from large_toolkit.analysis.rotation_features import RotationNet, train_rotation_net
from large_toolkit.errors import CheckpointError, UserInputError
from large_toolkit.io.artifacts import load_tensors, save_tensors
from large_toolkit.runner import precision_autocast

if TYPE_CHECKING:
    from large_toolkit.interfaces import Generator

EXTRACTORS = ("rotation", "inception")
ROTATION_FORMAT = "large-tk/fid-rotation"
STATS_FORMAT = "large-tk/fid-stats"

EXTRACTOR_SEED = 0
"""The rotation extractor's seed is fixed (not the run's ``--seed``): it belongs to the real set, so two
``fid`` runs, and every snapshot of ``train``, measure with the same network and their numbers compare."""
MAX_ROTATION_TRAIN = 10000
"""Training images for the rotation net: 4 epochs over 10k 32x32 images is ~1 min on 2 cores."""


def fid_cache_dir() -> Path:
    from large_toolkit.directions import cache_dir

    return cache_dir() / "fid"


def images_hash(images: np.ndarray) -> str:
    """Content hash of a uint8 NHWC image set (shape + bytes): the cache key of everything derived."""
    digest = hashlib.sha256(f"{images.shape}|{images.dtype}".encode())
    digest.update(np.ascontiguousarray(images).tobytes())
    return digest.hexdigest()[:24]


class RotationExtractor:
    """:class:`FeatureExtractor` over :class:`RotationNet` penultimate features (``width * 4`` dims).

    Inputs at another resolution than the training images are resized to it (bilinear, antialiased),
    so a generator and a real folder of different sizes are compared at the real images' scale.
    """

    name = "rotation"

    def __init__(self, net: RotationNet, resolution: int, accuracy: float | None = None) -> None:
        self.net = net.eval()
        self.resolution = int(resolution)
        self.dim = int(net.head.in_features)
        self.accuracy = accuracy
        self._fingerprint = state_fingerprint(net, prefix=f"rotation|{self.resolution}")

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    @classmethod
    def train(
        cls,
        images: np.ndarray,
        seed: int = 0,
        epochs: int = DEFAULT_ROTATION_EPOCHS,
        width: int = 16,
        progress: Callable[[int], None] | None = None,
    ) -> RotationExtractor:
        """Train on (at most :data:`MAX_ROTATION_TRAIN` of) uint8 NHWC ``images``; deterministic per seed."""
        train = images[:MAX_ROTATION_TRAIN]
        result = train_rotation_net(train, seed=seed, epochs=epochs, width=width, progress=progress)
        return cls(result.net, images.shape[1], result.accuracy)

    @classmethod
    def cached(
        cls,
        images: np.ndarray,
        seed: int = 0,
        epochs: int = DEFAULT_ROTATION_EPOCHS,
        width: int = 16,
        cache: Path | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[RotationExtractor, bool]:
        """Load the network trained on exactly these images with these settings, or train and save it.

        Returns ``(extractor, was_cached)``.  A corrupt cache file is retrained over, not trusted.
        """
        key = hashlib.sha256(
            f"{images_hash(images)}|{seed}|{epochs}|{width}|{MAX_ROTATION_TRAIN}".encode()
        ).hexdigest()[:24]
        path = (cache or fid_cache_dir()) / f"rotation-{key}.safetensors"
        if path.is_file():
            try:
                tensors, meta = load_tensors(path, ROTATION_FORMAT)
                net = RotationNet(images.shape[3], int(meta["width"]))
                net.load_state_dict(tensors)
                return cls(net, int(meta["resolution"]), meta.get("accuracy")), True
            except (UserInputError, CheckpointError, KeyError, RuntimeError):
                pass
        extractor = cls.train(images, seed, epochs, width, progress)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": ROTATION_FORMAT,
            "dataset": images_hash(images),
            "width": width,
            "resolution": extractor.resolution,
            "seed": seed,
            "epochs": epochs,
            "accuracy": extractor.accuracy,
            "fingerprint": extractor.fingerprint,
        }
        save_tensors(path, extractor.net.state_dict(), meta)
        return extractor, False

    @classmethod
    def for_dataset(
        cls, images: np.ndarray, cache: Path | None = None, progress: Callable[[int], None] | None = None
    ) -> tuple[RotationExtractor, bool]:
        """THE extractor of a real set: trained once (fixed settings), stored, reused by ``fid`` and ``train``."""
        return cls.cached(images, EXTRACTOR_SEED, DEFAULT_ROTATION_EPOCHS, 16, cache, progress)

    def to(self, device: torch.device | str) -> RotationExtractor:
        self.net.to(device)
        return self

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Float NCHW [-1, 1] -> ``[N, dim]`` in eval mode (BatchNorm uses its running statistics)."""
        device = next(self.net.parameters()).device
        x = images.to(device, torch.float32)
        if x.shape[-1] != self.resolution or x.shape[-2] != self.resolution:
            x = F.interpolate(
                x, size=(self.resolution, self.resolution), mode="bilinear", align_corners=False, antialias=True
            )
        with torch.no_grad():
            return self.net.features(x)


def real_statistics(
    extractor: FeatureExtractor,
    images: np.ndarray,
    batch_size: int = 250,
    device: torch.device | str = "cpu",
    cache: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[GaussianStats, bool]:
    """Gaussian fit of a real uint8 NHWC set's features, cached by (content hash, extractor fingerprint)."""
    key = hashlib.sha256(f"{images_hash(images)}|{extractor.name}|{extractor.fingerprint}".encode()).hexdigest()[:24]
    path = (cache or fid_cache_dir()) / f"stats-{key}.safetensors"
    if path.is_file():
        try:
            tensors, meta = load_tensors(path, STATS_FORMAT)
            return GaussianStats(tensors["mean"].numpy(), tensors["cov"].numpy(), int(meta["n"])), True
        except (UserInputError, CheckpointError, KeyError):
            pass
    stats = feature_statistics(extractor, image_batches(images, batch_size), device, progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_tensors(
        path,
        {"mean": torch.from_numpy(stats.mean), "cov": torch.from_numpy(stats.cov)},
        {"format": STATS_FORMAT, "n": stats.n, "extractor": extractor.name, "fingerprint": extractor.fingerprint},
    )
    return stats, False


def generator_batches(
    generator: Generator, n: int, seed: int = 0, psi: float = 1.0, batch_size: int = 250
) -> Iterator[torch.Tensor]:
    """``n`` generated images (float NCHW [-1, 1], 8-bit quantised) in batches.

    All z are drawn up front from one seeded generator, so the images do not depend on the batch size.
    """
    z = generator.sample_z(n, seed)
    with torch.inference_mode(), precision_autocast(generator.device):  # the global --precision
        for start in range(0, n, batch_size):
            yield quantize(generator.synthesis(generator.mapping(z[start : start + batch_size], psi=psi)).float())
