"""Core nouns: latent spaces, latent codes, directions.

These are plain containers with validation.  They hold torch tensors but no
model code, so every plugin (generator, inverter, finder) and every analysis
speaks the same language.  Shapes are checked on construction so that a wrong
tensor fails where it is made, with the expected and the received shape named.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from large_toolkit.errors import ShapeError, UserInputError

if TYPE_CHECKING:
    from large_toolkit.interfaces import Generator


class LatentSpace(str):
    """A named latent space; an open set, not a closed enum.

    The well-known spaces are ``Z`` (the input noise), ``W`` (one code per
    image: the code the decoder takes -- ``mapping(z)`` for a style-based
    generator, ``z`` itself for a generator without a mapping network),
    ``WPLUS`` (one code per synthesis input, ``num_ws`` of them) and ``S`` (the
    concatenated outputs of the per-layer style affines, StyleSpace).  A plugin
    declares any other space by name: ``LatentSpace("class_embedding")``.
    Instances are interned, so ``space is LatentSpace.W`` works.
    """

    _registry: ClassVar[dict[str, LatentSpace]] = {}
    _aliases: ClassVar[dict[str, str]] = {"w+": "wplus"}
    Z: ClassVar[LatentSpace]
    W: ClassVar[LatentSpace]
    WPLUS: ClassVar[LatentSpace]
    S: ClassVar[LatentSpace]

    def __new__(cls, name: str) -> LatentSpace:
        key = cls._aliases.get(str(name).strip().lower(), str(name).strip().lower())
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise UserInputError(
                f"bad latent space name {name!r}", hint="use lower-case letters, digits and _, e.g. z, w, wplus, s"
            )
        found = cls._registry.get(key)
        if found is None:
            found = super().__new__(cls, key)
            cls._registry[key] = found
        return found

    @property
    def value(self) -> str:
        """The space's name (``w``, ``wplus``...), as the enum this class replaced exposed it."""
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"LatentSpace({self.value!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (LatentSpace, (self.value,))

    @classmethod
    def known(cls) -> list[LatentSpace]:
        """Every space named so far (the well-known ones first)."""
        return list(cls._registry.values())

    @classmethod
    def parse(cls, text: str | LatentSpace) -> LatentSpace:
        """Accept ``w``, ``w+``, ``wplus``, ``s``, ``z`` in any case (and any declared plugin space)."""
        if isinstance(text, LatentSpace):
            return text
        key = cls._aliases.get(str(text).strip().lower(), str(text).strip().lower())
        if key not in cls._registry:
            names = ", ".join(s.value for s in cls.known())
            raise UserInputError(f"unknown latent space {text!r}", hint=f"use one of {names} (w+ = wplus)")
        return cls._registry[key]


LatentSpace.Z = LatentSpace("z")
LatentSpace.W = LatentSpace("w")
LatentSpace.WPLUS = LatentSpace("wplus")
LatentSpace.S = LatentSpace("s")


@dataclass(frozen=True)
class StyleLayer:
    """One style input of the synthesis network.

    ``w_index`` says which row of a W+ code feeds this layer's affine, and
    ``kind`` is ``conv``, ``torgb`` or ``input`` (StyleGAN3's geometry layer).
    """

    name: str
    channels: int
    w_index: int
    kind: str = "conv"

    @property
    def modulates_features(self) -> bool:
        """Whether the style scales feature channels (``conv``/``torgb``), not a geometry input."""
        return self.kind != "input"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "channels": self.channels, "w_index": self.w_index, "kind": self.kind}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StyleLayer:
        return cls(str(data["name"]), int(data["channels"]), int(data["w_index"]), str(data.get("kind", "conv")))


def style_offsets(layers: Sequence[StyleLayer]) -> list[tuple[int, int]]:
    """Start and end column of every layer in a flat S vector (layers in order)."""
    spans, start = [], 0
    for layer in layers:
        spans.append((start, start + layer.channels))
        start += layer.channels
    return spans


def _expect_shape(what: str, tensor: torch.Tensor, expected: str, ok: bool) -> None:
    if not ok:
        raise ShapeError(f"{what}: expected shape {expected}, got {list(tensor.shape)}")


