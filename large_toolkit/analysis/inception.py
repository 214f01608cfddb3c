"""Inception-v3 pool3 features (2048-d) from torchvision's ``inception_v3`` weights, never downloaded.

Why written out here: torchvision is not a dependency, and large-tk never fetches weights.  The
modules below reproduce torchvision's ``Inception3`` layer for layer with the same parameter names
(``Conv2d_1a_3x3.conv.weight``, ``Mixed_7c.branch_pool.bn.running_var``, ...), so the state dict a
user saved with ``torch.save(torchvision.models.inception_v3(weights="DEFAULT").state_dict(), f)``
(or torchvision's own ``inception_v3_google-*.pth``) loads directly, through
:func:`large_toolkit.io.checkpoint.read_torch_checkpoint` (``weights_only=True``: no code runs).

Preprocessing (documented because FID values depend on it):

1. images are float NCHW in [-1, 1] (the generator convention; real PNGs are mapped the same way);
2. resized to 299x299 with bilinear interpolation (``align_corners=False``, no antialias), as
   torchvision's ``Inception_V3_Weights`` transform would after its resize;
3. fed directly: the Google-trained weights expect ``(x - 0.5) / 0.5`` of [0, 1] pixels, which is
   exactly [-1, 1] -- torchvision's ``transform_input=True`` only converts ImageNet-normalised
   input back to that range, so we skip both the normalisation and its undoing.

Features are the 2048-d global average pool before dropout and ``fc`` ("pool3").  These weights
are torchvision's port, not the TF graph (``pt_inception-2015-12-05``) used by published FID
numbers, so absolute values are comparable between large-tk runs, not with papers.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from large_toolkit.errors import CheckpointError

INPUT_SIZE = 299
FEATURE_DIM = 2048
_IGNORED_PREFIXES = ("AuxLogits.", "fc.")
"""Heads present in torchvision's state dict that pool3 features do not use."""


class BasicConv2d(nn.Module):
    """conv (no bias) -> BatchNorm (eps 1e-3) -> ReLU, torchvision's building block."""

    def __init__(self, cin: int, cout: int, kernel_size: Any, stride: int = 1, padding: Any = 0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel_size, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg3(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)


class InceptionA(nn.Module):
    def __init__(self, cin: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, 1)
        self.branch5x5_1 = BasicConv2d(cin, 48, 1)
        self.branch5x5_2 = BasicConv2d(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [
                self.branch1x1(x),
                self.branch5x5_2(self.branch5x5_1(x)),
                self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                self.branch_pool(_avg3(x)),
            ],
            1,
        )


class InceptionB(nn.Module):
    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, 3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [
                self.branch3x3(x),
                self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                F.max_pool2d(x, kernel_size=3, stride=2),
            ],
            1,
        )


class InceptionC(nn.Module):
    def __init__(self, cin: int, c7: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 192, 1)
        self.branch7x7_1 = BasicConv2d(cin, c7, 1)
        self.branch7x7_2 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, 1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            d = layer(d)
        return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(_avg3(x))], 1)


