"""Self-supervised image features from a small rotation-prediction CNN (Gidaris et al., ICLR 2018).

Why this exists: the fairest "no GAN" baseline for few-shot regression is a
feature extractor that, like LARGE's generator and encoder, was trained on the
unlabelled images only.  Predicting which of four 90-degree turns an image
was given forces a network to find heads, hair and light; its penultimate
layer is a compact, label-free representation that a ridge regression can then
calibrate with n labels.  (The demo discriminator has a rotation head, but its
weights are not shipped, so we train a dedicated network here.)

Training is deterministic for a given seed on CPU (seeded init, seeded batch
order and rotations) and takes a few seconds on 32x32 images.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class RotationNet(nn.Module):
    """Four stride-2 conv blocks -> global average pool -> ``width*4`` features -> 4 rotation logits."""

    def __init__(self, channels: int = 3, width: int = 16) -> None:
        super().__init__()
        chans = [channels, width, width * 2, width * 4, width * 4]
        self.blocks = nn.ModuleList(
            nn.Conv2d(chans[i], chans[i + 1], 3, stride=2 if i else 1, padding=1) for i in range(4)
        )
        self.norms = nn.ModuleList(nn.BatchNorm2d(c) for c in chans[1:])
        self.head = nn.Linear(chans[-1], 4)

    def features(self, img: torch.Tensor) -> torch.Tensor:
        """Image ``[N, C, H, W]`` in [-1, 1] -> feature vector ``[N, width*4]`` (before the rotation head)."""
        x = img
        for conv, norm in zip(self.blocks, self.norms, strict=True):
            x = F.relu(norm(conv(x)))
        return x.mean(dim=(2, 3))

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(img))


@dataclass
class RotationTraining:
    """A trained network and how well it solved the pretext task (on its own training images)."""

    net: RotationNet
    final_loss: float
    accuracy: float


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 NHWC -> float NCHW in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def train_rotation_net(
    images: np.ndarray,
    seed: int = 0,
    epochs: int = 4,
    batch_size: int = 128,
    width: int = 16,
    lr: float = 3e-3,
    progress: Callable[[int], None] | None = None,
) -> RotationTraining:
    """Train :class:`RotationNet` on uint8 NHWC ``images`` (no labels: the targets are the rotations we apply).

    ``progress`` (optional; the FID command's progress bar) is called with the number of images in
    each finished batch; it does not touch any random state, so results are the same with or without it.
    """
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    x = _to_tensor(images)
    net = RotationNet(x.shape[1], width)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    net.train()
    loss = torch.zeros(())
    for _ in range(epochs):
        order = torch.randperm(x.shape[0], generator=gen)
        for start in range(0, x.shape[0], batch_size):
            batch = x[order[start : start + batch_size]]
            # every image in all four orientations: a balanced pretext batch
            turned = torch.cat([torch.rot90(batch, k, dims=(2, 3)) for k in range(4)])
            target = torch.arange(4).repeat_interleave(batch.shape[0])
            loss = F.cross_entropy(net(turned), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if progress is not None:
                progress(int(batch.shape[0]))
    net.eval()
    with torch.no_grad():
        turned = torch.cat([torch.rot90(x, k, dims=(2, 3)) for k in range(4)])
        target = torch.arange(4).repeat_interleave(x.shape[0])
        acc = float((net(turned).argmax(1) == target).float().mean())
    return RotationTraining(net, float(loss.detach()), acc)


def rotation_features(net: RotationNet, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Penultimate-layer features ``[N, width*4]`` (float64) of uint8 NHWC ``images`` in eval mode."""
    net.eval()
    out = []
    with torch.no_grad():
        for start in range(0, images.shape[0], batch_size):
            out.append(net.features(_to_tensor(images[start : start + batch_size])).double().numpy())
    return np.concatenate(out)
