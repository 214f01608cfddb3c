"""Adaptive discriminator augmentation (Karras et al., "Training Generative Adversarial Networks with
Limited Data", NeurIPS 2020): the 'bgc' pipeline and the p controller.

Every image D sees, real or fake, goes through the same random transforms, each applied to each image
independently with probability ``p``.  Because they are differentiable, G is trained through them, and
because they are applied to both sides, D cannot tell real from fake by them: the augmentations do not
leak into the generated images as long as p stays below ~0.8 (the paper's Fig. 3).

Transforms and distributions (NVIDIA's ``augment.py`` defaults, 'bgc'):

* geometric, composed into ONE 3x3 matrix and resampled once: x-flip, 90-degree rotations, integer
  translation (uniform, up to 0.125 of the size), isotropic scale (lognormal, std 0.2 octaves),
  rotation (uniform over the full circle, applied before and after the anisotropic scale, each with
  probability ``1 - sqrt(1 - p)`` so the total is p), anisotropic scale (lognormal, std 0.2), fractional
  translation (normal, std 0.125);
* colour, composed into ONE 4x4 matrix: brightness (normal, std 0.2), contrast (lognormal, std 0.5
  octaves), hue rotation about the luma axis (uniform, full circle), saturation (lognormal, std 1);
* cutout (optional): a square of half the image size, zeroed, centre uniform over the image.

What kornia does here, and why not more: kornia's ``warp_affine`` is the differentiable resampler
(bilinear, reflection padding).  Its ``kornia.augmentation`` modules are not used for the transforms:
they draw from uniform ranges where ADA draws normal/lognormal values, each module resamples the image
on its own (five blurs where ADA has one), and their parameters come from torch's global RNG, while
here every parameter comes from the training step's seeded generator, which is what makes a resumed
run continue bit for bit.  (NVIDIA resamples on a 2x up-sampled image with a wavelet filter to avoid
aliasing; bilinear at the native size is the simplification, stated in docs/training.md.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from kornia.geometry.transform import warp_affine

AUGMENT_MODES = ("ada", "fixed", "none")
ADA_INTERVAL = 4
"""Minibatches between two p updates (NVIDIA's ``ada_interval``)."""
ADA_KIMG = 500.0
"""NVIDIA's speed: p can go 0 -> 1 in 500k real images."""


@dataclass
class AdaState:
    """The controller: current p and the sign sums of D's real outputs since the last update."""

    p: float = 0.0
    sign_sum: float = 0.0
    count: int = 0
    last_rt: float | None = None

    def accumulate(self, real_logits: torch.Tensor) -> None:
        self.sign_sum += float(torch.sign(real_logits.detach()).sum())
        self.count += int(real_logits.numel())

    def maybe_update(self, step: int, batch: int, target: float, ada_kimg: float) -> None:
        """Every :data:`ADA_INTERVAL` minibatches: ``p += sign(r_t - target) * batch*interval / (ada_kimg*1000)``."""
        if step % ADA_INTERVAL or not self.count:
            return
        rt = self.sign_sum / self.count
        adjust = math.copysign(1.0, rt - target) * batch * ADA_INTERVAL / (ada_kimg * 1000)
        self.p = min(max(self.p + adjust, 0.0), 1.0)
        self.last_rt, self.sign_sum, self.count = rt, 0.0, 0


def default_ada_kimg(kimg: float) -> float:
    """NVIDIA's 500 kimg, shortened for short runs so p can still move: at most half the run.

    With 500 kimg a 10-kimg run could move p by 0.02 at most, i.e. ADA would be off in practice; NVIDIA's
    own runs are 5-25k kimg long, where 500 kimg is 2-10 % of the run.  Half the run lets p cross its
    whole range once and settle; runs of 1000 kimg and more get NVIDIA's constant unchanged.
    """
    return min(ADA_KIMG, max(kimg / 2, 1e-3))


def _rand(n: int, gen: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=gen)


def _gate(p: float, values: torch.Tensor, neutral: float, gen: torch.Generator) -> torch.Tensor:
    """Keep each image's value with probability p, else the neutral value (the transform is skipped)."""
    keep = torch.rand(values.shape[0], generator=gen) < p
    return torch.where(keep.view(-1, *([1] * (values.ndim - 1))), values, torch.full_like(values, neutral))


def _mat3(rows: list[list[torch.Tensor | float]], n: int) -> torch.Tensor:
    out = torch.zeros(n, 3, 3, dtype=torch.float64)
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            out[:, i, j] = v if isinstance(v, torch.Tensor) else float(v)
    return out


def _scale(sx: torch.Tensor | float, sy: torch.Tensor | float, n: int) -> torch.Tensor:
    return _mat3([[sx, 0, 0], [0, sy, 0], [0, 0, 1]], n)


def _translate(tx: torch.Tensor | float, ty: torch.Tensor | float, n: int) -> torch.Tensor:
    return _mat3([[1, 0, tx], [0, 1, ty], [0, 0, 1]], n)


def _rotate(theta: torch.Tensor, n: int) -> torch.Tensor:
    c, s = torch.cos(theta), torch.sin(theta)
    return _mat3([[c, -s, 0], [s, c, 0], [0, 0, 1]], n)


def geometric_matrix(n: int, h: int, w: int, p: float, gen: torch.Generator) -> torch.Tensor:
    """``[n, 3, 3]`` float64 inverse transforms (output pixel -> input pixel, centred coordinates)."""
    m = torch.eye(3, dtype=torch.float64).repeat(n, 1, 1)
    flip = _gate(p, torch.floor(_rand(n, gen) * 2), 0.0, gen)
    m = m @ _scale(1 - 2 * flip, 1.0, n)
    quarter = _gate(p, torch.floor(_rand(n, gen) * 4), 0.0, gen)
    m = m @ _rotate(-math.pi / 2 * quarter.double(), n)
    t = _gate(p, (torch.rand(n, 2, generator=gen) * 2 - 1) * 0.125, 0.0, gen)
    m = m @ _translate(torch.round(t[:, 0] * w).double(), torch.round(t[:, 1] * h).double(), n)
    s = _gate(p, torch.exp2(torch.randn(n, generator=gen) * 0.2), 1.0, gen)
    m = m @ _scale(s.double(), s.double(), n)
    p_rot = 1 - math.sqrt(max(1 - p, 0.0))
    theta = _gate(p_rot, (_rand(n, gen) * 2 - 1) * math.pi, 0.0, gen)
    m = m @ _rotate(-theta.double(), n)
    a = _gate(p, torch.exp2(torch.randn(n, generator=gen) * 0.2), 1.0, gen)
    m = m @ _scale(a.double(), 1 / a.double(), n)
    theta = _gate(p_rot, (_rand(n, gen) * 2 - 1) * math.pi, 0.0, gen)
    m = m @ _rotate(-theta.double(), n)
    t = _gate(p, torch.randn(n, 2, generator=gen) * 0.125, 0.0, gen)
    return m @ _translate((t[:, 0] * w).double(), (t[:, 1] * h).double(), n)


def colour_matrix(n: int, p: float, gen: torch.Generator) -> torch.Tensor:
    """``[n, 4, 4]`` float64 colour transforms acting on homogeneous RGB in [-1, 1]."""
    eye = torch.eye(4, dtype=torch.float64)
    m = eye.repeat(n, 1, 1)
    b = _gate(p, torch.randn(n, generator=gen) * 0.2, 0.0, gen).double()
    shift = eye.repeat(n, 1, 1)
    shift[:, :3, 3] = b[:, None]
    m = shift @ m
    c = _gate(p, torch.exp2(torch.randn(n, generator=gen) * 0.5), 1.0, gen).double()
    scale = eye.repeat(n, 1, 1)
    scale[:, [0, 1, 2], [0, 1, 2]] = c[:, None]
    m = scale @ m
    v = torch.tensor([1.0, 1.0, 1.0, 0.0], dtype=torch.float64) / math.sqrt(3)
    theta = _gate(p, (_rand(n, gen) * 2 - 1) * math.pi, 0.0, gen).double()
    m = _rotate_about(v[:3], theta) @ m
    s = _gate(p, torch.exp2(torch.randn(n, generator=gen) * 1.0), 1.0, gen).double()
    vv = torch.outer(v, v)
    m = (vv + (eye - vv) * s[:, None, None]) @ m
    return m


def _rotate_about(axis: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Rodrigues rotation by ``theta`` about a unit ``axis`` (3-vector), as ``[n, 4, 4]`` homogeneous."""
    x, y, z = axis.tolist()
    c, s = torch.cos(theta), torch.sin(theta)
    cc = 1 - c
    n = theta.shape[0]
    out = torch.eye(4, dtype=torch.float64).repeat(n, 1, 1)
    out[:, 0, 0], out[:, 0, 1], out[:, 0, 2] = x * x * cc + c, x * y * cc - z * s, x * z * cc + y * s
    out[:, 1, 0], out[:, 1, 1], out[:, 1, 2] = y * x * cc + z * s, y * y * cc + c, y * z * cc - x * s
    out[:, 2, 0], out[:, 2, 1], out[:, 2, 2] = z * x * cc - y * s, z * y * cc + x * s, z * z * cc + c
    return out


def cutout_mask(n: int, h: int, w: int, p: float, gen: torch.Generator, size: float = 0.5) -> torch.Tensor:
    """``[n, 1, h, w]`` mask, 0 inside a square of ``size`` (fraction of the image) around a uniform centre."""
    centre = torch.rand(n, 2, generator=gen)
    on = torch.rand(n, generator=gen) < p
    ys = (torch.arange(h, dtype=torch.float32) + 0.5) / h
    xs = (torch.arange(w, dtype=torch.float32) + 0.5) / w
    inside_x = (xs[None, :] - centre[:, :1]).abs() < size / 2
    inside_y = (ys[None, :] - centre[:, 1:]).abs() < size / 2
    inside = inside_y[:, :, None] & inside_x[:, None, :] & on[:, None, None]
    return (~inside).float()[:, None]


def augment(images: torch.Tensor, p: float, gen: torch.Generator, cutout: bool = False) -> torch.Tensor:
    """Apply the pipeline with probability ``p`` per transform per image; differentiable in ``images``.

    All random numbers come from ``gen`` (CPU), in a fixed order, so the result depends only on its state.
    """
    if p <= 0:
        return images
    n, ch, h, w = images.shape
    geo = geometric_matrix(n, h, w, p, gen)
    # centred pixel coordinates -> kornia's pixel coordinates; kornia wants the forward (input -> output) map
    centre = _translate((w - 1) / 2, (h - 1) / 2, n)
    forward = centre @ torch.linalg.inv(geo) @ torch.linalg.inv(centre)
    x = warp_affine(
        images,
        forward[:, :2, :].to(images.device, images.dtype),
        (h, w),
        mode="bilinear",
        padding_mode="reflection",
        align_corners=True,
    )
    if ch == 3:
        col = colour_matrix(n, p, gen).to(images.device, images.dtype)
        x = (col[:, :3, :3] @ x.reshape(n, 3, h * w) + col[:, :3, 3:]).reshape(n, 3, h, w)
    if cutout:
        x = x * cutout_mask(n, h, w, p, gen).to(x.device, x.dtype)
    return x
