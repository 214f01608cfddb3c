"""The ``e4e`` and ``psp`` inverters: pretrained IR-SE-50 encoders from official checkpoints.

Encoding is one forward pass, so it is the practical way to invert on a CPU
(the research notes measure ~2.9 s per image for the full encoder against hours
for a 1000-step projection).  Images are resized to the encoder's 256x256 input
inside the inverter because that *is* the encoder's preprocessing (upstream
``Resize((256,256))``); the user-facing image validation happens earlier, in
``large-tk invert``.
"""

from __future__ import annotations

import hashlib
from typing import ClassVar

import torch
import torch.nn.functional as F

from large_inverters.checkpoints import EncoderCheckpoint, build_encoder, parse_encoder_checkpoint, read_checkpoint
from large_inverters.irse import ENCODER_INPUT
from large_toolkit.api import Generator, InversionResult, Inverter, Latents, LatentSpace, ShapeError, UserInputError


def to_encoder_input(images: torch.Tensor, size: int = ENCODER_INPUT) -> torch.Tensor:
    """[-1,1] NCHW at any size -> the encoder's 256x256 input (antialiased bilinear, like PIL's resize)."""
    if images.shape[-2:] == (size, size):
        return images
    return F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=True)


def _pool_to_encoder(images: torch.Tensor, size: int = ENCODER_INPUT) -> torch.Tensor:
    """Generator output -> encoder input size: average pooling when shrinking (upstream face_pool)."""
    if images.shape[-1] > size:
        return F.adaptive_avg_pool2d(images, (size, size))
    return to_encoder_input(images, size)


class StyleEncoderInverter(Inverter):
    """Wraps an :class:`IRSEStyleEncoder`: codes = encoder(x) + latent_avg, i.e. W+ (and S through the generator)."""

    output_spaces: ClassVar[tuple[LatentSpace, ...]] = (LatentSpace.WPLUS, LatentSpace.S)

    def __init__(self, ckpt: EncoderCheckpoint, device: str = "cpu", source: str = "", restyle_steps: int = 0) -> None:
        self.ckpt = ckpt
        self.kind = ckpt.kind
        self.device = torch.device(device)
        first = ckpt.encoder_state.get("input_layer.0.weight")
        self.input_nc = int(first.shape[1]) if first is not None else 3
        if restyle_steps and self.input_nc != 6:
            raise UserInputError(
                f"restyle_steps needs an encoder whose first conv takes 6 channels (image + reconstruction); "
                f"this {self.kind} checkpoint takes {self.input_nc}",
                hint="drop restyle_steps, or use a ReStyle-trained checkpoint",
            )
        if self.input_nc == 6 and not restyle_steps:
            raise UserInputError(
                f"this {self.kind} checkpoint takes 6 input channels (a ReStyle encoder): it needs restyle_steps",
                hint="pass restyle_steps=5 (ReStyle's default; 3 is usually enough)",
            )
        self.restyle_steps = int(restyle_steps)
        self.net = build_encoder(ckpt).to(self.device)  # after the checks: building IR-SE-50 takes a while
        self.latent_avg = ckpt.latent_avg.to(self.device) if ckpt.latent_avg is not None else None
        self.source = source
        self._fp: str | None = None

    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Images in [-1,1] -> W+ codes ``[N, n_styles, 512]`` with latent_avg added."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ShapeError(f"images: expected [N, 3, H, W], got {list(images.shape)}")
        if self.input_nc != 3:
            raise UserInputError(f"this {self.kind} encoder takes image + reconstruction: use restyle()")
        codes = self.net(to_encoder_input(images.to(self.device, torch.float32)))
        if self.latent_avg is not None:
            codes = codes + self.latent_avg
        return codes

    @torch.no_grad()
    def restyle(self, images: torch.Tensor, generator: Generator, steps: int) -> list[torch.Tensor]:
        """ReStyle refinement: ``w_{t+1} = w_t + E(cat(x, G(w_t)))`` from ``w_0 = latent_avg``; all k codes.

        Each step shows the encoder what the current code renders, so it predicts a correction
        rather than the whole code.  The reconstruction is brought to 256x256 like upstream's
        ``face_pool`` (adaptive average pooling) when the generator is larger, and by the same
        antialiased resize as the image otherwise.  Noise is constant (upstream ``randomize_noise=False``).
        """
        if images.ndim != 4 or images.shape[1] != 3:
            raise ShapeError(f"images: expected [N, 3, H, W], got {list(images.shape)}")
        x = to_encoder_input(images.to(self.device, torch.float32))
        n = x.shape[0]
        avg = (
            self.latent_avg
            if self.latent_avg is not None
            else generator.w_avg.to(self.device).expand(self.ckpt.n_styles, -1)
        )
        latent = avg.to(self.device, torch.float32).expand(n, -1, -1).clone()
        out: list[torch.Tensor] = []
        for _ in range(steps):
            recon = generator.synthesis(latent.to(generator.device), noise_mode="const").to(self.device)
            latent = latent + self.net(torch.cat([x, _pool_to_encoder(recon)], dim=1))
            out.append(latent)
        return out

    def invert(
        self, images: torch.Tensor, generator: Generator, space: LatentSpace = LatentSpace.WPLUS
    ) -> InversionResult:
        space = LatentSpace.parse(space)
        if space not in self.output_spaces:
            raise UserInputError(
                f"the {self.kind} encoder predicts W+ codes, not {space.value}",
                hint="use --space wplus or s, or --inverter optim for W",
            )
        if generator.num_ws != self.ckpt.n_styles or generator.w_dim != 512:
            raise UserInputError(
                f"the {self.kind} checkpoint predicts {self.ckpt.n_styles} x 512 codes, "
                f"the generator takes {generator.num_ws} x {generator.w_dim}",
                hint="use the generator the encoder was trained for (omit --backend to use its embedded decoder)",
            )
        info: dict[str, object] = {"inverter": self.kind}
        if self.restyle_steps:
            ws = self.restyle(images, generator, self.restyle_steps)[-1].to(generator.device)
            info["restyle_steps"] = self.restyle_steps
        else:
            ws = self.encode(images).to(generator.device)
        latents = Latents(ws.cpu(), LatentSpace.WPLUS)
        if space is LatentSpace.S:
            with torch.no_grad():
                latents = latents.to(generator.device).to_styles(generator).to("cpu")
        return InversionResult(latents, None, info)

    def fingerprint(self) -> str:
        if self._fp is None:
            digest = hashlib.sha256(f"{self.kind},{self.ckpt.n_styles}".encode())
            if self.restyle_steps:
                digest.update(f"restyle={self.restyle_steps}".encode())
            for name in sorted(self.ckpt.encoder_state):
                digest.update(name.encode())
                digest.update(self.ckpt.encoder_state[name].detach().cpu().contiguous().numpy().tobytes())
            if self.latent_avg is not None:
                digest.update(self.latent_avg.cpu().numpy().tobytes())
            self._fp = f"{self.kind}-{digest.hexdigest()[:16]}"
        return self._fp


