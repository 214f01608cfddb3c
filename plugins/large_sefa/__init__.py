"""large-tk plugin: SeFa closed-form factorisation (Shen & Zhou, CVPR 2021).

This module is the hook module the entry point loads, so it imports no torch:
the factory imports :mod:`large_sefa.finder` only when a finder is built.
"""

from __future__ import annotations

from large_toolkit.api import registry_hook

register_direction_finders = registry_hook(
    ("sefa", "large_sefa.finder:SeFaFinder", "SeFa: eigenvectors of the style-affine Gram matrix (closed form, W)")
)
register_direction_formats = registry_hook(
    ("sefa-npz", "large_sefa.formats:SeFaNpz", "genforce SeFa .npz (boundaries, values, layers)"),
    ("rosinality-factor", "large_sefa.formats:RosinalityFactor", "rosinality closed-form factor .pt ({ckpt, eigvec})"),
)
