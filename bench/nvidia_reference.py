"""Build NVIDIA's own generators from a checkout the user points to, and hand the same weights to ours.

Why: a speed claim against NVIDIA's code only means something when both run side by side, in one
process, on the same weights.  This module imports ``training.networks`` (stylegan2-ada-pytorch, or
the stylegan3 repo's ``networks_stylegan2``) and ``training.networks_stylegan3`` from the given
directory, builds a generator with a fixed seed in a realistic configuration, pickles it with NVIDIA's
own persistence (as their training writes ``network-snapshot-*.pkl``) and reads that pickle back through
*our* restricted loader, so the comparison also exercises the real loading path.  Nothing of NVIDIA's
code is vendored: the checkout is only put on ``sys.path`` for the duration of the build.

On CPU NVIDIA's ops fall back to their reference implementations (``impl='ref'``), which is what a
user without a GPU runs.
"""

from __future__ import annotations

import contextlib
import importlib
import pickle
import sys
import tempfile
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

_TOP_PACKAGES = ("dnnlib", "torch_utils", "training", "legacy")

# Realistic shapes: NVIDIA's "paper256" and config-f channel tables, the released StyleGAN3 256 px nets.
SG2_CONFIGS = {256: {"channel_base": 16384, "channel_max": 512}, 1024: {"channel_base": 32768, "channel_max": 512}}
SG3_CONFIGS = {
    "T": {"channel_base": 16384, "channel_max": 512, "conv_kernel": 3, "use_radial_filters": False},
    "R": {"channel_base": 32768, "channel_max": 1024, "conv_kernel": 1, "use_radial_filters": True},
}


@dataclass
class Pair:
    """NVIDIA's generator and ours holding the same weights (read from NVIDIA's pickle)."""

    label: str
    nvidia: Any
    ours: Any


def _pkg_resources_shim() -> None:
    """stylegan3's ops import ``pkg_resources.parse_version``; newer setuptools no longer ship it."""
    try:
        import pkg_resources  # noqa: F401
    except ImportError:
        from packaging.version import parse

        shim = types.ModuleType("pkg_resources")
        shim.parse_version = parse  # type: ignore[attr-defined]
        sys.modules["pkg_resources"] = shim


@contextlib.contextmanager
def _checkout_on_path(root: Path) -> Iterator[None]:
    """Import NVIDIA's top-level packages from ``root``; forget them afterwards (both repos use the same names)."""
    if not (root / "training").is_dir() or not (root / "torch_utils").is_dir():
        raise SystemExit(f"{root}: not an NVIDIA StyleGAN checkout (no training/ and torch_utils/ folders)")
    for name in [m for m in sys.modules if m.split(".")[0] in _TOP_PACKAGES]:
        del sys.modules[name]
    _pkg_resources_shim()
    sys.path.insert(0, str(root))
    try:
        yield
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m.split(".")[0] in _TOP_PACKAGES]:
            del sys.modules[name]


def _through_our_loader(nvidia_g: Any, loader: Any) -> Any:
    """Pickle ``{'G_ema': G}`` with NVIDIA's persistence and load it with our restricted reader."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "network-snapshot.pkl"
        with open(path, "wb") as f:
            pickle.dump({"G_ema": nvidia_g}, f)
        return loader(path)


def _nvidia_generator(networks: Any, seed: int, resolution: int, mapping_layers: int, **kwargs: Any) -> Any:
    """NVIDIA's ``Generator`` as both pairs build it: 512-d z and w, unconditional RGB, seeded init, frozen."""
    torch.manual_seed(seed)
    generator = networks.Generator(
        z_dim=512,
        c_dim=0,
        w_dim=512,
        img_resolution=resolution,
        img_channels=3,
        mapping_kwargs={"num_layers": mapping_layers},
        **kwargs,
    )
    return generator.eval().requires_grad_(False)


def stylegan2_pair(checkout: Path, resolution: int, seed: int = 0) -> Pair:
    """NVIDIA StyleGAN2 (fp32: ``num_fp16_res=0``, ``conv_clamp=256`` as their training sets) and ours."""
    from large_stylegan2 import load_stylegan2

    with _checkout_on_path(checkout):
        module = (
            "training.networks" if (checkout / "training" / "networks.py").exists() else "training.networks_stylegan2"
        )
        networks = importlib.import_module(module)
        synthesis = {**SG2_CONFIGS[resolution], "num_fp16_res": 0, "conv_clamp": 256}
        g = _nvidia_generator(networks, seed, resolution, mapping_layers=8, synthesis_kwargs=synthesis)
        ours = _through_our_loader(g, load_stylegan2)
    return Pair(f"SG2 {resolution}", g, ours)


def stylegan3_pair(checkout: Path, cfg: str, resolution: int = 256, seed: int = 0) -> Pair:
    """NVIDIA StyleGAN3-T/R with input magnitudes calibrated by one EMA update (as a trained net has) and ours."""
    from large_stylegan3.loader import load_stylegan3

    with _checkout_on_path(checkout):
        networks = importlib.import_module("training.networks_stylegan3")
        g = _nvidia_generator(
            networks, seed, resolution, mapping_layers=2, num_fp16_res=0, conv_clamp=256, **SG3_CONFIGS[cfg]
        )
        layers = [m for m in g.synthesis.modules() if hasattr(m, "magnitude_ema_beta")]
        for layer in layers:  # random init has magnitude_ema = 1; one update with beta 0 sets the real magnitudes
            layer.magnitude_ema_beta = 0.0
        with torch.no_grad():
            g(torch.randn(4, 512, generator=torch.Generator().manual_seed(seed)), None, update_emas=True)
        for layer in layers:
            layer.magnitude_ema_beta = 0.999
        ours = _through_our_loader(g, load_stylegan3)
    return Pair(f"SG3-{cfg} {resolution}", g, ours)


def nvidia_synthesis(pair: Pair, ws: torch.Tensor) -> torch.Tensor:
    """NVIDIA's synthesis with constant noise in fp32 (the CPU settings a user runs)."""
    return pair.nvidia.synthesis(ws, noise_mode="const", force_fp32=True)
