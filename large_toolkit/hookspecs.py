"""The hooks a large-tk plugin may implement.

Registry hooks receive a ``register`` callback and return nothing (the pattern
of simonw/llm and tox): ``register(name, factory, description, **meta)``.
The factory is called only when the component is used, so a plugin module
stays light to import and ``large-tk plugins`` never loads torch.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("large_toolkit")


@hookspec
def register_generators(register: Any) -> None:
    """Call ``register(name, factory, description, recognizes=None)`` per Generator backend.

    ``factory(checkpoint: str | None, device: str) -> Generator``; ``checkpoint``
    None means the backend's bundled default, if it has one.  ``recognizes(path)
    -> bool`` (optional, cheap: read a header, not the weights) lets commands pick
    this backend for a checkpoint given without ``--backend``.
    """


@hookspec
def register_inverters(register: Any) -> None:
    """Call ``register(name, factory, description)`` per Inverter.

    ``factory(generator: Generator, checkpoint: str | None, device: str, **options) -> Inverter``.
    """


@hookspec
def register_direction_finders(register: Any) -> None:
    """Call ``register(name, factory, description)`` per DirectionFinder; ``factory() -> DirectionFinder``."""


@hookspec
def register_direction_formats(register: Any) -> None:
    """Call ``register(name, factory, description)`` per direction file format a plugin owns.

    ``factory() -> DirectionFormat`` (:mod:`large_toolkit.io.direction_formats`): its
    ``suffixes``, ``sniff(path)``, ``read(path)`` and, when writable, ``write(path, dirs, generator)``.
    """


@hookspec
def register_commands(app: Any) -> None:
    """Add Typer commands or groups to the ``large-tk`` app."""
