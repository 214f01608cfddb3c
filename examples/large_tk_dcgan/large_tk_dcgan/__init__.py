"""Example large-tk plugin: a DCGAN-style generator backend (``--backend dcgan``).

This module is imported at plugin discovery, so it imports nothing heavy: the
model (torch) is imported inside the factory.  It uses only the public plugin
API, :mod:`large_toolkit.api`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from large_toolkit.api import hookimpl

BUNDLED = Path(__file__).with_name("dcgan32.safetensors")
FORMAT = "large-tk-dcgan"


def recognizes(path: str) -> bool:
    """Whether ``path`` is one of our checkpoints: a safetensors file whose header says so (no tensor read)."""
    if not str(path).endswith(".safetensors") or not Path(path).is_file():
        return False
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            return (handle.metadata() or {}).get("format") == FORMAT
    except Exception:  # not a safetensors file after all: someone else's
        return False


def create_generator(checkpoint: str | None = None, device: str = "cpu") -> Any:
    """Registry factory: no checkpoint means the bundled 32 px model."""
    from large_tk_dcgan.model import load_dcgan

    return load_dcgan(checkpoint or BUNDLED, device=device)


@hookimpl
def register_generators(register: Any) -> None:
    register(
        "dcgan",
        create_generator,
        "DCGAN example: Gaussian z -> transposed convs -> 32 px RGB (no mapping, no style layers)",
        recognizes=recognizes,
    )
