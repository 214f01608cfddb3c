"""A small trainable encoder for generators without a published e4e/pSp model.

It maps an image to a W+ *offset from w_avg* (so an untrained net already
predicts the average face rather than garbage) and is trained on pairs the
generator makes itself: sample z, map to W (half the batch style-mixed so the
net sees genuine W+ codes), synthesise, and regress the code back with a
latent loss plus a reconstruction loss (pixel MSE and, optionally, 1 - MS-SSIM).
No dataset is needed, which is what makes it usable for any checkpoint and for
the bundled demo.  Weights are saved as our own safetensors artifact, tied to
the generator's fingerprint.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from large_inverters.losses import downsample_to, ms_ssim, pixel_mse
from large_toolkit.api import (
    ArtifactMismatchError,
    DistContext,
    Generator,
    InversionResult,
    Inverter,
    Latents,
    LatentSpace,
    UserInputError,
    average_scalars,
    generator_meta,
    load_tensors,
    save_tensors,
    seeded_generator,
)
from large_toolkit.api import require_same_generator as check_generator

FORMAT = "large-tk/encoder"


@dataclass
class EncoderArch:
    """Shape of a :class:`SmallEncoder`; stored in the file so it can be rebuilt."""

    num_ws: int
    w_dim: int
    resolution: int
    input_size: int = 64
    width: int = 32
    max_width: int = 256


class SmallEncoder(nn.Module):
    """Strided conv stack (input_size -> 4x4) plus one linear layer to ``num_ws * w_dim`` offsets."""

    def __init__(self, arch: EncoderArch, w_avg: torch.Tensor) -> None:
        super().__init__()
        self.arch = arch
        layers: list[nn.Module] = [nn.Conv2d(3, arch.width, 3, 1, 1), nn.LeakyReLU(0.2)]
        ch, size = arch.width, arch.input_size
        while size > 4:
            out = min(ch * 2, arch.max_width)
            layers += [nn.Conv2d(ch, out, 3, 2, 1), nn.LeakyReLU(0.2)]
            ch, size = out, size // 2
        self.convs = nn.Sequential(*layers)
        self.head = nn.Linear(ch * size * size, arch.num_ws * arch.w_dim)
        nn.init.zeros_(self.head.bias)
        self.head.weight.data.mul_(0.1)  # start near w_avg: small offsets
        self.register_buffer("w_avg", w_avg.detach().float().reshape(1, 1, arch.w_dim).clone())

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Images [-1,1] at the generator's resolution -> W+ codes ``[N, num_ws, w_dim]``."""
        size = self.arch.input_size
        x = images
        if x.shape[-1] != size:
            mode = "area" if x.shape[-1] > size else "bilinear"
            x = F.interpolate(x, size=(size, size), mode=mode, **({} if mode == "area" else {"align_corners": False}))
        offsets = self.head(self.convs(x).flatten(1)).view(-1, self.arch.num_ws, self.arch.w_dim)
        return self.w_avg + offsets


@dataclass
class TrainConfig:
    """Training settings for :func:`train_encoder`."""

    steps: int = 2000
    batch_size: int = 16
    lr: float = 1e-3
    seed: int = 0
    latent_weight: float = 1.0
    pixel_weight: float = 1.0
    ssim_weight: float = 0.0
    mix_prob: float = 0.5
    input_size: int = 64
    width: int = 32


