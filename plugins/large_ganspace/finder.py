"""GANSpace in W: PCA of ``w = mapping(z)``, z ~ N(0, I), no truncation.

Why streaming: the original fits sklearn ``IncrementalPCA`` chunk by chunk,
which is slow (~15 min per 1e6 samples on a CPU) and approximate in the tail.
The covariance of W is only ``w_dim x w_dim``, so we accumulate sufficient
statistics batch by batch on the generator's device and decompose once:

* every batch is shifted by a fixed reference (the mean of the first batch)
  before accumulating, so ``sum(x xᵀ) - n mean meanᵀ`` never cancels
  catastrophically;
* each batch's ``xᵀx`` is formed in float32 (fast matmul, the shift keeps the
  values small) and added to float64 running sums; the final covariance and
  ``eigh`` are float64;
* N x w_dim is never held in memory — only one batch at a time.

Outputs match a full PCA of the same samples (components, variances, mean).
Sign convention: the largest-|.| entry of each component is positive — the
rule sklearn's ``svd_flip`` applies to ``IncrementalPCA``/``PCA`` output, so
GANSpace-style named edits (signed sigmas) transfer.

Edits, as the original: ``w_l += c_i * stdev_i * sigma`` for W+ slots
``l`` in ``[start, end)``; the per-direction ``step_scale`` provenance holds
``stdev_i`` so every edit tool scales steps in sigmas for GANSpace directions.
``stdev_i`` here is ``sqrt(eigenvalue)`` over all N samples (the original
re-estimates it from 5000 fresh samples, ~1% noisier).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import torch

from large_toolkit.directions import canonical_sign
from large_toolkit.errors import UserInputError
from large_toolkit.interfaces import DirectionFinder, Generator
from large_toolkit.io.artifacts import generator_meta
from large_toolkit.types import Direction, DirectionSet, LatentSpace

ProgressFn = Callable[[str, int, int], None]


def iter_w_batches(
    generator: Generator, n_samples: int, batch_size: int, seed: int, device: torch.device | None = None
) -> Iterator[torch.Tensor]:
    """Yield ``[b, w_dim]`` float32 batches of ``mapping(z)[:, 0]`` (psi=1), seeded.

    z is drawn from one seeded torch RNG on ``device`` (CPU RNG on CPU), so the
    samples are a function of (seed, batch_size, device type).
    """
    device = device or generator.device
    rng = torch.Generator(device=device).manual_seed(int(seed))
    done = 0
    with torch.inference_mode():
        while done < n_samples:
            b = min(batch_size, n_samples - done)
            z = torch.randn(b, generator.z_dim, generator=rng, device=device)
            c = torch.zeros(b, generator.c_dim, device=device) if generator.c_dim else None
            ws = generator.mapping(z, c, psi=1.0)
            yield ws[:, 0].float()
            done += b


class StreamingCovariance:
    """Running mean/covariance with a reference shift; float64 sums, float32 batch products."""

    def __init__(self, dim: int, device: torch.device, batch_dtype: torch.dtype = torch.float32) -> None:
        self.dim, self.device, self.batch_dtype = dim, device, batch_dtype
        self.n = 0
        self.ref: torch.Tensor | None = None
        self.s1 = torch.zeros(dim, dtype=torch.float64, device=device)
        self.s2 = torch.zeros(dim, dim, dtype=torch.float64, device=device)

    def update(self, x: torch.Tensor) -> None:
        x = x.to(self.device)
        if self.ref is None:
            # Rounded to the batch dtype so the shift itself is exact in that dtype;
            # only its closeness to the mean matters, and the final mean adds it back in float64.
            self.ref = x.double().mean(0).to(self.batch_dtype).double()
        xc = x.to(self.batch_dtype) - self.ref.to(self.batch_dtype)
        # Batch sums in the batch dtype (torch's pairwise reduction, on small shifted values), then float64:
        # ``sum(dtype=float64)`` on a float32 batch costs as much as the whole Gram product on a CPU.
        self.s1 += xc.sum(0).double()
        # xᵀx is symmetric: compute only the upper block triangle (~40% fewer flops than one
        # full GEMM at w_dim 512, the dominant cost on a CPU); the lower half is mirrored once at the end.
        for a, b in self._blocks():
            self.s2[a:b, a:] += (xc[:, a:b].T @ xc[:, a:]).double()
        self.n += int(x.shape[0])

    def _blocks(self, width: int = 128) -> list[tuple[int, int]]:
        return [(a, min(a + width, self.dim)) for a in range(0, self.dim, width)]

    def mean(self) -> torch.Tensor:
        assert self.ref is not None
        return self.ref + self.s1 / self.n

    def covariance(self) -> torch.Tensor:
        """Unbiased (N-1) covariance, float64, symmetrised."""
        if self.n < 2:
            raise UserInputError("GANSpace needs at least 2 samples")
        s2 = self.s2.clone()
        for a, b in self._blocks():
            s2[b:, a:b] = s2[a:b, b:].T  # mirror the upper block triangle
        d = self.s1 / self.n
        cov = (s2 - self.n * torch.outer(d, d)) / (self.n - 1)
        return 0.5 * (cov + cov.T)


def pca_from_covariance(cov: torch.Tensor, num: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Top ``num`` (components rows, variances) of a covariance, descending, canonical sign."""
    values, vectors = torch.linalg.eigh(cov.double().cpu())
    perm = torch.argsort(values, descending=True)[:num]
    return canonical_sign(vectors[:, perm].T.contiguous()), values[perm].clamp_min(0.0)


