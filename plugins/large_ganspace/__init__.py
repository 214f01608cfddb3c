"""large-tk plugin: GANSpace PCA of W (Härkönen et al., NeurIPS 2020).

The entry point loads this module at discovery, so it only declares: the finder and the
formats are imported from :mod:`large_ganspace.finder` / :mod:`large_ganspace.formats` when built.
"""

from __future__ import annotations

from large_toolkit.api import registry_hook

register_direction_finders = registry_hook(
    ("ganspace", "large_ganspace.finder:GANSpaceFinder", "GANSpace: principal components of W = mapping(z), streamed")
)
register_direction_formats = registry_hook(
    ("ganspace-npz", "large_ganspace.formats:GANSpaceNpz", "GANSpace cache .npz (lat_comp, lat_mean, lat_stdev)"),
    ("e4e-ganspace", "large_ganspace.formats:E4EGANSpace", "e4e editing .pt ({mean, comp, std})"),
)
