"""The two trained networks: the deformator (direction matrix A) and the reconstructor R.

Deformator types (``--option deformator=...``):

* ``ortho`` — ``A = expm(L - Lᵀ)[:, :K]`` with a learnable ``L`` ``[D, D]``
  (``log_mat_half``, the original's parameter name, so the state dict is
  the original's file format).  The exponential of a skew matrix is exactly
  orthogonal whatever ``L`` is, so plain Adam on ``L`` keeps the directions
  orthonormal without projections.  ``K < D`` keeps the first K columns
  (the original requires K = D).
* ``proj`` — the paper's column-normalised A: ``shift = eps * A_k / ||A_k||``.
  The original's ``proj`` also adds a trained bias *before* renormalising,
  which makes the direction depend on eps; we follow the paper (no bias) so a
  column is the direction that is applied.
* ``linear`` — ``shift = eps * A_k + b`` (``nn.Linear`` with identity init and
  a trained bias, as the original: the bias is added to every shift).

Init: ``random_init=False`` (near identity: ``L = 0.001·N(0,1)`` / ``A = I``)
is our default because the original's author recommends it for stability
(GANLatentDiscovery issue #11); the original's effective default is True
(``L ~ N(0,1)``, ``A = 0.1·N(0,1)``), available via ``random_init=true``.

Reconstructors see ``cat(image, shifted image)`` (6 channels) and return
(logits over K directions, predicted eps).  ``lenet`` is a small conv net
for generators up to 64 px; ``resnet`` is a ResNet-18-shaped net (BasicBlocks
2-2-2-2, widths 64-512) as the original's ``LatentShiftPredictor``, written
here without torchvision.  Both can first resize the pair (``size``), which
is how users keep 1024 px training affordable.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

DEFORMATOR_TYPES = ("ortho", "proj", "linear")
RECONSTRUCTOR_TYPES = ("lenet", "resnet")


class Deformator(nn.Module):
    """Maps (direction index k, magnitude eps) to a W shift; columns of :meth:`matrix` are directions."""

    def __init__(self, dim: int, count: int, kind: str = "ortho", random_init: bool = False) -> None:
        super().__init__()
        if kind not in DEFORMATOR_TYPES:
            raise ValueError(f"unknown deformator type {kind!r}; use one of {DEFORMATOR_TYPES}")
        if not 0 < count <= dim and kind == "ortho":
            raise ValueError(f"an orthonormal deformator has at most {dim} directions, got {count}")
        self.dim, self.count, self.kind = dim, count, kind
        if kind == "ortho":
            scale = 1.0 if random_init else 0.001
            self.log_mat_half = nn.Parameter(scale * torch.randn(dim, dim))
        else:
            self.linear = nn.Linear(count, dim, bias=(kind == "linear"))
            with torch.no_grad():
                if random_init:
                    self.linear.weight.copy_(0.1 * torch.randn(dim, count))
                else:
                    self.linear.weight.copy_(torch.eye(dim, count))

    def matrix(self) -> torch.Tensor:
        """``[D, K]``: column k is the shift direction for index k (unit length for ortho/proj)."""
        if self.kind == "ortho":
            skew = self.log_mat_half - self.log_mat_half.T
            return torch.linalg.matrix_exp(skew)[:, : self.count]
        weight = self.linear.weight
        if self.kind == "proj":
            return weight / weight.norm(dim=0, keepdim=True).clamp_min(1e-12)
        return weight

    def bias(self) -> torch.Tensor | None:
        """The trained offset added to every shift (``linear`` only)."""
        return self.linear.bias if self.kind == "linear" else None

    def forward(self, index: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """``[N]`` indices and ``[N]`` magnitudes -> ``[N, D]`` shifts ``eps·A[:, k] (+ b)``."""
        cols = self.matrix().T[index]  # [N, D]
        shift = eps[:, None] * cols
        bias = self.bias()
        return shift if bias is None else shift + bias


class _Heads(nn.Module):
    """Shared tail: features -> (logits [N, K], eps [N])."""

    def __init__(self, features: int, count: int) -> None:
        super().__init__()
        self.logits = nn.Linear(features, count)
        self.shift = nn.Linear(features, 1)

    def forward(self, feat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.logits(feat), self.shift(feat).squeeze(1)


class LeNetReconstructor(nn.Module):
    """Three conv stages and global pooling: enough for 16-64 px generators, fast on a CPU."""

    def __init__(self, count: int, channels: int = 3, size: int = 0, width: int = 32) -> None:
        super().__init__()
        self.size = size
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(2 * channels, w, 3, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 3, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 4 * w, 3, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(4 * w, 4 * w, 3, padding=1),
            nn.LeakyReLU(0.2),
            nn.AdaptiveAvgPool2d(2),
            nn.Flatten(),
        )
        self.heads = _Heads(16 * w, count)

    def forward(self, img: torch.Tensor, shifted: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = _pair(img, shifted, self.size)
        return self.heads(self.features(x))


class _Block(nn.Module):
    """ResNet BasicBlock (two 3x3 convs, BN, identity or 1x1 projection shortcut)."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.short(x))


class ResNetReconstructor(nn.Module):
    """ResNet-18 layout on the 6-channel pair, as the original's ``LatentShiftPredictor``."""

    def __init__(self, count: int, channels: int = 3, size: int = 0, width: int = 64) -> None:
        super().__init__()
        self.size = size
        w = width
        layers: list[nn.Module] = [
            nn.Conv2d(2 * channels, w, 7, 2, 3, bias=False),
            nn.BatchNorm2d(w),
            nn.ReLU(),
            nn.MaxPool2d(3, 2, 1),
        ]
        cin = w
        for i, cout in enumerate((w, 2 * w, 4 * w, 8 * w)):
            stride = 1 if i == 0 else 2
            layers += [_Block(cin, cout, stride), _Block(cout, cout, 1)]
            cin = cout
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.heads = _Heads(cin, count)

    def forward(self, img: torch.Tensor, shifted: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.heads(self.features(_pair(img, shifted, self.size)))


def _pair(img: torch.Tensor, shifted: torch.Tensor, size: int) -> torch.Tensor:
    x = torch.cat([img, shifted], dim=1)
    if size and x.shape[-1] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return x


def make_reconstructor(kind: str, count: int, channels: int, resolution: int, size: int) -> nn.Module:
    """``auto`` picks LeNet up to 64 px (input size after resizing), else the ResNet."""
    seen = size or resolution
    if kind == "auto":
        kind = "lenet" if seen <= 64 else "resnet"
    if kind == "lenet":
        return LeNetReconstructor(count, channels, size)
    if kind == "resnet":
        return ResNetReconstructor(count, channels, size)
    raise ValueError(f"unknown reconstructor {kind!r}; use auto or one of {RECONSTRUCTOR_TYPES}")
