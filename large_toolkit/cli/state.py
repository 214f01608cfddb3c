"""Options given before the sub-command (``large-tk --device cuda ...``), shared by all commands."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class GlobalOptions:
    device: str = "auto"


OPTIONS = GlobalOptions()