def load_style_encoder(
    checkpoint: str | None, kind: str, device: str = "cpu", restyle_steps: int = 0
) -> StyleEncoderInverter:
    """Read an official e4e/pSp file; ``kind`` is what the user asked for and must agree with the file.

    ``restyle_steps`` > 0 runs ReStyle refinement; it requires (and a 6-channel file requires it) an
    encoder whose input layer takes image + reconstruction.
    """
    if checkpoint is None:
        raise UserInputError(
            f"the {kind} inverter needs its checkpoint", hint="pass --inverter-checkpoint e4e_ffhq_encode.pt"
        )
    ckpt = parse_encoder_checkpoint(read_checkpoint(checkpoint))
    if ckpt.kind != kind:
        raise UserInputError(
            f"{checkpoint} is a {ckpt.kind} checkpoint (opts.encoder_type), not {kind}",
            hint=f"use --inverter {ckpt.kind}",
        )
    return StyleEncoderInverter(ckpt, device, source=str(checkpoint), restyle_steps=restyle_steps)


def embedded_generator(checkpoint: str, device: str = "cpu") -> Generator:
    """The StyleGAN2 decoder stored in every e4e/pSp checkpoint, as a toolkit Generator.

    Built by the StyleGAN2 backend's public constructor from rosinality-named
    weights; when that backend is not installed the user must name a generator.
    """
    ckpt = parse_encoder_checkpoint(read_checkpoint(checkpoint))
    if not ckpt.decoder_state:
        raise UserInputError(
            f"{checkpoint} has no decoder weights", hint="pass --backend and --checkpoint for the generator"
        )
    try:
        from large_stylegan2 import StyleGAN2Generator
    except ImportError:
        raise UserInputError(
            "using the decoder embedded in an e4e/pSp checkpoint needs the stylegan2 backend, which is not installed",
            hint="pass --backend and --checkpoint for the generator explicitly",
        ) from None
    return StyleGAN2Generator.from_rosinality_state_dict(ckpt.decoder_state, ckpt.latent_avg, device=device)
