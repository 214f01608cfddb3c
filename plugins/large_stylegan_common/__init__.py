"""StyleGAN code that the StyleGAN2 and StyleGAN3 backends (and the StyleGAN2 discriminator) share.

Not a plugin: no entry point, no hooks.  It is a library package beside the backends because the
shared part -- NVIDIA's mapping network, truncation, ``w_avg`` estimation, styles as raw affine
outputs, safetensors export, and the checkpoint-container steps of the loaders -- belongs to
neither family.  Kept in ``large_stylegan2`` it would tie the StyleGAN3 backend to the StyleGAN2
package (its trainer, formats and demo model included) for a few hundred lines they both use.
Its declared surface is ``__all__`` below; other plugins import only those names (tests/test_layering.py).
"""

from __future__ import annotations

from large_stylegan_common.generator import ConfigDict, StyleGANGenerator, config_from_metadata
from large_stylegan_common.layers import (
    fc,
    mapping_keys,
    mapping_network,
    normalize_2nd_moment,
    random_mapping_state,
    truncate,
)
from large_stylegan_common.loading import (
    checkpoint_mapping,
    describe_object,
    g_ema_record,
    load_generator,
    safetensors_parts,
    strip_prefix,
)

__all__ = [
    "ConfigDict",
    "StyleGANGenerator",
    "checkpoint_mapping",
    "config_from_metadata",
    "describe_object",
    "fc",
    "g_ema_record",
    "load_generator",
    "mapping_keys",
    "mapping_network",
    "normalize_2nd_moment",
    "random_mapping_state",
    "safetensors_parts",
    "strip_prefix",
    "truncate",
]
