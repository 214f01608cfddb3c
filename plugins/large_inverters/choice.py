"""Which inverter ``large-tk invert`` uses when the user names none: the fastest that fits the generator.

Why: the optimisation projector takes minutes per image on a CPU, while an encoder is one forward pass.
A new user who types ``large-tk invert --images imgs/ -o lat.safetensors`` should get the fast path whenever
one exists: an encoder checkpoint given (its own format says e4e, pSp or the toolkit's small encoder), the
bundled encoder for the bundled demo generator, and only otherwise the projector.
"""

from __future__ import annotations

from pathlib import Path

from large_toolkit.api import Generator, LargeTkError


def checkpoint_inverter(inverter_checkpoint: str) -> str:
    """The inverter an encoder file belongs to: ``encoder`` (.safetensors) or e4e/pSp (read from its opts)."""
    if Path(inverter_checkpoint).suffix == ".safetensors":
        return "encoder"
    from large_inverters.checkpoints import parse_encoder_checkpoint, read_checkpoint

    return parse_encoder_checkpoint(read_checkpoint(inverter_checkpoint)).kind


def auto_inverter(generator: Generator | None, inverter_checkpoint: str | None) -> tuple[str, str]:
    """``(inverter name, why)`` for ``--inverter auto``."""
    if inverter_checkpoint is not None:
        name = checkpoint_inverter(inverter_checkpoint)
        return name, f"{name} (from {Path(inverter_checkpoint).name})"
    if generator is not None:
        from large_inverters.demo import demo_encoder_for

        try:
            demo_encoder_for(generator)
            return "encoder", "encoder (the bundled encoder of the demo generator)"
        except LargeTkError:
            pass
    return "optim", "optim (no encoder for this generator; pass --inverter-checkpoint to use one)"