class InceptionD(nn.Module):
    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, 1)
        self.branch3x3_2 = BasicConv2d(192, 320, 3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, 1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([b3, b7, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class InceptionE(nn.Module):
    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 320, 1)
        self.branch3x3_1 = BasicConv2d(cin, 384, 1)
        self.branch3x3_2a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, 1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        return torch.cat([self.branch1x1(x), b3, d, self.branch_pool(_avg3(x))], 1)


class InceptionAux(nn.Module):
    """The auxiliary classifier head: only built to check parameter counts (pool3 ignores it)."""

    def __init__(self, cin: int, num_classes: int) -> None:
        super().__init__()
        self.conv0 = BasicConv2d(cin, 128, 1)
        self.conv1 = BasicConv2d(128, 768, 5)
        self.fc = nn.Linear(768, num_classes)


class InceptionV3(nn.Module):
    """torchvision's ``Inception3`` trunk; ``with_heads`` adds ``AuxLogits`` and ``fc`` (unused by pool3)."""

    def __init__(self, with_heads: bool = False, num_classes: int = 1000) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, 3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, 1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, 3)
        self.Mixed_5b = InceptionA(192, 32)
        self.Mixed_5c = InceptionA(256, 64)
        self.Mixed_5d = InceptionA(288, 64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, 128)
        self.Mixed_6c = InceptionC(768, 160)
        self.Mixed_6d = InceptionC(768, 160)
        self.Mixed_6e = InceptionC(768, 192)
        if with_heads:
            self.AuxLogits = InceptionAux(768, num_classes)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280)
        self.Mixed_7c = InceptionE(2048)
        if with_heads:
            self.fc = nn.Linear(2048, num_classes)

    def pool3(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, 3, 299, 299]`` in [-1, 1] -> ``[N, 2048]``."""
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(self, f"Mixed_{name}")(x)
        return x.mean(dim=(2, 3))


def _unwrap(obj: Any, name: str) -> Mapping[str, torch.Tensor]:
    """Accept a bare state dict, ``{"state_dict": ...}`` / ``{"model": ...}``, and ``module.`` prefixes."""
    for key in ("state_dict", "model"):
        if isinstance(obj, Mapping) and isinstance(obj.get(key), Mapping):
            obj = obj[key]
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(
            f"{name} is not a state dict of tensors",
            hint="save it with torch.save(torchvision.models.inception_v3(weights='DEFAULT').state_dict(), FILE)",
        )
    return {(k[7:] if k.startswith("module.") else k): v for k, v in obj.items()}


def load_inception_state(net: InceptionV3, state: Mapping[str, torch.Tensor], name: str = "weights") -> None:
    """Copy torchvision-named tensors into ``net``; every trunk tensor must be present with its shape."""
    own = net.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own and not k.startswith(_IGNORED_PREFIXES)]
    if missing or unexpected:
        detail = f"{len(missing)} tensor(s) missing, e.g. {missing[0]}" if missing else ""
        if unexpected:
            detail += ("; " if detail else "") + f"{len(unexpected)} unexpected, e.g. {unexpected[0]}"
        raise CheckpointError(
            f"{name} is not a torchvision inception_v3 state dict ({detail})",
            hint="pass the state dict of torchvision.models.inception_v3",
        )
    for key, tensor in own.items():
        if tuple(state[key].shape) != tuple(tensor.shape):
            raise CheckpointError(
                f"{name}: {key} has shape {list(state[key].shape)}, inception_v3 needs {list(tensor.shape)}"
            )
    net.load_state_dict({k: state[k].to(own[k].dtype) for k in own}, strict=True)


class InceptionExtractor:
    """:class:`~large_toolkit.analysis.frechet.FeatureExtractor` over Inception-v3 pool3."""

    name = "inception"
    dim = FEATURE_DIM

    def __init__(self, net: InceptionV3, fingerprint: str) -> None:
        self.net = net.eval()
        self._fingerprint = fingerprint

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], device: torch.device | str = "cpu") -> InceptionExtractor:
        """Load a user's weights file (``torch.save`` of the state dict) safely; nothing is downloaded."""
        from large_toolkit.io.checkpoint import read_torch_checkpoint

        name = os.path.basename(os.fspath(path))
        state = _unwrap(read_torch_checkpoint(path), name)
        net = InceptionV3()
        load_inception_state(net, state, name)
        return cls(net.to(device), state_fingerprint(net))

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Float NCHW [-1, 1], any size -> ``[N, 2048]`` (bilinear resize to 299, see module docs)."""
        device = next(self.net.parameters()).device
        x = images.to(device, torch.float32)
        if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
            x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
        with torch.no_grad():
            return self.net.pool3(x)


def state_fingerprint(module: nn.Module, prefix: str = "") -> str:
    """Short hash of a module's tensors: ties cached statistics to the exact weights."""
    digest = hashlib.sha256(prefix.encode())
    for key, tensor in sorted(module.state_dict().items()):
        digest.update(key.encode())
        digest.update(tensor.detach().to("cpu").contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]
