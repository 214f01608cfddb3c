"""large-tk plugin: InterFaceGAN linear boundaries (Shen et al., CVPR 2020).

Declarations only (no torch import); the SVM lives in :mod:`large_interfacegan.finder`.
"""

from __future__ import annotations

from large_toolkit.api import registry_hook

register_direction_finders = registry_hook(
    ("interfacegan", "large_interfacegan.finder:InterFaceGANFinder", "InterFaceGAN: linear SVM boundary (needs scores)")
)
register_direction_formats = registry_hook(
    ("interfacegan", "large_interfacegan.formats:BoundaryNpy", "InterFaceGAN boundary.npy [1, D]"),
    ("e4e-interfacegan", "large_interfacegan.formats:E4EBoundary", "e4e boundary .pt ([1, D] or [1, num_ws, D])"),
)
