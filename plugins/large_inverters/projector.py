"""Optimisation-based projection into W, W+ or S, batched over images.

The schedule is the NVlabs StyleGAN2-ADA projector's: Adam (0.9, 0.999), the
learning rate ramps up linearly over the first 5 % of steps and down with a
half-cosine over the last 25 %, and Gaussian noise on the latent (scaled by
the spread of W) decays quadratically to zero at 75 % of the run.  Unlike the
original it optimises a whole batch at once (the loss is a *sum* of per-image
losses, so each image gets its own gradient and Adam, being element-wise, keeps
them independent), supports W+ and StyleSpace, uses offline losses only, stops
early per image, and returns each image's best code with its final loss.

Noise maps are optimised (with the original's multi-scale autocorrelation
penalty) only when the generator exposes ``noise_buffers()`` and the batch has
one image, because a generator's noise buffers are shared by the whole batch.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import torch

from large_inverters.dfeatures import DiscriminatorFeatureLoss
from large_inverters.losses import LPIPSVGG, downsample_to, ms_ssim, pixel_mse
from large_inverters.options import ProjectorConfig
from large_toolkit.api import (
    Generator,
    InversionResult,
    Inverter,
    Latents,
    LatentSpace,
    UserInputError,
    seeded_generator,
)


def learning_rate(step: int, cfg: ProjectorConfig) -> float:
    """lr at ``step``: linear warm-up, flat, then cosine ramp-down to 0 (step 0 has lr 0)."""
    t = step / cfg.num_steps
    ramp = min(1.0, (1.0 - t) / cfg.lr_rampdown)
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    ramp = ramp * min(1.0, t / cfg.lr_rampup)
    return cfg.lr * ramp


def latent_noise_scale(step: int, cfg: ProjectorConfig) -> float:
    """Relative latent-noise strength: quadratic decay that reaches 0 at ``latent_noise_ramp`` of the run."""
    t = step / cfg.num_steps
    return cfg.latent_noise * max(0.0, 1.0 - t / cfg.latent_noise_ramp) ** 2


def noise_regularization(buffers: list[torch.Tensor]) -> torch.Tensor:
    """Sum over scales of squared 1-pixel autocorrelations (both axes) of each ``[1,1,H,W]`` noise map."""
    reg = torch.zeros((), device=buffers[0].device if buffers else "cpu")
    for n in buffers:
        n = n.reshape(1, 1, *n.shape[-2:])
        while True:
            reg = reg + (n * torch.roll(n, 1, dims=3)).mean().square() + (n * torch.roll(n, 1, dims=2)).mean().square()
            if n.shape[-1] <= 8:
                break
            n = torch.nn.functional.avg_pool2d(n, 2)
    return reg


def latent_spread(generator: Generator, space: LatentSpace, samples: int, seed: int) -> float:
    """Scalar RMS distance of sampled codes from their mean (W rows, or S vectors): scales the latent noise."""
    with torch.no_grad():
        z = torch.randn(samples, generator.z_dim, generator=seeded_generator(seed)).to(generator.device)
        ws = generator.mapping(z)
        codes = generator.styles(ws) if space is LatentSpace.S else ws[:, 0]
        return float((codes - codes.mean(0)).square().sum(1).mean().sqrt())


class Projector(Inverter):
    """Gradient-descent inversion; deterministic for a given seed, batch and device."""

    output_spaces: ClassVar[tuple[LatentSpace, ...]] = (LatentSpace.W, LatentSpace.WPLUS, LatentSpace.S)

    def __init__(
        self,
        config: ProjectorConfig | None = None,
        lpips: LPIPSVGG | None = None,
        device: str = "cpu",
        discriminator: DiscriminatorFeatureLoss | None = None,
    ) -> None:
        self.cfg = config or ProjectorConfig()
        self.lpips = lpips.to(device) if lpips is not None else None
        self.dloss = discriminator
        if self.cfg.d_weight and discriminator is None:
            raise UserInputError(
                "d_weight needs a discriminator", hint="pass discriminator=PATH (a network-snapshot .pkl holding D)"
            )
        self.device = torch.device(device)
        self.step_callback: Any = None  # called as f(step, losses) for progress bars and benchmarks

    def fingerprint(self) -> str:
        import hashlib
        import json

        digest = hashlib.sha256(json.dumps(asdict(self.cfg), sort_keys=True).encode())
        if self.lpips is not None:
            for k, v in sorted(self.lpips.state_dict().items()):
                digest.update(k.encode())
                digest.update(v.detach().cpu().contiguous().numpy().tobytes())
        if self.dloss is not None and self.cfg.d_weight:
            digest.update(f"D:{self.dloss.weights.digest()}".encode())
        return f"optim-{digest.hexdigest()[:16]}"

    def loss(
        self, synth: torch.Tensor, target: torch.Tensor, d_target: dict[str, torch.Tensor] | None = None
    ) -> torch.Tensor:
        """Per-image weighted loss: MSE + (1 - MS-SSIM) + LPIPS + D features (each only when enabled).

        ``d_target`` holds the target's D activations, computed once per batch at full resolution
        (D sees the images at its own training resolution, not the ``loss_size`` copy).
        """
        d_term = None
        if d_target is not None and self.dloss is not None and self.cfg.d_weight:
            d_term = self.cfg.d_weight * self.dloss.distance(synth, d_target)
        synth = downsample_to(synth, self.cfg.loss_size)
        total = self.cfg.mse_weight * pixel_mse(synth, target)
        if d_term is not None:
            total = total + d_term
        if self.cfg.ssim_weight:
            total = total + self.cfg.ssim_weight * (1 - ms_ssim(synth, target))
        if self.lpips is not None and self.cfg.lpips_weight:
            total = total + self.cfg.lpips_weight * self.lpips(synth, target)
        return total

    def _start(self, generator: Generator, space: LatentSpace, n: int) -> torch.Tensor:
        w_avg = generator.w_avg.detach().to(generator.device, torch.float32)
        if space is LatentSpace.W:
            return w_avg.expand(n, 1, -1).clone()
        wplus = w_avg.expand(n, generator.num_ws, -1).clone()
        if space is LatentSpace.WPLUS:
            return wplus
        with torch.no_grad():
            return generator.styles(wplus).clone()

    def _render(self, generator: Generator, space: LatentSpace, code: torch.Tensor) -> torch.Tensor:
        if space is LatentSpace.S:
            return generator.synthesis_from_styles(code, noise_mode="const")
        return generator.synthesis(code.expand(-1, generator.num_ws, -1), noise_mode="const")

    def invert(
        self,
        images: torch.Tensor,
        generator: Generator,
        space: LatentSpace = LatentSpace.WPLUS,
        start: torch.Tensor | None = None,
    ) -> InversionResult:
        """Project ``images`` ([-1,1], generator resolution); ``start`` overrides the w_avg start (W: [N,1,D])."""
        space = self._check(images, generator, space)
        cfg, dev = self.cfg, generator.device
        target, d_target = self._targets(images, dev)
        n = target.shape[0]
        rng = seeded_generator(cfg.seed)
        spread = latent_spread(generator, space, cfg.std_samples, cfg.seed)
        code = self._start(generator, space, n) if start is None else start.detach().to(dev, torch.float32).clone()
        buffers = self._noise_buffers(generator) if cfg.optimize_noise and n == 1 else []
        saved = [b.detach().clone() for b in buffers]
        search = _Search.begin(code, buffers, rng)
        try:
            steps_run = self._optimise(search, generator, space, (target, d_target), spread, rng)
        finally:
            for b, original in zip(buffers, saved, strict=True):
                b.requires_grad_(False)
                b.data.copy_(original)
        latents = _as_latents(search.best_code.detach(), space, generator)
        info = {"inverter": "optim", "steps_run": steps_run, "latent_spread": spread, "noise_optimised": bool(buffers)}
        return InversionResult(latents, search.best.cpu(), info)

    def _check(self, images: torch.Tensor, generator: Generator, space: LatentSpace | str) -> LatentSpace:
        """The parsed space; one clear error for a space or an image size the projector cannot handle."""
        space = LatentSpace.parse(space)
        if space not in self.output_spaces:
            raise UserInputError(f"the projector cannot optimise {space.value} codes", hint="use w, wplus or s")
        if images.shape[-1] != generator.resolution or images.shape[-2] != generator.resolution:
            raise UserInputError(
                f"images are {images.shape[-2]}x{images.shape[-1]}, the generator makes {generator.resolution}px",
                hint="resize explicitly before projecting (large-tk invert --resize ...)",
            )
        return space

    def _targets(self, images: torch.Tensor, dev: torch.device) -> tuple[torch.Tensor, dict[str, torch.Tensor] | None]:
        """The target at ``loss_size``, and D's activations of the full-resolution target (once per batch)."""
        d_target = None
        if self.dloss is not None and self.cfg.d_weight:
            with torch.no_grad():
                d_target = self.dloss.features(images.to(dev, torch.float32))
        return downsample_to(images.to(dev, torch.float32), self.cfg.loss_size), d_target

    def _optimise(
        self,
        search: _Search,
        generator: Generator,
        space: LatentSpace,
        targets: tuple[torch.Tensor, dict[str, torch.Tensor] | None],
        spread: float,
        rng: torch.Generator,
    ) -> int:
        """Run the schedule until ``num_steps`` or until every image has stopped; returns the steps run."""
        cfg = self.cfg
        steps_run = 0
        for step in range(cfg.num_steps):
            for group in search.opt.param_groups:
                group["lr"] = learning_rate(step, cfg)
            sigma = spread * latent_noise_scale(step, cfg)
            probe = search.code + torch.randn(search.code.shape, generator=rng).to(generator.device) * sigma
            per_image = self.loss(self._render(generator, space, probe), *targets)
            search.track_best(step, probe, per_image, cfg)
            total = per_image.sum()
            if search.buffers:
                total = total + cfg.noise_reg * noise_regularization(search.buffers)
            search.opt.zero_grad(set_to_none=True)
            total.backward()
            search.opt.step()
            steps_run = step + 1
            search.normalize_noise()
            if self.step_callback is not None:
                self.step_callback(step, search.best)
            if bool(search.done.all()):
                break
        return steps_run

    @staticmethod
    def _noise_buffers(generator: Generator) -> list[torch.Tensor]:
        """The generator's live constant-noise maps: ``noise_buffers()`` if defined, else ``*noise_const`` tensors."""
        fn = getattr(generator, "noise_buffers", None)
        if callable(fn):
            return list(fn())
        return [t for k, t in sorted(generator.state_tensors().items()) if k.endswith("noise_const")]