@dataclass
class Latents:
    """Latent codes of N images in one space.

    ``W``: ``[N, w_dim]``; ``WPLUS``: ``[N, num_ws, w_dim]``; ``S``: a flat
    ``[N, sum(channels)]`` tensor whose column layout is ``style_layers``;
    ``Z``: ``[N, z_dim]``.  Conversions are explicit: :meth:`to_wplus` tiles a
    W code, :meth:`to_styles` runs the generator's affines.
    """

    tensor: torch.Tensor
    space: LatentSpace
    style_layers: tuple[StyleLayer, ...] | None = None

    def __post_init__(self) -> None:
        self.space = LatentSpace.parse(self.space)
        t = self.tensor
        if not isinstance(t, torch.Tensor):
            raise ShapeError(f"latents must be a torch.Tensor, got {type(t).__name__}")
        if self.space in (LatentSpace.W, LatentSpace.Z):
            _expect_shape(f"{self.space.value} latents", t, "[N, dim]", t.ndim == 2)
        elif self.space is LatentSpace.WPLUS:
            _expect_shape("W+ latents", t, "[N, num_ws, w_dim]", t.ndim == 3)
        else:
            _expect_shape("S latents", t, "[N, total_style_channels]", t.ndim == 2)
            if self.style_layers is None:
                raise ShapeError("S latents need their style layer layout (style_layers)")
            self.style_layers = tuple(self.style_layers)
            total = sum(layer.channels for layer in self.style_layers)
            _expect_shape("S latents", t, f"[N, {total}]", t.shape[1] == total)

    def __len__(self) -> int:
        return int(self.tensor.shape[0])

    @property
    def num(self) -> int:
        return len(self)

    def __getitem__(self, index: Any) -> Latents:
        sub = self.tensor[index]
        if sub.ndim == self.tensor.ndim - 1:
            sub = sub.unsqueeze(0)
        return Latents(sub, self.space, self.style_layers)

    def to(self, device: torch.device | str) -> Latents:
        return Latents(self.tensor.to(device), self.space, self.style_layers)

    def to_wplus(self, num_ws: int) -> Latents:
        """W -> W+ by tiling the one code over ``num_ws`` layers; W+ is returned as is."""
        if self.space is LatentSpace.WPLUS:
            if self.tensor.shape[1] != num_ws:
                raise ShapeError(f"W+ latents: expected {num_ws} layers, got {self.tensor.shape[1]}")
            return self
        if self.space is not LatentSpace.W:
            raise UserInputError(f"cannot tile {self.space.value} latents into W+", hint="start from W latents")
        return Latents(self.tensor.unsqueeze(1).repeat(1, num_ws, 1), LatentSpace.WPLUS)

    def to_styles(self, generator: Generator) -> Latents:
        """W or W+ -> S through the generator's style affines."""
        if self.space is LatentSpace.S:
            return self
        ws = self.to_wplus(generator.num_ws).tensor
        styles = generator.styles(ws)
        return Latents(styles, LatentSpace.S, generator.style_layers)

    def split_styles(self) -> dict[str, torch.Tensor]:
        """S latents as ``{layer name: [N, channels]}`` views."""
        if self.space is not LatentSpace.S or self.style_layers is None:
            raise UserInputError("split_styles needs S latents")
        return {
            layer.name: self.tensor[:, a:b]
            for layer, (a, b) in zip(self.style_layers, style_offsets(self.style_layers), strict=True)
        }

    def flatten(self) -> torch.Tensor:
        """``[N, D]`` view, whatever the space."""
        return self.tensor.reshape(self.tensor.shape[0], -1)


@dataclass
class Direction:
    """A semantic direction in one latent space.

    ``vector`` is ``[w_dim]`` for a W direction (usable on W+ codes by tiling),
    ``[num_ws, w_dim]`` for a per-layer W+ direction, ``[total_channels]`` for
    an S direction.  ``intercept`` is the hyperplane offset (InterFaceGAN
    boundaries have one), ``layer_mask`` restricts which layers an edit or a
    distance uses, and ``provenance`` records finder, config and generator
    fingerprint so that a direction is never silently used with another model.
    """

    vector: torch.Tensor
    space: LatentSpace
    name: str = ""
    intercept: float = 0.0
    layer_mask: torch.Tensor | None = None
    style_layers: tuple[StyleLayer, ...] | None = None
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.space = LatentSpace.parse(self.space)
        v = self.vector
        if not isinstance(v, torch.Tensor):
            raise ShapeError(f"direction vector must be a torch.Tensor, got {type(v).__name__}")
        if self.space is LatentSpace.WPLUS:
            _expect_shape("W+ direction", v, "[num_ws, w_dim]", v.ndim == 2)
        else:
            _expect_shape(f"{self.space.value} direction", v, "[dim]", v.ndim == 1)
        if self.space is LatentSpace.S:
            if self.style_layers is None:
                raise ShapeError("an S direction needs its style layer layout (style_layers)")
            self.style_layers = tuple(self.style_layers)
            total = sum(layer.channels for layer in self.style_layers)
            _expect_shape("S direction", v, f"[{total}]", v.shape[0] == total)
        if not torch.isfinite(v).all():
            raise UserInputError(f"direction {self.name or '(unnamed)'} contains NaN or inf")
        if self.layer_mask is not None:
            self.layer_mask = self.layer_mask.to(torch.bool)

    @property
    def dim(self) -> int:
        return int(self.vector.shape[-1])

    def unit(self) -> Direction:
        """The same direction scaled to unit norm; the intercept is scaled with it."""
        norm = float(self.vector.norm())
        if norm == 0.0:
            raise UserInputError(f"direction {self.name or '(unnamed)'} has zero length")
        return Direction(
            self.vector / norm,
            self.space,
            self.name,
            self.intercept / norm,
            self.layer_mask,
            self.style_layers,
            dict(self.provenance),
        )


@dataclass
class DirectionSet:
    """Ordered directions with one score each (eigenvalue, variance, accuracy)."""

    directions: list[Direction]
    scores: torch.Tensor | None = None
    score_name: str = "score"
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.scores is not None and len(self.scores) != len(self.directions):
            raise ShapeError(f"direction scores: expected {len(self.directions)} values, got {len(self.scores)}")

    def __len__(self) -> int:
        return len(self.directions)

    def __iter__(self) -> Iterator[Direction]:
        return iter(self.directions)

    def __getitem__(self, key: int | str) -> Direction:
        if isinstance(key, int):
            if not -len(self) <= key < len(self):
                raise UserInputError(
                    f"direction index {key} is out of range",
                    hint=f"this set has {len(self)} directions (0-{len(self) - 1})",
                )
            return self.directions[key]
        for direction in self.directions:
            if direction.name == key:
                return direction
        names = ", ".join(d.name for d in self.directions[:10])
        raise UserInputError(f"no direction named {key!r}", hint=f"known names: {names}")
