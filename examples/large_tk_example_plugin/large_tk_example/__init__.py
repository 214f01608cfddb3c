"""Example large-tk plugin: registers the ``random`` direction finder.

This module is imported at plugin discovery, so it imports nothing heavy; the
finder (which needs torch) is imported inside the factory.
"""

from __future__ import annotations

from typing import Any

from large_toolkit.api import hookimpl


def _make_random_finder() -> Any:
    from large_tk_example.finder import RandomDirectionFinder

    return RandomDirectionFinder()


@hookimpl
def register_direction_finders(register: Any) -> None:
    register("random", _make_random_finder, "Seeded random unit directions in W (a baseline).")
