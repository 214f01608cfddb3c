"""Invert an in-memory image set once: latents are cached by content + generator + inverter.

The key hashes the uint8 pixels, the generator's fingerprint, the inverter's fingerprint and the
requested space, so a second ``large-tk regress`` on the same images skips inversion entirely,
and any change of model, encoder or settings misses the cache instead of returning stale codes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from large_toolkit.errors import UserInputError
from large_toolkit.interfaces import Generator, Inverter
from large_toolkit.io.artifacts import load_latents, save_latents
from large_toolkit.runner import Runner
from large_toolkit.types import Latents, LatentSpace


def cache_key(images: np.ndarray, generator: Generator, inverter: Inverter, space: LatentSpace) -> str:
    digest = hashlib.sha256()
    digest.update(f"{images.shape}|{generator.fingerprint()}|{inverter.fingerprint()}|{space.value}".encode())
    digest.update(np.ascontiguousarray(images).tobytes())
    return digest.hexdigest()[:32]


def latent_cache_dir() -> Path:
    from large_toolkit.directions import cache_dir

    return cache_dir() / "latents"


def images_to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 NHWC -> float NCHW in [-1, 1], the generator's image convention."""
    return images.permute(0, 3, 1, 2).to(torch.float32) / 127.5 - 1.0


def invert_images(
    images: np.ndarray,
    generator: Generator,
    inverter: Inverter,
    space: LatentSpace | str = LatentSpace.WPLUS,
    runner: Runner | None = None,
    use_cache: bool = True,
) -> tuple[Latents, bool]:
    """Latent codes of uint8 NHWC ``images``; returns ``(latents, came_from_cache)``."""
    space = LatentSpace.parse(space)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != generator.img_channels:
        raise UserInputError(
            f"images must be uint8 [N, H, W, {generator.img_channels}], got {images.dtype} {list(images.shape)}"
        )
    if images.shape[1:3] != (generator.resolution, generator.resolution):
        raise UserInputError(
            f"images are {images.shape[2]}x{images.shape[1]}, the generator makes "
            f"{generator.resolution}x{generator.resolution}",
            hint="resize them first (large-tk invert --resize) or use a matching generator",
        )
    path = latent_cache_dir() / f"{cache_key(images, generator, inverter, space)}.safetensors"
    if use_cache and path.is_file():
        latents, _, _ = load_latents(path, generator)
        return latents, True
    runner = runner or Runner(device=generator.device, batch_size=64)

    def invert_batch(batch: torch.Tensor) -> torch.Tensor:
        return inverter.invert(images_to_float(batch), generator, space).latents.tensor

    tensor = runner.map(invert_batch, torch.from_numpy(images), "inverting", grad=True)
    latents = Latents(tensor, space, generator.style_layers if space is LatentSpace.S else None)
    if use_cache:
        save_latents(path, latents, generator=generator, extra={"inverter": inverter.fingerprint()})
    return latents, False