def streaming_pca(
    generator: Generator,
    n_samples: int,
    batch_size: int,
    seed: int,
    num: int,
    progress: ProgressFn | None = None,
    device: torch.device | None = None,
) -> dict[str, Any]:
    """Sample, accumulate and decompose; returns components, variances, mean, total variance, timings."""
    device = device or generator.device
    stats = StreamingCovariance(generator.w_dim, device)
    t0 = time.perf_counter()
    for batch in iter_w_batches(generator, n_samples, batch_size, seed, device):
        stats.update(batch)
        if progress is not None:
            progress("GANSpace sampling W", stats.n, n_samples)
    cov = stats.covariance()
    comps, variances = pca_from_covariance(cov, num)
    return {
        "components": comps,
        "variances": variances,
        "mean": stats.mean().cpu(),
        "total_variance": float(torch.trace(cov)),
        "n": stats.n,
        "seconds": time.perf_counter() - t0,
    }


def edit_ws(
    ws: torch.Tensor, component: torch.Tensor, stdev: float, sigma: float, start: int = 0, end: int | None = None
) -> torch.Tensor:
    """The original's layer-range edit: ``ws[:, start:end] += component * stdev * sigma`` (end exclusive)."""
    out = ws.clone()
    out[:, start:end] += component.to(ws) * float(stdev) * float(sigma)
    return out


def center_along(w: torch.Tensor, component: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """``visualize.py``'s strip centring: remove the code's coordinate along the component."""
    c = component.to(w)
    return w - ((w - mean.to(w)) @ c)[..., None] * c


class GANSpaceFinder(DirectionFinder):
    """PCA directions in W with per-component sigma (stdev) and the W mean."""

    space = LatentSpace.W

    def __init__(self) -> None:
        self.progress: ProgressFn | None = None

    def default_config(self) -> dict[str, Any]:
        return {"num_samples": 1_000_000, "batch_size": 10_000, "components": 80, "seed": 0}

    def find(self, generator: Generator, config: Mapping[str, Any] | None = None) -> DirectionSet:
        cfg = self.merged(config, self.default_config())
        n, bs, c, seed = (int(cfg[k]) for k in ("num_samples", "batch_size", "components", "seed"))
        if n < 2 or bs < 1:
            raise UserInputError(f"GANSpace needs num_samples >= 2 and batch_size >= 1 (got {n}, {bs})")
        if c < 1:
            raise UserInputError(f"GANSpace components must be >= 1, got {c}")
        c = min(c, generator.w_dim)  # the default 80 is for w_dim 512; smaller generators get all
        res = streaming_pca(generator, n, bs, seed, c, self.progress)
        comps, var, mean = res["components"], res["variances"], res["mean"]
        stdev = var.sqrt()
        fingerprint = generator.fingerprint()
        directions = [
            Direction(
                comps[k].float(),
                LatentSpace.W,
                f"ganspace_{k}",
                -float(mean @ comps[k]),
                None,
                None,
                {
                    "finder": "ganspace",
                    "index": k,
                    "config": dict(cfg),
                    "generator": fingerprint,
                    "scale": "sigma",
                    "step_scale": float(stdev[k]),
                    "stdev": float(stdev[k]),
                },
            )
            for k in range(c)
        ]
        return DirectionSet(
            directions,
            var.clone(),
            "variance",
            {
                "finder": "ganspace",
                "config": dict(cfg),
                "mean": mean.tolist(),
                "stdev": stdev.tolist(),
                "var_ratio": (var / res["total_variance"]).tolist(),
                "num_samples": res["n"],
                "generator": generator_meta(generator),
                "truncation_policy": "after_edit",
            },
        )
