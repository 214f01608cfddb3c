"""Fréchet distance between Gaussian fits of image features (the FID recipe, any feature extractor).

Why a pluggable extractor: the classic FID uses an ImageNet Inception-v3, whose weights are a
download and whose features know nothing about 32x32 cartoon faces.  The toolkit's default is a
rotation-prediction network trained on the real images themselves (no download, see
:mod:`large_toolkit.analysis.fid_extractors`); Inception-v3 is used when the user supplies the
standard weights file.  Anything with the :class:`FeatureExtractor` shape plugs in.

Numerics, and why:

* Statistics are accumulated as running sums in float64 on the extractor's device, shifted by the
  first batch's mean, so ``n`` can be large (no feature matrix is kept) and the covariance does not
  suffer the cancellation of ``E[xx^T] - mu mu^T`` when features have a large common offset.
* The distance ``|mu1 - mu2|^2 + tr C1 + tr C2 - 2 tr sqrt(C1 C2)`` is computed in float64 with
  ``tr sqrt(C1 C2) = tr sqrt(sqrt(C1) C2 sqrt(C1))``: the inner product is symmetric positive
  semi-definite, so one symmetric eigen-decomposition gives it, with tiny negative eigenvalues
  (round-off of near-singular covariances, e.g. fewer samples than dimensions) clipped to zero.
  ``scipy.linalg.sqrtm`` on the non-symmetric ``C1 C2`` can return complex parts or NaN there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from large_toolkit.errors import ShapeError, UserInputError


@runtime_checkable
class FeatureExtractor(Protocol):
    """What :func:`feature_statistics` needs: a fixed-size embedding of images.

    ``fingerprint`` identifies the weights (cached statistics are keyed by it); ``features`` takes
    float NCHW images in [-1, 1] (the generator convention) on any device and returns ``[N, dim]``.
    """

    name: str
    dim: int

    @property
    def fingerprint(self) -> str: ...

    def features(self, images: torch.Tensor) -> torch.Tensor: ...


@dataclass
class GaussianStats:
    """Mean ``[D]`` and covariance ``[D, D]`` (float64, unbiased) of ``n`` feature vectors."""

    mean: np.ndarray
    cov: np.ndarray
    n: int

    @property
    def dim(self) -> int:
        return int(self.mean.shape[0])

    @classmethod
    def from_features(cls, feats: np.ndarray | torch.Tensor) -> GaussianStats:
        """Batch statistics of a ``[N, D]`` matrix (reference for :class:`RunningStats`)."""
        x = feats.detach().cpu().double().numpy() if isinstance(feats, torch.Tensor) else np.asarray(feats, np.float64)
        if x.ndim != 2 or x.shape[0] < 2:
            raise ShapeError(f"features: expected [N >= 2, D], got {list(x.shape)}")
        return cls(x.mean(0), np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1]), int(x.shape[0]))


class RunningStats:
    """Streaming mean/covariance: add feature batches as they come, on their device, in float64."""

    def __init__(self) -> None:
        self.n = 0
        self._shift: torch.Tensor | None = None
        self._sum: torch.Tensor | None = None
        self._outer: torch.Tensor | None = None

    def update(self, feats: torch.Tensor) -> None:
        """Add ``[B, D]`` features (any float dtype, any device)."""
        if feats.ndim != 2:
            raise ShapeError(f"features: expected [B, D], got {list(feats.shape)}")
        if feats.shape[0] == 0:
            return
        x = feats.detach().double()
        if self._shift is None:
            self._shift = x.mean(0)
            self._sum = torch.zeros_like(self._shift)
            self._outer = torch.zeros(x.shape[1], x.shape[1], dtype=torch.float64, device=x.device)
        assert self._sum is not None and self._outer is not None
        if x.shape[1] != self._shift.shape[0]:
            raise ShapeError(f"features: expected {self._shift.shape[0]} dims, got {x.shape[1]}")
        x = x.to(self._shift.device) - self._shift
        self._sum += x.sum(0)
        self._outer += x.T @ x
        self.n += int(x.shape[0])

    def stats(self) -> GaussianStats:
        """The Gaussian fit so far (needs at least two samples)."""
        if self._shift is None or self.n < 2:
            raise UserInputError(f"need at least 2 feature vectors for a covariance, got {self.n}")
        assert self._sum is not None and self._outer is not None
        centred_mean = self._sum / self.n
        cov = (self._outer - self.n * torch.outer(centred_mean, centred_mean)) / (self.n - 1)
        cov = 0.5 * (cov + cov.T)
        return GaussianStats((centred_mean + self._shift).cpu().numpy(), cov.cpu().numpy(), self.n)


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of a PSD matrix; negative round-off eigenvalues become zero."""
    vals, vecs = np.linalg.eigh(0.5 * (matrix + matrix.T))
    return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T


def trace_sqrt_product(cov1: np.ndarray, cov2: np.ndarray) -> float:
    """``tr sqrt(C1 C2)`` via the symmetric ``sqrt(C1) C2 sqrt(C1)`` (same eigenvalues as ``C1 C2``)."""
    root = _sqrt_psd(np.asarray(cov1, np.float64))
    inner = root @ np.asarray(cov2, np.float64) @ root
    vals = np.linalg.eigvalsh(0.5 * (inner + inner.T))
    return float(np.sqrt(np.clip(vals, 0.0, None)).sum())


def frechet_distance(a: GaussianStats, b: GaussianStats) -> float:
    """Squared 2-Wasserstein (Fréchet) distance between ``N(mu_a, C_a)`` and ``N(mu_b, C_b)``."""
    if a.dim != b.dim:
        raise ShapeError(f"feature statistics have {a.dim} and {b.dim} dims: were they made by the same extractor?")
    diff = np.asarray(a.mean, np.float64) - np.asarray(b.mean, np.float64)
    value = float(diff @ diff + np.trace(a.cov) + np.trace(b.cov) - 2.0 * trace_sqrt_product(a.cov, b.cov))
    return max(value, 0.0)  # round-off can give -1e-12 for identical inputs


def uint8_to_float(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 NHWC -> float NCHW in [-1, 1] (how real image folders enter the extractor)."""
    t = torch.from_numpy(np.ascontiguousarray(images)) if isinstance(images, np.ndarray) else images
    return t.permute(0, 3, 1, 2).to(torch.float32) / 127.5 - 1.0


def quantize(images: torch.Tensor) -> torch.Tensor:
    """Raw generator output -> what a saved PNG would hold, back in [-1, 1].

    Why: real images arrive as 8-bit PNGs; rounding and clamping the fakes the same way keeps the
    comparison about content, not about out-of-range values no image file can store.
    """
    return (images * 127.5 + 127.5).round().clamp(0, 255) / 127.5 - 1.0


def feature_statistics(
    extractor: FeatureExtractor,
    batches: Iterable[torch.Tensor],
    device: torch.device | str = "cpu",
    progress: Callable[[int], None] | None = None,
) -> GaussianStats:
    """Run ``extractor`` over float NCHW ``batches`` (moved to ``device``) and fit a Gaussian."""
    running = RunningStats()
    with torch.inference_mode():
        for batch in batches:
            running.update(extractor.features(batch.to(device)))
            if progress is not None:
                progress(int(batch.shape[0]))
    return running.stats()


def image_batches(images: np.ndarray, batch_size: int) -> Iterable[torch.Tensor]:
    """uint8 NHWC array -> float NCHW [-1, 1] tensors of ``batch_size`` (converted lazily)."""
    for start in range(0, int(images.shape[0]), batch_size):
        yield uint8_to_float(images[start : start + batch_size])
