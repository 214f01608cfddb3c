"""Deterministic scorers for the distributed InterFaceGAN test, importable by Ray workers.

Why a module of its own: ``scorer=module:function`` is imported on each worker, so the function must
live in a file on the workers' path (Ray puts the driver's working directory, the repo root, there).
"""

from __future__ import annotations

import torch


def brightness(images: torch.Tensor) -> torch.Tensor:
    """Mean pixel value per image: a smooth, exactly reproducible stand-in for an attribute classifier."""
    return images.double().mean(dim=(1, 2, 3))
