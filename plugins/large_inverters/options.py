"""The inverters' typed options: one declaration for ``--inverter-option k=v``, Python callers and the GUI.

Light on purpose (no torch): the hook module registers these declarations with the
inverters, so front ends can show them without building a model.
"""

from __future__ import annotations

from dataclasses import dataclass

from large_toolkit.api import option


@dataclass
class ProjectorConfig:
    """Projector settings; defaults are the original's schedule with offline losses."""

    num_steps: int = option(1000, "optimisation steps (the original's 1000; a few hundred often suffice)", low=1)
    lr: float = option(0.1, "peak learning rate", low=0)
    lr_rampup: float = option(0.05, "share of the steps spent warming the learning rate up", low=1e-3, high=1)
    lr_rampdown: float = option(0.25, "share of the steps spent ramping it down (cosine)", low=1e-3, high=1)
    latent_noise: float = option(0.05, "initial noise added to the code (times the latent spread)", low=0)
    latent_noise_ramp: float = option(0.75, "share of the steps over which that noise decays", low=1e-3, high=1)
    noise_reg: float = option(1e5, "weight of the noise-map regulariser (optimize_noise)", low=0)
    optimize_noise: bool = option(False, "also optimise the per-pixel noise maps (needs 'noise')")
    std_samples: int = option(10000, "samples estimating the latent spread", low=2)
    mse_weight: float = option(1.0, "weight of the pixel MSE", low=0)
    ssim_weight: float = option(0.0, "weight of 1 - MS-SSIM", low=0)
    lpips_weight: float = option(1.0, "weight of LPIPS (when its weights are given)", low=0)
    loss_size: int = option(256, "images are compared at this size at most", low=1)
    patience: int = option(100, "stop after this many steps without relative improvement", low=1)
    min_rel_improvement: float = option(1e-4, "what counts as an improvement for patience", low=0)
    target_loss: float = option(0.0, "stop early once the loss is below this (0 = never)", low=0)
    seed: int = option(303, "seed of the noise schedule")
    d_weight: float = option(0.0, "weight of the discriminator-feature loss (needs discriminator)", low=0)
    d_layers: str = option("", "discriminator blocks compared (b32,b16,...,b4.conv,b4.fc); empty = all above 4x4")
    d_norm: str = option("l2", "distance between discriminator features", choices=("l2", "l1"))


@dataclass
class ProjectorOptions(ProjectorConfig):
    """What ``--inverter optim`` accepts: the projector's settings plus its local weight files."""

    lpips_vgg: str | None = option(None, "local VGG16 weights for LPIPS", path=True)
    lpips_heads: str | None = option(None, "local LPIPS linear heads", path=True)
    discriminator: str | None = option(None, "snapshot .pkl holding D (for d_weight)", path=True)


@dataclass(frozen=True)
class EncoderOptions:
    refine_steps: int = option(0, "projector steps after the encoder's guess", low=0)
    seed: int = option(303, "seed of the refinement")


@dataclass(frozen=True)
class StyleEncoderOptions:
    restyle_steps: int = option(0, "ReStyle iterations after the first pass (0 = plain e4e/pSp)", low=0)
