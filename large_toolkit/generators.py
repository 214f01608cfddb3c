"""The one rule that turns ``--backend`` / ``--checkpoint`` into a generator, for every command.

* neither given: the default backend's bundled model;
* a checkpoint and no backend: the backend a model-zoo name records, else the backend
  whose registration ``recognizes(path)`` the file (a generator plugin passes
  ``recognizes=callable`` to ``register``); when none claims it, the default backend reads it;
* a backend (with or without a checkpoint): that backend.

The default backend is ``$LARGE_TK_BACKEND`` when set, else :data:`DEFAULT_BACKEND`
(the bundled StyleGAN2 demo) when it is installed, else the only installed
generator.  This is the only place a default backend is named.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from large_toolkit.errors import UserInputError

if TYPE_CHECKING:
    from large_toolkit.interfaces import Generator

DEFAULT_BACKEND = "stylegan2"


def default_backend() -> str:
    """``$LARGE_TK_BACKEND``, else ``stylegan2`` when installed, else the only generator installed."""
    from large_toolkit.plugins import get_host

    chosen = os.environ.get("LARGE_TK_BACKEND", "").strip()
    if chosen:
        return chosen
    names = sorted(get_host().registries["generator"])
    if DEFAULT_BACKEND in names or not names:
        return DEFAULT_BACKEND
    if len(names) == 1:
        return names[0]
    raise UserInputError("no default generator backend", hint=f"pass --backend (one of {', '.join(names)})")


def backend_for(checkpoint: str) -> str | None:
    """The backend a zoo entry names, else the one whose ``recognizes`` hook claims the file (None: nobody)."""
    from large_toolkit.io.zoo import find
    from large_toolkit.plugins import get_host

    entry = None if os.path.exists(checkpoint) else find(checkpoint)
    if entry is not None and entry.backend:
        return entry.backend
    for name, registration in sorted(get_host().registries["generator"].items()):
        recognizes = registration.meta.get("recognizes")
        if recognizes is not None and recognizes(checkpoint):
            return name
    return None


def choose_backend(backend: str | None, checkpoint: str | None) -> str:
    """The backend name the rule picks (see the module docstring)."""
    if backend:
        return backend
    if checkpoint:
        return backend_for(checkpoint) or default_backend()
    return default_backend()


def resolve_generator(
    backend: str | None, checkpoint: str | None, device: str = "auto", class_idx: int | None = None
) -> Generator:
    """Load the generator the rule picks; ``device`` is the global ``--device``.

    ``class_idx`` (``--class-idx``) binds a class-conditional model to one class (see
    :mod:`large_toolkit.conditional`); it is refused in one line for an unconditional model, and a
    conditional model without it is refused too.
    """
    from large_toolkit.conditional import bind_class

    return bind_class(load_model(backend, checkpoint, device), class_idx)


def load_model(backend: str | None, checkpoint: str | None, device: str = "auto") -> Generator:
    """The generator the rule picks, as stored: a class-conditional model stays conditional (no class is
    bound), which is what ``convert`` needs to save every class; commands that run it use
    :func:`resolve_generator`."""
    from large_toolkit.plugins import load_generator

    name = choose_backend(backend, checkpoint)
    generator = load_generator(name, checkpoint, device)
    if not generator.name:
        generator.name = name
    return generator
