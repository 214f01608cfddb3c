"""Registry factories: ``factory(generator, checkpoint=None, device='cpu', **options) -> Inverter``.

Kept apart from the hook module so that importing the plugin (``large-tk
plugins``) never imports torch; these run only when an inverter is used.
"""

from __future__ import annotations

from typing import Any

from large_toolkit.errors import UserInputError
from large_toolkit.interfaces import Generator, Inverter


def _no_unknown(options: dict[str, Any], known: set[str], name: str) -> None:
    unknown = sorted(set(options) - known)
    if unknown:
        raise UserInputError(f"unknown option(s) for inverter {name!r}: {unknown}", hint=f"known: {sorted(known)}")


def make_e4e(
    generator: Generator | None, checkpoint: str | None = None, device: str = "cpu", **options: Any
) -> Inverter:
    from large_inverters.encoders import load_style_encoder

    _no_unknown(options, set(), "e4e")
    return load_style_encoder(checkpoint, "e4e", device)


def make_psp(
    generator: Generator | None, checkpoint: str | None = None, device: str = "cpu", **options: Any
) -> Inverter:
    from large_inverters.encoders import load_style_encoder

    _no_unknown(options, set(), "psp")
    return load_style_encoder(checkpoint, "psp", device)


def make_projector(
    generator: Generator | None, checkpoint: str | None = None, device: str = "cpu", **options: Any
) -> Inverter:
    """Options are :class:`ProjectorConfig` fields plus ``lpips_vgg`` / ``lpips_heads`` (local files).

    ``checkpoint`` is accepted as a synonym for ``lpips_vgg``: the projector's only weights are the loss net's.
    """
    from dataclasses import fields

    from large_inverters.losses import load_lpips_vgg
    from large_inverters.projector import Projector, ProjectorConfig

    names = {f.name for f in fields(ProjectorConfig)}
    _no_unknown(options, names | {"lpips_vgg", "lpips_heads"}, "optim")
    vgg = options.pop("lpips_vgg", None) or checkpoint
    heads = options.pop("lpips_heads", None)
    lpips = load_lpips_vgg(vgg, heads) if vgg else None
    return Projector(ProjectorConfig(**options), lpips=lpips, device=device)


def make_encoder(
    generator: Generator | None, checkpoint: str | None = None, device: str = "cpu", **options: Any
) -> Inverter:
    from large_inverters.small_encoder import EncoderInverter, load_encoder

    _no_unknown(options, {"refine_steps", "seed"}, "encoder")
    if generator is None:
        raise UserInputError("the encoder inverter needs the generator it was trained for")
    if checkpoint is None:
        from large_inverters.demo import demo_encoder_for

        checkpoint = demo_encoder_for(generator)
    net = load_encoder(checkpoint, generator, device)
    return EncoderInverter(net, str(checkpoint), int(options.get("refine_steps", 0)), int(options.get("seed", 303)))
