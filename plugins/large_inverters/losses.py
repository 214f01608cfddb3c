"""Reconstruction losses that work fully offline: pixel MSE, (MS-)SSIM, optional LPIPS-VGG.

Everything returns one value *per image* (shape ``[N]``) so a batched
optimiser can report, early-stop and keep the best code per image, and so the
sum over images gives each image its own independent gradient.

LPIPS needs a VGG16 backbone; it is built here and filled from a local file
the user names (torchvision's ``vgg16-*.pth`` state dict, ``features.*`` keys,
optionally with LPIPS ``lin*`` heads).  Nothing is ever downloaded.
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import nn

from large_toolkit.api import CheckpointError

# Standard MS-SSIM scale weights (Wang et al. 2003).
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def downsample_to(images: torch.Tensor, size: int = 256) -> torch.Tensor:
    """Area-downsample images larger than ``size`` (losses at 1024 px cost 16x and add little)."""
    if images.shape[-1] <= size:
        return images
    return F.interpolate(images, size=(size, size), mode="area")


def pixel_mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean squared error per image, on the [-1, 1] scale."""
    return (a - b).square().flatten(1).mean(1)


def _gaussian_window(size: int, sigma: float, channels: int, like: torch.Tensor) -> torch.Tensor:
    coords = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, size, size).contiguous()


def _ssim_terms(x: torch.Tensor, y: torch.Tensor, win: int, sigma: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image mean SSIM and mean contrast-structure term, for inputs in [0, 1] (data range 1)."""
    c1, c2 = 0.01**2, 0.03**2
    w = _gaussian_window(win, sigma, x.shape[1], x)
    groups = x.shape[1]

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, w, groups=groups)

    mu_x, mu_y = blur(x), blur(y)
    sxx = blur(x * x) - mu_x.square()
    syy = blur(y * y) - mu_y.square()
    sxy = blur(x * y) - mu_x * mu_y
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    ssim = (2 * mu_x * mu_y + c1) / (mu_x.square() + mu_y.square() + c1) * cs
    return ssim.flatten(1).mean(1), cs.flatten(1).mean(1)


def _window_for(side: int, win: int) -> int:
    """Largest odd window <= ``win`` that fits the image side (tiny generators have 16 px images)."""
    w = min(win, side)
    return w if w % 2 == 1 else w - 1


def ssim(a: torch.Tensor, b: torch.Tensor, win: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Single-scale SSIM per image for images in [-1, 1] (compared on [0, 1])."""
    x, y = (a + 1) / 2, (b + 1) / 2
    w = _window_for(min(x.shape[-2:]), win)
    return _ssim_terms(x, y, w, sigma * w / win)[0]


def ms_ssim(a: torch.Tensor, b: torch.Tensor, win: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Multi-scale SSIM per image for images in [-1, 1].

    Uses as many of the 5 standard scales as the image allows (each scale must
    still hold one window), renormalising the weights, so it degrades to plain
    SSIM on tiny images instead of failing.  Negative cs terms are clamped to 0
    so fractional powers stay real (the ``nonnegative`` convention).
    """
    x, y = (a + 1) / 2, (b + 1) / 2
    side = min(x.shape[-2:])
    w = _window_for(side, win)
    levels = 1
    while levels < len(MS_SSIM_WEIGHTS) and side // (2**levels) >= w:
        levels += 1
    weights = torch.tensor(MS_SSIM_WEIGHTS[:levels], dtype=x.dtype, device=x.device)
    weights = weights / weights.sum()
    sig = sigma * w / win
    out = torch.ones(x.shape[0], dtype=x.dtype, device=x.device)
    for level in range(levels):
        s, cs = _ssim_terms(x, y, w, sig)
        if level == levels - 1:
            out = out * F.relu(s) ** weights[level]
        else:
            out = out * F.relu(cs) ** weights[level]
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
    return out


# -- LPIPS (VGG16) from local weights ----------------------------------------------------------

_VGG_CONVS = (
    (3, 64),
    (64, 64),
    "M",
    (64, 128),
    (128, 128),
    "M",
    (128, 256),
    (256, 256),
    (256, 256),
    "M",
    (256, 512),
    (512, 512),
    (512, 512),
    "M",
    (512, 512),
    (512, 512),
    (512, 512),
)
# Indices in torchvision's ``features`` Sequential after which LPIPS taps relu1_2 .. relu5_3.
_VGG_TAPS = (3, 8, 15, 22, 29)
_VGG_CHANNELS = (64, 128, 256, 512, 512)


class LPIPSVGG(nn.Module):
    """LPIPS distance on VGG16 features: unit-normalised activations, squared difference, linear heads.

    Without heads every channel has weight 1 (the "baseline" LPIPS variant).
    """

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for spec in _VGG_CONVS:
            if spec == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(spec[0], spec[1], 3, padding=1), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.heads = nn.ParameterList(nn.Parameter(torch.ones(c)) for c in _VGG_CHANNELS)
        self.register_buffer("shift", torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1))
        self.requires_grad_(False)

    def _taps(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = (x - self.shift) / self.scale
        taps = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in _VGG_TAPS:
                taps.append(x / (x.square().sum(1, keepdim=True).sqrt() + 1e-10))
        return taps

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Per-image distance for images in [-1, 1]."""
        total = torch.zeros(a.shape[0], dtype=a.dtype, device=a.device)
        for fa, fb, head in zip(self._taps(a), self._taps(b), self.heads, strict=True):
            total = total + ((fa - fb).square() * head.view(1, -1, 1, 1)).sum(1).flatten(1).mean(1)
        return total


def _read_state(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    text = str(path)
    if text.endswith(".safetensors"):
        from safetensors.torch import load_file

        return load_file(text)
    from large_inverters.checkpoints import read_checkpoint

    data = read_checkpoint(path)
    return data.get("state_dict", data) if isinstance(data, dict) else data


def load_lpips_vgg(backbone: str | os.PathLike[str], heads: str | os.PathLike[str] | None = None) -> LPIPSVGG:
    """LPIPS-VGG from a local torchvision VGG16 state dict (``features.*``) and optional LPIPS ``lin{k}`` heads."""
    net = LPIPSVGG()
    state = _read_state(backbone)
    feats = {k[len("features.") :]: v for k, v in state.items() if k.startswith("features.")}
    try:
        net.features.load_state_dict(feats, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{backbone} is not a VGG16 state dict with features.* keys ({str(exc)[:200]})") from None
    if heads is not None:
        hstate = _read_state(heads)
        for k in range(5):
            w = hstate.get(f"lin{k}.model.1.weight")
            if w is None:
                raise CheckpointError(
                    f"{heads} lacks lin{k}.model.1.weight", hint="use an LPIPS v0.1 vgg.pth heads file"
                )
            net.heads[k].data.copy_(w.flatten())
    return net.eval()
