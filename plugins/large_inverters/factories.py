"""Registry factories: ``factory(generator, checkpoint=None, device='cpu', **options) -> Inverter``.

Kept apart from the hook module so that importing the plugin (``large-tk
plugins``) never imports torch; these run only when an inverter is used.
"""

from __future__ import annotations

from typing import Any

from large_toolkit.api import Generator, Inverter, UserInputError


def _typed(options_cls: type, options: dict[str, Any], name: str) -> dict[str, Any]:
    """Options typed by the inverter's declaration (:mod:`large_inverters.options`); unknown ones refused."""
    from large_toolkit.api import parse_options

    return parse_options(options_cls, options, f"inverter {name!r}")


def _restyle_steps(options: dict[str, Any], name: str) -> int:
    from large_inverters.options import StyleEncoderOptions

    steps = int(_typed(StyleEncoderOptions, options, name)["restyle_steps"])
    if steps < 0:
        raise UserInputError(f"restyle_steps must be >= 0, got {steps}")
    return steps


def make_e4e(
    generator: Generator | None, checkpoint: str | None = None, device: str = "cpu", **options: Any
) -> Inverter:
    from large_inverters.encoders import load_style_encoder

    return load_style_encoder(checkpoint, "e4e", device, _restyle_steps(options, "e4e"))


def make_psp(
    generator: Generator | None, checkpoint: str | None = None, device: str = "cpu", **options: Any
) -> Inverter:
    from large_inverters.encoders import load_style_encoder

    return load_style_encoder(checkpoint, "psp", device, _restyle_steps(options, "psp"))


def make_projector(
    generator: Generator | None, checkpoint: str | None = None, device: str = "cpu", **options: Any
) -> Inverter:
    """Options are :class:`ProjectorConfig` fields plus local files ``lpips_vgg`` / ``lpips_heads`` / ``discriminator``.

    ``checkpoint`` is accepted as a synonym for ``lpips_vgg``: the projector's only weights are the loss net's.
    ``discriminator`` names a network pickle holding ``D`` (usually the generator's own snapshot) or a
    ``training-state.safetensors``; it is needed (and only loaded) when ``d_weight`` is non-zero.
    """
    from large_inverters.losses import load_lpips_vgg
    from large_inverters.options import ProjectorOptions
    from large_inverters.projector import Projector, ProjectorConfig

    options = _typed(ProjectorOptions, options, "optim")
    vgg = options.pop("lpips_vgg", None) or checkpoint
    heads = options.pop("lpips_heads", None)
    d_path = options.pop("discriminator", None)
    lpips = load_lpips_vgg(vgg, heads) if vgg else None
    dloss = None
    if d_path and not options.get("d_weight"):
        raise UserInputError("discriminator=PATH is only used when d_weight > 0", hint="add d_weight=0.1 or drop it")
    if options.get("d_weight"):
        if not d_path:
            raise UserInputError(
                "d_weight needs the discriminator", hint="add discriminator=PATH (the snapshot .pkl holding D)"
            )
        from large_inverters.dfeatures import DiscriminatorFeatureLoss, load_discriminator

        layers = [s.strip() for s in str(options.get("d_layers", "")).split(",") if s.strip()]
        dloss = DiscriminatorFeatureLoss(
            load_discriminator(d_path), layers or None, str(options.get("d_norm", "l2")), device
        )
    return Projector(ProjectorConfig(**options), lpips=lpips, device=device, discriminator=dloss)


def make_encoder(
    generator: Generator | None, checkpoint: str | None = None, device: str = "cpu", **options: Any
) -> Inverter:
    from large_inverters.options import EncoderOptions
    from large_inverters.small_encoder import EncoderInverter, load_encoder

    options = _typed(EncoderOptions, options, "encoder")
    if generator is None:
        raise UserInputError("the encoder inverter needs the generator it was trained for")
    if checkpoint is None:
        from large_inverters.demo import demo_encoder_for

        checkpoint = demo_encoder_for(generator)
    net = load_encoder(checkpoint, generator, device)
    return EncoderInverter(net, str(checkpoint), int(options.get("refine_steps", 0)), int(options.get("seed", 303)))
