"""Example large-tk plugin: registers the ``random`` direction finder.

This module is imported at plugin discovery, so it imports nothing heavy: it only declares the
component.  ``registry_hook`` (plugin API 1.1) builds the ``register_direction_finders`` hook, and the
``"module:Name"`` target makes the finder (which needs torch) load only when one is built.
"""

from __future__ import annotations

from large_toolkit.api import registry_hook

register_direction_finders = registry_hook(
    ("random", "large_tk_example.finder:RandomDirectionFinder", "Seeded random unit directions in W (a baseline).")
)
