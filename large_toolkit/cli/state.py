"""Options given before the sub-command (``large-tk --device cuda ...``), shared by all commands."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class GlobalOptions:
    device: str = "auto"
    precision: str = "fp32"


OPTIONS = GlobalOptions()


def global_device() -> str:
    """The ``large-tk --device`` value (``auto`` unless given): what plugin commands load models on."""
    return OPTIONS.device
