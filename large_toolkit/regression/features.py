"""Distance features: the signed projection of latent codes onto a semantic direction.

LARGE's whole method rests on one number per image (or one per layer): the
distance of its latent code from the direction's hyperplane.  The released code
defines it as a plain dot product plus the hyperplane offset,
``d = code . n + intercept``, with **no normalisation of n** (InterFaceGAN and
SeFa vectors are unit length; CLIP boundaries are not, and their scale is kept
on purpose).  We follow that definition exactly.

Layouts (``per_layer`` distance, the released default):

* W latents + W direction: one distance ``[N, 1]``.
* W+ latents + W direction: the direction is tiled, ``d_l = w_l . n`` ``[N, num_ws]``.
* W+ latents + W+ direction: ``d_l = w_l . n_l``; W latents + W+ direction tile the code.
* S latents + S direction: one distance per style layer ``[N, len(style_layers)]``.
* W/W+ latents + S direction: converted to S through a generator's affines.

``euclidean`` is one dot product over the flattened code (with a tiled W
direction it equals ``num_ws`` times the mean per-layer distance).  The
intercept is added to every per-layer distance and once to the euclidean one.

:func:`combine` reduces per-layer distances to the features a regressor sees:
``multi`` keeps every selected layer (the released train script without
weights), ``weighted`` is ``d @ lambda`` (optionally normalised to sum 1),
``mean`` averages (the released ``sort.py`` without weights).  Everything is
vectorised over N; results are float64 numpy arrays because the regression
code downstream (scikit-learn, closed-form fits) is numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from large_toolkit.errors import UserInputError
from large_toolkit.interfaces import layer_indices
from large_toolkit.types import Direction, Latents, LatentSpace, StyleLayer, style_offsets

if TYPE_CHECKING:
    from large_toolkit.interfaces import Generator

DISTANCE_TYPES = ("per_layer", "euclidean")
COMBINE_MODES = ("auto", "multi", "weighted", "mean", "sum")


@dataclass(frozen=True)
class FeatureSpec:
    """How latents become regression features (the released script's distance flags).

    ``distance``: ``per_layer`` or ``euclidean``.  ``layers``: a layer selection
    (``"all"``, ``"3"``, ``"2-5,8"`` or indices; the released ``--fit_layers``).
    ``layer_weights``: one weight per layer of the *full* layout (the released
    ``layer_weights.npy``); only the selected layers are used.
    ``normalize_weights``: rescale the selected weights to sum 1.
    ``combine``: ``auto`` = ``weighted`` with weights, else the single layer when
    only one is selected, else ``mean``; ``multi`` reproduces the released
    train script's multivariate default.
    ``use_intercept``: add the direction's hyperplane offset.
    """

    distance: str = "per_layer"
    layers: str | Sequence[int] | None = None
    layer_weights: Sequence[float] | None = None
    normalize_weights: bool = False
    combine: str = "auto"
    use_intercept: bool = True

    def __post_init__(self) -> None:
        if self.distance not in DISTANCE_TYPES:
            raise UserInputError(f"unknown distance type {self.distance!r}", hint=f"use one of {DISTANCE_TYPES}")
        if self.combine not in COMBINE_MODES:
            raise UserInputError(f"unknown combine mode {self.combine!r}", hint=f"use one of {COMBINE_MODES}")
        if self.combine == "weighted" and self.layer_weights is None:
            raise UserInputError("combine='weighted' needs layer weights", hint="pass --layer-weights FILE")


def _as_f64(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to("cpu", torch.float64)


def _check_same_layout(a: tuple[StyleLayer, ...] | None, b: tuple[StyleLayer, ...] | None) -> None:
    if a is None or b is None:
        return
    if [(x.channels, x.w_index) for x in a] != [(x.channels, x.w_index) for x in b]:
        raise UserInputError(
            "the S latents and the S direction have different style-layer layouts",
            hint="use latents and directions made with the same generator",
        )


def _per_layer_wplus(codes: torch.Tensor, vec: torch.Tensor) -> torch.Tensor:
    """``[N, L, D]`` codes and ``[D]`` or ``[L, D]`` vector -> ``[N, L]`` dot products."""
    if codes.shape[-1] != vec.shape[-1]:
        raise UserInputError(
            f"latents have dimension {codes.shape[-1]} but the direction has {vec.shape[-1]}",
            hint="use a direction found for the same generator",
        )
    if vec.ndim == 1:
        return codes @ vec
    if vec.shape[0] != codes.shape[1]:
        raise UserInputError(
            f"W+ direction has {vec.shape[0]} layers but the latents have {codes.shape[1]}",
            hint="use a direction for a generator with the same number of W+ layers",
        )
    return torch.einsum("nld,ld->nl", codes, vec)


def layer_distances(latents: Latents, direction: Direction, generator: Generator | None = None) -> np.ndarray:
    """Per-layer signed distances ``[N, L]`` without the intercept (see the module docstring)."""
    lat_space, dir_space = latents.space, direction.space
    vec = _as_f64(direction.vector)
    if dir_space is LatentSpace.S:
        if lat_space is not LatentSpace.S:
            if generator is None:
                raise UserInputError(
                    f"an S direction needs S latents, got {lat_space.value}",
                    hint="convert the latents with a generator (--backend) or use a W/W+ direction",
                )
            latents = latents.to_styles(generator)
        _check_same_layout(latents.style_layers, direction.style_layers)
        codes = _as_f64(latents.tensor)
        if codes.shape[1] != vec.shape[0]:
            raise UserInputError(f"S latents have {codes.shape[1]} channels, the S direction has {vec.shape[0]}")
        layers = direction.style_layers or latents.style_layers or ()
        prod = codes * vec
        return np.stack([prod[:, a:b].sum(1).numpy() for a, b in style_offsets(layers)], axis=1)
    if lat_space is LatentSpace.S:
        raise UserInputError(
            f"a {dir_space.value} direction cannot measure S latents",
            hint="use W/W+ latents, or an S direction",
        )
    if lat_space is LatentSpace.Z:
        raise UserInputError("Z latents have no semantic distances", hint="map them to W first")
    codes = _as_f64(latents.tensor)
    if lat_space is LatentSpace.W and dir_space is LatentSpace.W:
        if codes.shape[1] != vec.shape[0]:
            raise UserInputError(
                f"latents have dimension {codes.shape[1]} but the direction has {vec.shape[0]}",
                hint="use a direction found for the same generator",
            )
        return (codes @ vec).unsqueeze(1).numpy()
    if lat_space is LatentSpace.W:  # W code against a per-layer W+ direction: tile the code
        codes = codes.unsqueeze(1).expand(-1, vec.shape[0], -1)
    return _per_layer_wplus(codes, vec).numpy()


def layer_names(latents: Latents, direction: Direction) -> list[str]:
    """Human names for the columns of :func:`layer_distances` (for tables and plots)."""
    if direction.space is LatentSpace.S:
        layers = direction.style_layers or latents.style_layers or ()
        return [layer.name for layer in layers]
    if latents.space is LatentSpace.W and direction.space is LatentSpace.W:
        return ["w"]
    count = latents.tensor.shape[1] if latents.space is LatentSpace.WPLUS else direction.vector.shape[0]
    return [f"w{i}" for i in range(count)]


def selected_layers(spec: FeatureSpec, direction: Direction, count: int) -> list[int]:
    """The layer subset: ``spec.layers`` if given, else the direction's layer mask, else all."""
    if spec.layers is not None:
        return layer_indices(spec.layers, count)
    mask = direction.layer_mask
    if mask is not None and mask.numel() == count:
        picked = [i for i, keep in enumerate(mask.tolist()) if keep]
        if picked:
            return picked
    return list(range(count))


def combine(per_layer: np.ndarray, spec: FeatureSpec, layers: Sequence[int]) -> np.ndarray:
    """Reduce ``[N, L]`` per-layer distances to ``[N, k]`` features (k = 1 unless ``multi``)."""
    d = np.asarray(per_layer, dtype=np.float64)[:, list(layers)]
    mode = spec.combine
    if mode == "auto":
        mode = "weighted" if spec.layer_weights is not None else ("multi" if d.shape[1] == 1 else "mean")
    if mode == "multi":
        return d
    if mode == "mean":
        return d.mean(axis=1, keepdims=True)
    if mode == "sum":
        return d.sum(axis=1, keepdims=True)
    weights = np.asarray(spec.layer_weights, dtype=np.float64).reshape(-1)
    if weights.shape[0] != per_layer.shape[1]:
        raise UserInputError(
            f"{weights.shape[0]} layer weights for {per_layer.shape[1]} layers",
            hint="give one weight per layer of the latent layout",
        )
    if not np.isfinite(weights).all():
        raise UserInputError("layer weights contain NaN or inf")
    w = weights[list(layers)]
    if spec.normalize_weights:
        total = w.sum()
        if total == 0:
            raise UserInputError("the selected layer weights sum to 0 and cannot be normalised")
        w = w / total
    return (d @ w)[:, None]


def distance_features(
    latents: Latents,
    direction: Direction,
    spec: FeatureSpec | None = None,
    generator: Generator | None = None,
) -> np.ndarray:
    """Features ``[N, k]`` for regression, sorting and ordinal decisions (see :class:`FeatureSpec`)."""
    spec = spec or FeatureSpec()
    intercept = float(direction.intercept) if spec.use_intercept else 0.0
    if spec.distance == "euclidean":
        if direction.space is LatentSpace.S or latents.space is LatentSpace.S:
            per = layer_distances(latents, direction, generator)
            return per.sum(axis=1, keepdims=True) + intercept
        if latents.space is LatentSpace.W and direction.space is LatentSpace.W:
            return layer_distances(latents, direction) + intercept
        per = layer_distances(latents, direction)
        count = per.shape[1]
        if spec.layers is not None or direction.layer_mask is not None:
            per = per[:, selected_layers(spec, direction, count)]
        # one dot product over the flattened code == the sum of the per-layer dot products
        return per.sum(axis=1, keepdims=True) + intercept
    per = layer_distances(latents, direction, generator) + intercept
    layers = selected_layers(spec, direction, per.shape[1])
    return combine(per, spec, layers)


def scalar_distance(
    latents: Latents, direction: Direction, spec: FeatureSpec | None = None, generator: Generator | None = None
) -> np.ndarray:
    """One distance per image ``[N]`` (sorting, ordinal classes); refuses ``combine='multi'`` with >1 layer."""
    feats = distance_features(latents, direction, spec, generator)
    if feats.shape[1] != 1:
        raise UserInputError(
            f"this task needs one distance per image, the feature spec gives {feats.shape[1]}",
            hint="use --combine mean or weighted, or select one layer",
        )
    return feats[:, 0]
