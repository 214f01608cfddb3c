"""Seeds -> images with any generator: the work behind ``large-tk generate`` (the GUI can call it too).

Seeds follow NVIDIA's ``generate.py``: seed ``s`` gives ``z = numpy.random.RandomState(s).randn(1, z_dim)``,
so a seed shows the same image here as in the original tools.  Style-only settings (truncation,
a truncation cutoff, noise modes, an input transform, a class label) are checked against the
generator's declared capabilities first, so an unsupported one is refused in one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from large_toolkit.errors import UserInputError
from large_toolkit.interfaces import Capability

if TYPE_CHECKING:
    from large_toolkit.interfaces import Generator

NOISE_MODES = ("const", "none", "random")


@dataclass(frozen=True)
class RenderSettings:
    """What ``generate`` asks of a generator beyond the seeds."""

    psi: float = 1.0
    trunc_cutoff: int | None = None
    noise_mode: str = "const"
    class_idx: int | None = None
    translate: tuple[float, float] | None = None
    rotate: float | None = None
    batch_size: int = 8


def seed_latents(seeds: Sequence[int], z_dim: int) -> np.ndarray:
    """``[len(seeds), z_dim]`` float32 z in NVIDIA's per-seed convention."""
    return np.concatenate([np.random.RandomState(s).randn(1, z_dim) for s in seeds]).astype(np.float32)


def check_settings(generator: Generator, settings: RenderSettings) -> None:
    """Refuse, in one line, a setting the generator does not declare a capability for."""
    if settings.noise_mode not in NOISE_MODES:
        raise UserInputError(f"unknown noise mode {settings.noise_mode!r}", hint="use const, none or random")
    if settings.batch_size < 1:
        raise UserInputError(f"--batch-size must be >= 1, got {settings.batch_size}")
    if settings.psi != 1.0:
        generator.require(Capability.TRUNCATION, f"--psi {settings.psi}")
    if settings.trunc_cutoff is not None:
        generator.require(Capability.WPLUS, "--trunc-cutoff")
    # Style generators without noise inputs (StyleGAN3) ignore the mode, as upstream does.
    if settings.noise_mode != "const" and not generator.has(Capability.MAPPING):
        generator.require(Capability.NOISE, f"--noise-mode {settings.noise_mode}")


def render_seeds(generator: Generator, seeds: Sequence[int], settings: RenderSettings) -> np.ndarray:
    """Images ``[N, C, R, R]`` float32 (raw, about [-1, 1]) for ``seeds``, batched on the device."""
    import torch

    from large_toolkit.conditional import bind_class
    from large_toolkit.runner import precision_autocast

    check_settings(generator, settings)
    generator = bind_class(generator, settings.class_idx)  # a conditional model's class, checked in one line
    if settings.translate is not None or settings.rotate is not None:
        generator.set_input_transform(settings.translate or (0.0, 0.0), settings.rotate or 0.0)
    z_all = torch.from_numpy(seed_latents(seeds, generator.z_dim))
    chunks = []
    with torch.no_grad(), precision_autocast(generator.device):  # the global --precision
        for i in range(0, len(seeds), settings.batch_size):
            z = z_all[i : i + settings.batch_size].to(generator.device)
            ws = generator.mapping(z, psi=settings.psi, trunc_cutoff=settings.trunc_cutoff)
            torch.manual_seed(seeds[i])  # --noise-mode random: same seeds + batch size, same images
            chunks.append(generator.synthesis(ws, noise_mode=settings.noise_mode).float().cpu())
    return torch.cat(chunks).numpy()


def write_images(images: np.ndarray, seeds: Sequence[int], out: Path) -> list[str]:
    """``.npy``: raw float32 NCHW; ``.png``: one grid; no suffix: a folder of ``seedNNNN.png``."""
    from large_toolkit.io.atomic import atomic_path
    from large_toolkit.io.images import make_grid, to_uint8, write_image

    suffix = out.suffix.lower()
    if suffix == ".npy":
        with atomic_path(out) as tmp, tmp.open("wb") as handle:
            np.save(handle, images.astype(np.float32))
        return [str(out)]
    if out.suffix and suffix != ".png":
        raise UserInputError(
            f"--out {out}: unknown output type {out.suffix!r}", hint="use a .png grid, a .npy file or a folder"
        )
    pixels = to_uint8(images)
    if suffix == ".png":
        write_image(out, make_grid(pixels))
        return [str(out)]
    written = []
    for seed, img in zip(seeds, pixels, strict=True):
        path = out / f"seed{seed:04d}.png"
        write_image(path, img)
        written.append(str(path))
    return written


def parse_translate(text: str | None) -> tuple[float, float] | None:
    """``--translate X,Y`` -> ``(x, y)`` (image-width units, as NVIDIA's gen_images.py)."""
    if text is None:
        return None
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        return float(parts[0]), float(parts[1])
    except ValueError:
        raise UserInputError(f"bad --translate {text!r}", hint="use two numbers X,Y, e.g. 0.1,-0.05") from None
