"""Image scorers for InterFaceGAN (``--option scorer=large_tk_dcgan.scorers:brightness``).

A scorer maps images ``[N, 3, H, W]`` in [-1, 1] to scores ``[N]``; InterFaceGAN fits a boundary
between the highest- and lowest-scoring samples.
"""

from __future__ import annotations

import torch


def brightness(images: torch.Tensor) -> torch.Tensor:
    """Mean intensity per image: the attribute the example's regression test predicts."""
    return images.mean(dim=(1, 2, 3))


def redness(images: torch.Tensor) -> torch.Tensor:
    """Red minus the mean of green and blue."""
    return images[:, 0].mean(dim=(1, 2)) - images[:, 1:].mean(dim=(1, 2, 3))
