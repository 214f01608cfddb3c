"""A class-conditional generator bound to one class: the unconditional generator every command expects.

Why: LARGE measures distances in W, and in a conditional StyleGAN (NVIDIA's ``c_dim > 0``) W depends on
the class label, so every command that maps z -> W (finders, inversion, FID, rendering, the GUI) needs a
class.  Rather than thread a label through each of them, ``--class-idx`` binds it once:
:func:`bind_class` returns a :class:`ClassBoundGenerator` whose mapping always uses that class's one-hot
``c`` and which otherwise *is* the underlying generator.  Its fingerprint includes the class, so latents,
directions and regressors made under class 2 are refused under class 3 by the existing provenance checks.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import torch

from large_toolkit.chunk_engine import attach_recipe, generator_recipe
from large_toolkit.errors import UserInputError
from large_toolkit.interfaces import Capability, Generator, StyleAffine

__all__ = ["ClassBoundGenerator", "bind_class", "check_class_idx"]


def check_class_idx(c_dim: int, class_idx: int | None) -> None:
    """Refuse, in one line, a class index that does not fit a generator with ``c_dim`` classes.

    Missing for a conditional model, given for an unconditional one, or out of range.
    """
    if not c_dim:
        if class_idx is not None:
            raise UserInputError("--class-idx given but the model is unconditional", hint="drop --class-idx")
        return
    if class_idx is None:
        raise UserInputError(
            f"this model is class-conditional ({c_dim} classes)", hint=f"pass --class-idx N with N in 0-{c_dim - 1}"
        )
    if not 0 <= class_idx < c_dim:
        raise UserInputError(f"--class-idx {class_idx} is out of range", hint=f"use 0-{c_dim - 1}")


def bind_class(generator: Generator, class_idx: int | None) -> Generator:
    """``generator`` itself when unconditional (and ``class_idx`` None), else its view bound to ``class_idx``.

    A generator that is already a bound view is returned as it is when ``class_idx`` is None.
    """
    check_class_idx(generator.c_dim, class_idx)
    if class_idx is None:
        return generator
    return ClassBoundGenerator(generator, class_idx)


class ClassBoundGenerator(Generator):
    """A conditional generator seen as an unconditional one (``c_dim`` 0) for one class.

    Every member delegates to the wrapped generator except :meth:`mapping` (which replaces any ``c`` with
    the bound class's one-hot vector), :meth:`fingerprint` (which adds the class) and the capabilities
    (``conditional`` is gone: the label is fixed).  Attributes a plugin reads beyond the interface
    (``params``, ``config``, ...) come from the wrapped generator too.
    """

    def __init__(self, generator: Generator, class_idx: int) -> None:
        check_class_idx(generator.c_dim, class_idx)
        self.inner = generator
        self.class_idx = int(class_idx)
        self.classes = generator.c_dim
        self.c_dim = 0
        self.z_dim, self.num_ws, self.resolution = generator.z_dim, generator.num_ws, generator.resolution
        self.img_channels, self.style_layers = generator.img_channels, generator.style_layers
        self.w_dim = generator.w_dim
        self.name = generator.name
        self.capabilities = generator.capabilities - {Capability.CONDITIONAL}  # type: ignore[misc]
        recipe = generator_recipe(generator)
        if recipe is not None:  # engine=ray workers rebuild the bound view, not the bare conditional model
            attach_recipe(self, replace(recipe, class_idx=self.class_idx))

    def __getattr__(self, name: str) -> Any:
        # only reached for attributes this view does not have: a plugin's extras (params, config, ...)
        if name == "inner":  # not yet set (copy/pickle): do not recurse
            raise AttributeError(name)
        return getattr(self.inner, name)

    def class_vector(self, n: int, device: torch.device | str) -> torch.Tensor:
        """The bound class as ``[n, classes]`` one-hot rows (NVIDIA's conditioning input)."""
        c = torch.zeros(n, self.classes, device=device)
        c[:, self.class_idx] = 1
        return c

    # -- the bound part -------------------------------------------------------------------------------

    def mapping(
        self, z: torch.Tensor, c: torch.Tensor | None = None, psi: float = 1.0, trunc_cutoff: int | None = None
    ) -> torch.Tensor:
        """z -> ws under the bound class; a ``c`` passed by class-agnostic code is replaced by it."""
        return self.inner.mapping(z, self.class_vector(z.shape[0], z.device), psi=psi, trunc_cutoff=trunc_cutoff)

    def fingerprint(self) -> str:
        """The wrapped generator's fingerprint with the class: artifacts made under one class refuse another."""
        tag = f"{self.inner.fingerprint()}:class={self.class_idx}"
        return hashlib.sha256(tag.encode()).hexdigest()[:16]

    def describe(self) -> dict[str, Any]:
        return {
            **self.inner.describe(),
            "c_dim": self.classes,
            "class_idx": self.class_idx,
            "capabilities": sorted(self.capabilities),
            "fingerprint": self.fingerprint(),
        }

    # -- delegated unchanged --------------------------------------------------------------------------

    @property
    def device(self) -> torch.device:
        return self.inner.device

    def to(self, device: torch.device | str) -> ClassBoundGenerator:
        self.inner = self.inner.to(device)
        return self

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        return self.inner.decode(codes)

    def state_tensors(self) -> Mapping[str, torch.Tensor]:
        return self.inner.state_tensors()

    @property
    def w_avg(self) -> torch.Tensor:
        return self.inner.w_avg

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        return self.inner.synthesis(ws, noise_mode=noise_mode)

    def styles(self, ws: torch.Tensor) -> torch.Tensor:
        return self.inner.styles(ws)

    def synthesis_from_styles(self, styles: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        return self.inner.synthesis_from_styles(styles, noise_mode=noise_mode)

    def style_affines(self) -> list[StyleAffine]:
        return self.inner.style_affines()

    def set_input_transform(self, translate: tuple[float, float] = (0.0, 0.0), rotate: float = 0.0) -> None:
        self.inner.set_input_transform(translate, rotate)

    def save_safetensors(self, path: str | os.PathLike[str]) -> Any:
        return self.inner.save_safetensors(path)