@dataclass
class _Search:
    """The optimisation state: the code (and noise maps) being optimised, Adam, and each image's best so far."""

    code: torch.Tensor
    buffers: list[torch.Tensor]
    opt: torch.optim.Adam
    best: torch.Tensor
    best_code: torch.Tensor
    last_improved: torch.Tensor
    done: torch.Tensor

    @classmethod
    def begin(cls, code: torch.Tensor, buffers: list[torch.Tensor], rng: torch.Generator) -> _Search:
        """Start from ``code``; noise maps (if any) restart from ``rng`` draws and are optimised too."""
        code.requires_grad_(True)
        params: list[torch.Tensor] = [code]
        for b in buffers:
            b.data.copy_(torch.randn(b.shape, generator=rng).to(b.device))
            b.requires_grad_(True)
            params.append(b)
        n, dev = code.shape[0], code.device
        return cls(
            code=code,
            buffers=buffers,
            opt=torch.optim.Adam(params, betas=(0.9, 0.999), lr=0.0),
            best=torch.full((n,), math.inf, device=dev),
            best_code=code.detach().clone(),
            last_improved=torch.zeros(n, dtype=torch.long, device=dev),
            done=torch.zeros(n, dtype=torch.bool, device=dev),
        )

    def track_best(self, step: int, probe: torch.Tensor, per_image: torch.Tensor, cfg: ProjectorConfig) -> None:
        """Keep each image's best code; an image stops after ``patience`` steps without improvement or at the target.

        (probe, per_image) is an exact code/loss pair, so best-so-far tracking costs no extra forward.
        """
        with torch.no_grad():
            improved = (per_image < self.best * (1 - cfg.min_rel_improvement)) & ~self.done
            self.best = torch.where(improved, per_image.detach(), self.best)
            self.best_code[improved] = probe.detach()[improved]
            self.last_improved[improved] = step
            self.done |= (step - self.last_improved >= cfg.patience) | (self.best <= cfg.target_loss)

    def normalize_noise(self) -> None:
        """Noise maps back to zero mean, unit variance after each step (as in the original projector)."""
        if self.buffers:
            with torch.no_grad():
                for b in self.buffers:
                    b.sub_(b.mean()).div_(b.square().mean().sqrt())


def _as_latents(code: torch.Tensor, space: LatentSpace, generator: Generator) -> Latents:
    """The optimised code as :class:`Latents` on the CPU (W codes drop their singleton row)."""
    if space is LatentSpace.W:
        return Latents(code[:, 0].cpu(), LatentSpace.W)
    if space is LatentSpace.WPLUS:
        return Latents(code.cpu(), LatentSpace.WPLUS)
    return Latents(code.cpu(), LatentSpace.S, generator.style_layers)
