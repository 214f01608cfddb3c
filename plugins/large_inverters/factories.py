"""Registry factories: ``factory(generator, checkpoint=None, device='cpu', **options) -> Inverter``.

Kept apart from the hook module so that importing the plugin (``large-tk
plugins``) never imports torch; these run only when an inverter is used.
"""

from __future__ import annotations

from typing import Any

from large_toolkit.api import Generator, Inverter, UserInputError


def _no_unknown(options: dict[str, Any], known: set[str], name: str) -> None:
    unknown = sorted(set(options) - known)
    if unknown:
        raise UserInputError(f"unknown option(s) for inverter {name!r}: {unknown}", hint=f"known: {sorted(known)}")


def _coerce(value: Any, kind: type, key: str, inverter: str) -> Any:
    """Options typed on the command line arrive as strings; turn them into the field's type, or fail in one line."""
    if not isinstance(value, str) or kind is str:
        return value
    try:
        if kind is bool:
            if value.lower() not in ("1", "0", "true", "false", "yes", "no"):
                raise ValueError(value)
            return value.lower() in ("1", "true", "yes")
        return kind(value)
    except ValueError:
        raise UserInputError(
            f"option {key}={value!r} of inverter {inverter!r} is not a valid {kind.__name__}"
        ) from None


def _restyle_steps(options: dict[str, Any], name: str) -> int:
    steps = _coerce(options.get("restyle_steps", 0), int, "restyle_steps", name)
    if steps < 0:
        raise UserInputError(f"restyle_steps must be >= 0, got {steps}")
    return int(steps)


def make_e4e(
    generator: Generator | None, checkpoint: str | None = None, device: str = "cpu", **options: Any
) -> Inverter:
    from large_inverters.encoders import load_style_encoder

    _no_unknown(options, {"restyle_steps"}, "e4e")
    return load_style_encoder(checkpoint, "e4e", device, _restyle_steps(options, "e4e"))


def make_psp(
    generator: Generator | None, checkpoint: str | None = None, device: str = "cpu", **options: Any
) -> Inverter:
    from large_inverters.encoders import load_style_encoder

    _no_unknown(options, {"restyle_steps"}, "psp")
    return load_style_encoder(checkpoint, "psp", device, _restyle_steps(options, "psp"))


def make_projector(
    generator: Generator | None, checkpoint: str | None = None, device: str = "cpu", **options: Any
) -> Inverter:
    """Options are :class:`ProjectorConfig` fields plus local files ``lpips_vgg`` / ``lpips_heads`` / ``discriminator``.

    ``checkpoint`` is accepted as a synonym for ``lpips_vgg``: the projector's only weights are the loss net's.
    ``discriminator`` names a network pickle holding ``D`` (usually the generator's own snapshot) or a
    ``training-state.safetensors``; it is needed (and only loaded) when ``d_weight`` is non-zero.
    """
    import typing
    from dataclasses import fields

    from large_inverters.losses import load_lpips_vgg
    from large_inverters.projector import Projector, ProjectorConfig

    types = typing.get_type_hints(ProjectorConfig)
    names = {f.name for f in fields(ProjectorConfig)}
    _no_unknown(options, names | {"lpips_vgg", "lpips_heads", "discriminator"}, "optim")
    vgg = options.pop("lpips_vgg", None) or checkpoint
    heads = options.pop("lpips_heads", None)
    d_path = options.pop("discriminator", None)
    options = {k: _coerce(v, types[k], k, "optim") for k, v in options.items()}
    lpips = load_lpips_vgg(vgg, heads) if vgg else None
    dloss = None
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
    from large_inverters.small_encoder import EncoderInverter, load_encoder

    _no_unknown(options, {"refine_steps", "seed"}, "encoder")
    if generator is None:
        raise UserInputError("the encoder inverter needs the generator it was trained for")
    if checkpoint is None:
        from large_inverters.demo import demo_encoder_for

        checkpoint = demo_encoder_for(generator)
    net = load_encoder(checkpoint, generator, device)
    return EncoderInverter(net, str(checkpoint), int(options.get("refine_steps", 0)), int(options.get("seed", 303)))
