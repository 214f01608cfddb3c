"""large-tk plugin: Voynov & Babenko, "Unsupervised Discovery of Interpretable Directions
in the GAN Latent Space" (ICML 2020).

This module is the hook module the entry point loads, so it imports no torch:
training is heavy and ``large-tk --help`` must stay fast, so the factory
imports :mod:`large_voynov.finder` only when a finder is built.
"""

from __future__ import annotations

from large_toolkit.api import registry_hook

register_direction_finders = registry_hook(
    ("voynov", "large_voynov.finder:VoynovFinder", "Voynov-Babenko: trained direction matrix + reconstructor (W)")
)
register_direction_formats = registry_hook(
    ("voynov", "large_voynov.formats:Deformator", "Voynov-Babenko deformator_{step}.pt (read)")
)
