"""A picklable recipe for (generator, inverter): what a remote worker needs to rebuild the models.

Why: a Ray actor (or any other process) must load the generator and the inverter itself, once,
instead of receiving multi-hundred-MB model objects over the wire.  ``large-tk invert`` builds its
own models from the same recipe, so the driver and every worker resolve names, bundled defaults and
checkpoints through one code path and cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from large_toolkit.api import Generator, Inverter


@dataclass(frozen=True)
class ModelSpec:
    """Names and files that define the models of one inversion run (all plain data: picklable)."""

    inverter: str
    backend: str | None = None
    checkpoint: str | None = None
    inverter_checkpoint: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    class_idx: int | None = None  # a class-conditional generator's class: part of the recipe, so workers bind it too

    def load_generator(self, device: str) -> Generator:
        """The generator, bound to ``class_idx``: e4e/pSp's embedded decoder when only such an encoder is
        given, else the one ``--backend``/``--checkpoint`` rule every command follows."""
        from large_toolkit.api import bind_class, resolve_generator

        encoder_only = self.backend is None and self.checkpoint is None and self.inverter_checkpoint is not None
        if encoder_only and self.inverter in ("e4e", "psp"):
            from large_inverters.encoders import embedded_generator

            return bind_class(embedded_generator(self.inverter_checkpoint, device), self.class_idx)
        return resolve_generator(self.backend, self.checkpoint, device, self.class_idx)

    def load_inverter(self, generator: Generator, device: str) -> Inverter:
        from large_toolkit.api import get_host

        factory = get_host().inverter(self.inverter)
        return factory.create(generator, checkpoint=self.inverter_checkpoint, device=device, **self.options)

    def build(self, device: str) -> tuple[Generator, Inverter]:
        generator = self.load_generator(device)
        return generator, self.load_inverter(generator, device)