def _sample_pairs(
    generator: Generator, n: int, mix_prob: float, rng: torch.Generator, rows: slice | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(images, ws) from seeded z; a ``mix_prob`` share of rows get a second code from a random layer on.

    The random numbers are always drawn for the whole (global) batch of ``n``; ``rows`` keeps one
    rank's block of it, so N ranks together see exactly the batch one process would (see
    :mod:`large_toolkit.distributed`) and only the kept rows are synthesised.
    """
    z = torch.randn(2 * n, generator.z_dim, generator=rng)
    mix = torch.rand(n, generator=rng) < mix_prob
    cut = torch.randint(1, max(2, generator.num_ws), (n,), generator=rng)
    if rows is not None:
        z = torch.cat([z[:n][rows], z[n:][rows]])
        mix, cut = mix[rows], cut[rows]
        n = len(mix)
    z = z.to(generator.device)
    with torch.no_grad():
        ws = generator.mapping(z)
        a, b = ws[:n], ws[n:]
        rows = torch.arange(generator.num_ws).view(1, -1)
        use_b = (mix.view(-1, 1) & (rows >= cut.view(-1, 1))).to(generator.device)
        ws = torch.where(use_b.unsqueeze(-1), b, a)
        images = generator.synthesis(ws, noise_mode="const")
    return images, ws


def train_encoder(
    generator: Generator,
    cfg: TrainConfig,
    progress: Callable[[int, dict[str, float]], None] | None = None,
    dist: DistContext | None = None,
) -> tuple[SmallEncoder, dict[str, Any]]:
    """Train a :class:`SmallEncoder` for ``generator``; deterministic for a given seed and device.

    Under torchrun (``dist`` enabled) the net is wrapped in ``DistributedDataParallel`` and each rank
    trains on its block of the global batch ``cfg.batch_size``; the losses handed to ``progress``
    are averaged over ranks, so they describe the global batch.
    """
    dist = dist or DistContext(device=torch.device(generator.device))
    rows = dist.rows(cfg.batch_size) if dist.enabled else None
    if cfg.steps < 1 or cfg.batch_size < 1:
        raise UserInputError("--steps and --batch-size must be at least 1")
    arch = EncoderArch(
        generator.num_ws,
        generator.w_dim,
        generator.resolution,
        input_size=min(cfg.input_size, generator.resolution),
        width=cfg.width,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        net = SmallEncoder(arch, generator.w_avg).to(generator.device)
    rng = seeded_generator(cfg.seed + 1)  # the same stream on every rank: it defines the global batch
    model: nn.Module = net
    if dist.enabled:
        from torch.nn.parallel import DistributedDataParallel

        ids = [dist.device.index] if dist.device.type == "cuda" else None
        model = DistributedDataParallel(net, device_ids=ids)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=(0.9, 0.99))
    start, last = time.perf_counter(), {}
    for step in range(cfg.steps):
        lr = cfg.lr * 0.5 * (1 + math.cos(math.pi * step / cfg.steps))  # cosine decay: stable final weights
        for group in opt.param_groups:
            group["lr"] = lr
        images, ws = _sample_pairs(generator, cfg.batch_size, cfg.mix_prob, rng, rows)
        pred = model(images)
        latent = (pred - ws).square().mean()
        loss = cfg.latent_weight * latent
        terms = {"latent": float(latent.detach())}
        if cfg.pixel_weight or cfg.ssim_weight:
            rec = downsample_to(generator.synthesis(pred, noise_mode="const"))
            target = downsample_to(images)
            pix = pixel_mse(rec, target).mean()
            loss = loss + cfg.pixel_weight * pix
            terms["pixel"] = float(pix.detach())
            if cfg.ssim_weight:
                ss = (1 - ms_ssim(rec, target)).mean()
                loss = loss + cfg.ssim_weight * ss
                terms["ssim"] = float(ss.detach())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        last = average_scalars(dist, {**terms, "loss": float(loss.detach())})
        if progress is not None:
            progress(step, last)
    history = {"final": last, "seconds": time.perf_counter() - start, "config": asdict(cfg)}
    return net.eval(), history


def save_encoder(
    path: str | os.PathLike[str], net: SmallEncoder, generator: Generator, history: dict[str, Any]
) -> None:
    """Weights + architecture + generator fingerprint + training record, written atomically."""
    tensors = {f"net.{k}": v for k, v in net.state_dict().items()}
    save_tensors(
        path,
        tensors,
        {"format": FORMAT, "arch": asdict(net.arch), "generator": generator_meta(generator), "training": history},
    )


def load_encoder(path: str | os.PathLike[str], generator: Generator, device: str = "cpu") -> SmallEncoder:
    """Rebuild a saved encoder; refuses one trained for a different generator (weights fingerprint)."""
    tensors, meta = load_tensors(path, FORMAT)
    check_generator(meta, generator, f"encoder {path}", strict_fingerprint=True)
    arch = EncoderArch(**meta["arch"])
    if (arch.num_ws, arch.w_dim) != (generator.num_ws, generator.w_dim):
        raise ArtifactMismatchError(
            f"encoder {path} predicts {arch.num_ws}x{arch.w_dim} codes, generator needs "
            f"{generator.num_ws}x{generator.w_dim}"
        )
    net = SmallEncoder(arch, torch.zeros(arch.w_dim))
    net.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")}, strict=True)
    return net.to(device).eval()


class EncoderInverter(Inverter):
    """The ``encoder`` inverter: one forward pass, optionally refined by the projector starting from its code."""

    output_spaces: ClassVar[tuple[LatentSpace, ...]] = (LatentSpace.W, LatentSpace.WPLUS, LatentSpace.S)

    def __init__(self, net: SmallEncoder, source: str = "", refine_steps: int = 0, seed: int = 303) -> None:
        self.net, self.source, self.refine_steps, self.seed = net, source, int(refine_steps), seed
        self._fp: str | None = None

    def fingerprint(self) -> str:
        if self._fp is None:
            import hashlib

            digest = hashlib.sha256(str(asdict(self.net.arch)).encode())
            for k, v in sorted(self.net.state_dict().items()):
                digest.update(k.encode())
                digest.update(v.detach().cpu().contiguous().numpy().tobytes())
            self._fp = f"encoder-{digest.hexdigest()[:16]}-refine{self.refine_steps}"
        return self._fp

    def invert(
        self, images: torch.Tensor, generator: Generator, space: LatentSpace = LatentSpace.WPLUS
    ) -> InversionResult:
        space = LatentSpace.parse(space)
        if space not in self.output_spaces:
            raise UserInputError(f"the encoder inverter cannot produce {space.value} codes", hint="use w, wplus or s")
        dev = next(self.net.parameters()).device
        with torch.no_grad():
            ws = self.net(images.to(dev, torch.float32)).to(generator.device)
        if self.refine_steps > 0:
            from large_inverters.projector import Projector, ProjectorConfig

            proj = Projector(ProjectorConfig(num_steps=self.refine_steps, lr=0.01, latent_noise=0.0, seed=self.seed))
            start = ws.mean(1, keepdim=True) if space is LatentSpace.W else ws
            if space is LatentSpace.S:
                with torch.no_grad():
                    start = generator.styles(ws)
            result = proj.invert(images, generator, space, start=start)
            result.info["inverter"] = "encoder+optim"
            return result
        if space is LatentSpace.W:
            # W is the row mean: the closest single code in the L2 sense to the predicted W+ rows.
            latents = Latents(ws.mean(1).cpu(), LatentSpace.W)
        else:
            latents = Latents(ws.cpu(), LatentSpace.WPLUS)
            if space is LatentSpace.S:
                with torch.no_grad():
                    latents = latents.to(generator.device).to_styles(generator).to("cpu")
        return InversionResult(latents, None, {"inverter": "encoder"})
