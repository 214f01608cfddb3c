"""StyleGAN code that the StyleGAN2 and StyleGAN3 backends (and the StyleGAN2 discriminator) share.

Not a plugin: no entry point, no hooks.  It is a library package beside the backends because the
shared part -- NVIDIA's mapping network, truncation, ``w_avg`` estimation, styles as raw affine
outputs, safetensors export, and the checkpoint-container steps of the loaders -- belongs to
neither family.  Kept in ``large_stylegan2`` it would tie the StyleGAN3 backend to the StyleGAN2
package (its trainer, formats and demo model included) for a few hundred lines they both use.
Its declared surface is ``__all__`` below; other plugins import only those names (tests/test_layering.py).
"""

from __future__ import annotations

from typing import Any

# Loaded lazily, like the backends' hook modules: importing the package does not import torch.
_LAZY = {
    "NOISE_MODES": "large_stylegan_common.generator",
    "ConfigDict": "large_stylegan_common.generator",
    "StyleGANGenerator": "large_stylegan_common.generator",
    "config_from_metadata": "large_stylegan_common.generator",
    "full_precision": "large_stylegan_common.generator",
    "fc": "large_stylegan_common.layers",
    "mapping_keys": "large_stylegan_common.layers",
    "mapping_network": "large_stylegan_common.layers",
    "normalize_2nd_moment": "large_stylegan_common.layers",
    "random_mapping_state": "large_stylegan_common.layers",
    "random_modulated_layer": "large_stylegan_common.layers",
    "truncate": "large_stylegan_common.layers",
    "checkpoint_mapping": "large_stylegan_common.loading",
    "describe_object": "large_stylegan_common.loading",
    "g_ema_record": "large_stylegan_common.loading",
    "load_generator": "large_stylegan_common.loading",
    "safetensors_parts": "large_stylegan_common.loading",
    "strip_prefix": "large_stylegan_common.loading",
}

__all__ = [*_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'large_stylegan_common' has no attribute {name!r}")
