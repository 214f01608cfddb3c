"""SeFa: closed-form factorisation of the style-modulation weights.

Layer indices (``layers``) are **W+ slot indices** (``w_index`` of a
:class:`~large_toolkit.types.StyleLayer`), exactly as the genforce reference's
``layer_idx``: ``all``, ``0-1``, ``2-5``, ``6-13`` or single slots.  For each
selected slot the conv affines fed by that slot are used; a slot that feeds no
conv (StyleGAN2's last slot, which only feeds the final toRGB) contributes its
toRGB affine instead.  Intermediate toRGBs, which share odd slots with a conv,
are skipped, and StyleGAN3's ``input`` affine (a 4-output geometric control)
is never used.  This reproduces genforce's "17 convs + final toRGB" for ``all``.

Numerics: the Gram matrix of the column-normalised ``[w_dim, sum C]`` matrix is
decomposed with ``torch.linalg.eigh`` in float64 and sorted by eigenvalue,
largest first (the reference's float32 ``np.linalg.eig`` returns LAPACK order,
which is not sorted; ``order=reference`` replays it for paper indices).

Sign convention: each eigenvector is flipped so that its largest-magnitude
entry is positive (sklearn's ``svd_flip`` rule, also used for GANSpace), so a
given generator always yields the same signed directions.

``variant=rosinality`` reproduces rosinality's ``closed_form_factorization.py``:
every conv modulation plus the *first* toRGB (``to_rgb1``), no column
normalisation, right singular vectors of the stacked ``[sum C, w_dim]`` rows,
sorted by singular value.  Scores are then the squared singular values (the
eigenvalues of ``WᵀW``), so both variants report eigenvalues.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from large_toolkit.api import (
    Capability,
    Direction,
    DirectionFinder,
    DirectionSet,
    Generator,
    LatentSpace,
    StyleAffine,
    UserInputError,
    canonical_sign,
    generator_meta,
    layer_indices,
    option,
)

VARIANTS = ("genforce", "rosinality")


def select_affines(generator: Generator, layers: Any, variant: str = "genforce") -> tuple[list[int], list[StyleAffine]]:
    """The affines SeFa factorises and the W+ slots they cover (see the module docstring)."""
    affines = [a for a in generator.style_affines() if a.layer.modulates_features]
    slots = layer_indices(layers, generator.num_ws)
    if variant == "rosinality":
        torgbs = [a for a in affines if a.layer.kind == "torgb"]
        first_rgb = torgbs[0] if torgbs else None
        picked = [a for a in affines if a.layer.w_index in slots and (a.layer.kind == "conv" or a is first_rgb)]
    else:
        picked = []
        for slot in slots:
            convs = [a for a in affines if a.layer.w_index == slot and a.layer.kind == "conv"]
            picked.extend(convs or [a for a in affines if a.layer.w_index == slot])
    if not picked:
        raise UserInputError(
            f"SeFa layer selection {layers!r} covers no style affine of this generator",
            hint=f"W+ slots with style layers: {sorted({a.layer.w_index for a in affines})}",
        )
    return slots, picked


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Run a small dense problem on one CPU thread.

    A 512x512 eigh plus a [512 x ~6000] Gram product take ~0.1 s on one thread;
    with several OpenMP threads on a busy machine the thread barriers can make
    the same work 50x slower, which would break SeFa's "under a second".
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def factorize(
    generator: Generator, layers: Any = "all", variant: str = "genforce", order: str = "sorted"
) -> tuple[list[int], torch.Tensor, torch.Tensor, list[str]]:
    """Return ``(slots, vectors [w_dim, w_dim] rows = directions, eigenvalues, layer names)``."""
    if variant not in VARIANTS:
        raise UserInputError(f"unknown SeFa variant {variant!r}", hint=f"use one of {', '.join(VARIANTS)}")
    if order not in ("sorted", "reference"):
        raise UserInputError(f"unknown SeFa order {order!r}", hint="use sorted or reference")
    slots, picked = select_affines(generator, layers, variant)
    with _one_thread():
        return _factorize(slots, picked, variant, order)


def _factorize(
    slots: list[int], picked: list[StyleAffine], variant: str, order: str
) -> tuple[list[int], torch.Tensor, torch.Tensor, list[str]]:
    # [sum C, w_dim]: each row is one style channel's weight vector.
    rows = torch.cat([a.weight.detach().to("cpu", torch.float64) for a in picked], dim=0)
    if variant == "genforce":
        norms = rows.norm(dim=1, keepdim=True)
        if bool((norms == 0).any()):
            raise UserInputError("SeFa: a style channel has an all-zero affine weight; pick other layers")
        rows = rows / norms
    if order == "reference" and variant == "genforce":
        # Replays the reference: float32 np.linalg.eig, LAPACK order (not sorted).
        w32 = rows.T.numpy().astype(np.float32)
        values, vectors = np.linalg.eig(w32 @ w32.T)
        vals = torch.from_numpy(np.real(values).astype(np.float64))
        vecs = torch.from_numpy(np.real(vectors).T.astype(np.float64))
    else:
        gram = rows.T @ rows  # [w_dim, w_dim]
        values, vectors = torch.linalg.eigh(gram)
        perm = torch.argsort(values, descending=True)
        vals, vecs = values[perm].clamp_min(0.0), vectors[:, perm].T
    vecs = canonical_sign(vecs / vecs.norm(dim=1, keepdim=True))
    return slots, vecs, vals, [a.layer.name for a in picked]


@dataclass(frozen=True)
class SeFaOptions:
    layers: str = option("all", "W+ slots whose style affines are factorised: all, 3, 0-1, 2-5,8")
    variant: str = option("genforce", "genforce (column-normalised Gram) or rosinality", choices=VARIANTS)
    order: str = option("sorted", "sorted by eigenvalue, or reference (LAPACK order, paper indices)",
                        choices=("sorted", "reference"))  # fmt: skip
    num: int = option(0, "directions to keep (0 = all)")


class SeFaFinder(DirectionFinder):
    """Closed-form directions in W; the edit applies the same vector to the selected slots."""

    space = LatentSpace.W
    requires = frozenset({Capability.STYLE_AFFINES})
    Options = SeFaOptions

    def find(self, generator: Generator, config: Mapping[str, Any] | None = None) -> DirectionSet:
        cfg = self.merged(config)
        slots, vecs, vals, names = factorize(generator, cfg["layers"], str(cfg["variant"]), str(cfg["order"]))
        num = int(cfg["num"]) or vecs.shape[0]
        mask = torch.zeros(generator.num_ws, dtype=torch.bool)
        mask[slots] = True
        fingerprint = generator.fingerprint()
        prov_cfg = {k: (str(v) if not isinstance(v, (int, float, bool)) else v) for k, v in cfg.items()}
        directions = [
            Direction(
                vecs[k].float(),
                LatentSpace.W,
                f"sefa_{k}",
                0.0,
                mask.clone(),
                None,
                {"finder": "sefa", "index": k, "config": prov_cfg, "generator": fingerprint, "scale": "unit"},
            )
            for k in range(min(num, vecs.shape[0]))
        ]
        return DirectionSet(
            directions,
            vals[: len(directions)].clone(),
            "eigenvalue",
            {
                "finder": "sefa",
                "config": prov_cfg,
                "layers": slots,
                "affines": names,
                "generator": generator_meta(generator),
                "truncation_policy": "before_edit",
            },
        )
