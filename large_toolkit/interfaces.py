"""The three plugin interfaces: Generator, Inverter, DirectionFinder.

Plugins subclass these.  The core never imports model code; it talks to models
only through these methods, so a third-party GAN works everywhere a built-in
one does (finders, regression, GUI) once it implements them.
"""

from __future__ import annotations

import abc
import functools
import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import torch

from large_toolkit.errors import UserInputError
from large_toolkit.types import DirectionSet, Latents, LatentSpace, StyleLayer

#: The callback long work reports through: ``progress(description, done, total)``.
ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class StyleAffine:
    """The linear map from one w row to one layer's style vector: ``s = W @ w + b``.

    SeFa and StyleSpace analyses need it; ``weight`` is ``[channels, w_dim]``
    with any equalised-learning-rate gain already folded in.
    """

    layer: StyleLayer
    weight: torch.Tensor
    bias: torch.Tensor


class Capability:
    """What a generator can do beyond the base contract (llm's model flags, sklearn's tags).

    Core code asks :meth:`Generator.require` before any work that needs one, so
    a generator that lacks it gets one clear line instead of a traceback.
    """

    MAPPING = "mapping"  # a mapping network z -> W distinct from the identity
    TRUNCATION = "truncation"  # psi != 1 pulls codes toward w_avg
    WPLUS = "wplus"  # more than one synthesis input (num_ws > 1): per-layer edits, W+ inversion
    STYLESPACE = "stylespace"  # styles(ws) / synthesis_from_styles(s): S-space edits and analyses
    STYLE_AFFINES = "style_affines"  # the per-layer w -> s affine maps (SeFa)
    NOISE = "noise"  # per-pixel noise inputs (noise_mode, the projector's noise regulariser)
    CONDITIONAL = "conditional"  # a class label c (c_dim > 0)
    INPUT_TRANSFORM = "input_transform"  # set_input_transform(translate, rotate) (StyleGAN3)
    EXPORT = "export"  # save_safetensors(path): ``large-tk convert`` can write the model

    ALL = (MAPPING, TRUNCATION, WPLUS, STYLESPACE, STYLE_AFFINES, NOISE, CONDITIONAL, INPUT_TRANSFORM, EXPORT)
    STYLE = frozenset({MAPPING, TRUNCATION, WPLUS, STYLESPACE, STYLE_AFFINES, NOISE})


class CapabilityError(UserInputError):
    """A finder, inverter or command needs a capability the generator does not declare."""


class Generator(abc.ABC):
    """What every GAN has: seeded latents, a decoder, its latent spaces, a device and a fingerprint.

    The base contract is deliberately small.  A plugin sets ``z_dim``,
    ``resolution`` and ``img_channels`` and implements :meth:`decode` (codes ->
    images), ``device``, :meth:`to` and :meth:`state_tensors`.  Everything the
    core needs for finders, inversion and regression follows from one rule:
    ``W`` is the code the decoder takes, one per image, and without a mapping
    network it *is* z (``w_dim = z_dim``, ``num_ws = 1``, ``w_avg = 0``, the
    mean of the Gaussian prior).  Style-based generators subclass
    :class:`StyleGenerator` and declare the style capabilities.

    Images are float NCHW in [-1, 1] (raw output, not clamped).
    """

    z_dim: int
    c_dim: int = 0
    num_ws: int = 1
    resolution: int
    img_channels: int = 3
    style_layers: tuple[StyleLayer, ...] = ()
    capabilities: ClassVar[frozenset[str]] = frozenset()
    name: str = ""  # the registered backend name; the loader sets it

    @property
    def w_dim(self) -> int:
        """Width of a W code; defaults to ``z_dim`` (no mapping network)."""
        return int(self.__dict__.get("_w_dim", self.z_dim))

    @w_dim.setter
    def w_dim(self, value: int) -> None:
        self.__dict__["_w_dim"] = int(value)

    @property
    @abc.abstractmethod
    def device(self) -> torch.device:
        """Where the weights live."""

    @abc.abstractmethod
    def to(self, device: torch.device | str) -> Generator:
        """Move the weights; returns self."""

    @abc.abstractmethod
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """W codes ``[N, w_dim]`` -> images ``[N, C, R, R]`` in [-1, 1]."""

    @abc.abstractmethod
    def state_tensors(self) -> Mapping[str, torch.Tensor]:
        """All weights and buffers by name; the fingerprint hashes them."""

    # -- capabilities ----------------------------------------------------------------------

    def has(self, capability: str) -> bool:
        """Whether this generator declares ``capability`` (see :class:`Capability`)."""
        return capability in self.capabilities

    def require(self, capability: str, what: str) -> None:
        """Refuse ``what`` with one line when ``capability`` is not declared."""
        if not self.has(capability):
            label = self.name or type(self).__name__
            raise CapabilityError(
                f"{what} needs a generator with {capability!r}; {label} has "
                f"{', '.join(sorted(self.capabilities)) or 'only the base contract'}",
                hint="pick a generator that declares it (e.g. a style-based one) or another method",
            )

    def latent_spaces(self) -> dict[LatentSpace, tuple[int, ...]]:
        """The spaces this generator's codes live in and the shape of one code.

        Subclasses that add a space (a class embedding, ...) extend this dict
        with ``LatentSpace("name")`` keys.
        """
        spaces: dict[LatentSpace, tuple[int, ...]] = {LatentSpace.Z: (self.z_dim,), LatentSpace.W: (self.w_dim,)}
        if self.has(Capability.WPLUS):
            spaces[LatentSpace.WPLUS] = (self.num_ws, self.w_dim)
        if self.has(Capability.STYLESPACE):
            spaces[LatentSpace.S] = (self.style_dim,)
        return spaces

    # -- the W view every generator has (overridden by style-based generators) -----------

    @property
    def w_avg(self) -> torch.Tensor:
        """The truncation centre: 0, the mean of the Gaussian prior, when there is no mapping."""
        return torch.zeros(self.w_dim, device=self.device)

    def mapping(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        psi: float = 1.0,
        trunc_cutoff: int | None = None,
    ) -> torch.Tensor:
        """z ``[N, z_dim]`` -> ws ``[N, num_ws, w_dim]``; the identity without a mapping network."""
        if psi != 1.0:
            self.require(Capability.TRUNCATION, f"truncation (psi {psi})")
            z = self.w_avg.to(z).lerp(z, psi)
        return z.to(self.device, torch.float32).unsqueeze(1)

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        """ws ``[N, num_ws, w_dim]`` -> images; without W+ the single slot is decoded."""
        if ws.ndim == 3:
            if ws.shape[1] != 1:
                self.require(Capability.WPLUS, f"a W+ code with {ws.shape[1]} layers")
            ws = ws[:, 0]
        return self.decode(ws)

    def styles(self, ws: torch.Tensor) -> torch.Tensor:
        """ws -> flat S; only StyleSpace generators have one."""
        self.require(Capability.STYLESPACE, "StyleSpace (S latents)")
        raise AssertionError("unreachable")

    def synthesis_from_styles(self, styles: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        """Flat S -> images; only StyleSpace generators have one."""
        self.require(Capability.STYLESPACE, "StyleSpace (S latents)")
        raise AssertionError("unreachable")

    def style_affines(self) -> list[StyleAffine]:
        """The per-layer affine maps w -> s; only style-based generators have them."""
        self.require(Capability.STYLE_AFFINES, "the style affines (w -> s maps)")
        raise AssertionError("unreachable")

    def set_input_transform(self, translate: tuple[float, float] = (0.0, 0.0), rotate: float = 0.0) -> None:
        """Shift/rotate the synthesis input (StyleGAN3's ``gen_images.py`` convention)."""
        self.require(Capability.INPUT_TRANSFORM, "--translate/--rotate (an input transform)")

    def save_safetensors(self, path: str | os.PathLike[str]) -> Any:
        """Write the weights as safetensors with enough metadata to load them again."""
        self.require(Capability.EXPORT, "writing safetensors (large-tk convert)")

    # -- provided -------------------------------------------------------------------------

    def fingerprint(self) -> str:
        """A short hash of the architecture and every weight: ties artifacts to a model."""
        cached = getattr(self, "_fingerprint_cache", None)
        if cached is not None:
            return cached
        digest = hashlib.sha256()
        digest.update(f"{self.z_dim},{self.w_dim},{self.c_dim},{self.num_ws},{self.resolution}".encode())
        for name, tensor in sorted(self.state_tensors().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
        value = digest.hexdigest()[:16]
        self._fingerprint_cache = value
        return value

    def describe(self) -> dict[str, Any]:
        """Architecture summary for ``--json`` output and artifact metadata."""
        return {
            "z_dim": self.z_dim,
            "w_dim": self.w_dim,
            "c_dim": self.c_dim,
            "num_ws": self.num_ws,
            "resolution": self.resolution,
            "img_channels": self.img_channels,
            "style_layers": [layer.to_dict() for layer in self.style_layers],
            "capabilities": sorted(self.capabilities),
            "latent_spaces": {space.value: list(shape) for space, shape in self.latent_spaces().items()},
            "fingerprint": self.fingerprint(),
        }

    @property
    def style_dim(self) -> int:
        return sum(layer.channels for layer in self.style_layers)

    def sample_z(self, n: int, seed: int) -> torch.Tensor:
        """``n`` z vectors from a seeded torch generator, on this generator's device."""
        gen = torch.Generator(device="cpu").manual_seed(int(seed))
        return torch.randn(n, self.z_dim, generator=gen).to(self.device)

    def sample_latents(self, n: int, seed: int, psi: float = 1.0) -> Latents:
        """``n`` seeded W codes (``mapping(z)``, truncated by ``psi``): what every command starts from."""
        z = self.sample_z(n, seed)
        c = torch.zeros(n, self.c_dim, device=z.device) if self.c_dim else None
        return Latents(self.mapping(z, c, psi=psi)[:, 0], LatentSpace.W)


def _must_override(method: Callable[..., Any]) -> Any:
    """An abstract copy of a base method: same signature and docstring, but subclasses must implement it."""

    @functools.wraps(method)
    def abstract(*args: Any, **kwargs: Any) -> Any:
        return method(*args, **kwargs)

    return abc.abstractmethod(abstract)


class StyleGenerator(Generator):
    """A style-based generator: z -> W (mapping) -> W+ -> S -> image (synthesis).

    Subclasses set ``w_dim``, ``num_ws`` and ``style_layers`` too, and
    implement the style members; ``decode`` tiles a W code over the ``num_ws``
    synthesis inputs.
    """

    capabilities: ClassVar[frozenset[str]] = Capability.STYLE

    @property
    @abc.abstractmethod
    def w_avg(self) -> torch.Tensor:
        """The tracked mean of W, ``[w_dim]`` (the truncation centre)."""

    # The base class's signatures and docstrings, now required: a style generator has its own.
    mapping = _must_override(Generator.mapping)
    synthesis = _must_override(Generator.synthesis)
    styles = _must_override(Generator.styles)
    synthesis_from_styles = _must_override(Generator.synthesis_from_styles)
    style_affines = _must_override(Generator.style_affines)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        return self.synthesis(codes.unsqueeze(1).repeat(1, self.num_ws, 1))


P = TypeVar("P", bound="ParamsDict")


class ParamsDict:
    """Mixin for a generator that keeps every weight and buffer in one ``params`` dict of tensors.

    It writes the base contract's bookkeeping for that layout once -- ``device`` (where the tensors
    are), ``to`` and ``state_tensors`` -- so a generator is left with its maths.  List it before the
    interface: ``class MyGenerator(ParamsDict, Generator)``.
    """

    params: dict[str, torch.Tensor]

    @property
    def device(self) -> torch.device:
        return next(iter(self.params.values())).device

    def to(self: P, device: torch.device | str) -> P:
        self.params = {k: v.to(device) for k, v in self.params.items()}
        return self

    def state_tensors(self) -> Mapping[str, torch.Tensor]:
        return dict(self.params)


@dataclass
class InversionResult:
    """What an inverter returns: the codes plus a per-image final loss when it has one."""

    latents: Latents
    losses: torch.Tensor | None = None
    info: dict[str, Any] = field(default_factory=dict)


class Inverter(abc.ABC):
    """Maps images (float NCHW in [-1, 1]) to latent codes of a generator."""

    output_spaces: ClassVar[tuple[LatentSpace, ...]] = (LatentSpace.WPLUS,)
    requires: ClassVar[frozenset[str]] = frozenset()  # generator capabilities, checked before inverting

    @abc.abstractmethod
    def invert(
        self, images: torch.Tensor, generator: Generator, space: LatentSpace = LatentSpace.WPLUS
    ) -> InversionResult:
        """Invert a batch; ``space`` must be one of ``output_spaces``."""

    def fingerprint(self) -> str:
        """Identifies weights + settings, so cached latents are keyed correctly."""
        return type(self).__name__


class DirectionFinder(abc.ABC):
    """Finds semantic directions for a generator.

    ``space``: the space its directions live in.  ``requires``: the generator
    capabilities it needs (SeFa: the style affines); the core checks them
    before :meth:`find` runs, so a generator without them gets one clear line.
    ``execution_options``: option names that only say where the work runs
    (engine, workers) -- they do not change the result, so they are not part
    of the cache key.
    """

    space: ClassVar[LatentSpace] = LatentSpace.W
    requires: ClassVar[frozenset[str]] = frozenset()
    Options: ClassVar[type | None] = None  # a dataclass of large_toolkit.options.option fields
    execution_options: ClassVar[frozenset[str] | tuple[str, ...]] = frozenset()
    progress: ProgressFn | None = None  # set by the caller to hear about long work

    def where_options(self) -> set[str]:
        """Options that only say where the work runs (declared ``execution=True`` or listed)."""
        from large_toolkit.options import execution_names

        return set(self.execution_options) | execution_names(self.Options)

    def check_generator(self, generator: Generator, name: str = "") -> None:
        """Refuse a generator that lacks a capability this finder declares in ``requires``."""
        for capability in sorted(self.requires):
            generator.require(capability, f"the {name or type(self).__name__} finder")

    @abc.abstractmethod
    def find(self, generator: Generator, config: Mapping[str, Any] | None = None) -> DirectionSet:
        """Compute the direction set; ``config`` holds finder options (seed, layers, ...)."""

    def default_config(self) -> dict[str, Any]:
        """Options and their defaults (from ``Options`` when declared), shown by ``directions options``."""
        if self.Options is None:
            return {}
        from large_toolkit.options import describe

        return {o.name: o.default for o in describe(self.Options)}

    def merged(self, config: Mapping[str, Any] | None, defaults: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Defaults (``default_config()`` unless given) overlaid with the caller's config, typed by ``Options``.

        Unknown keys are refused in one line.
        """
        if self.Options is not None:
            from large_toolkit.options import parse_options

            return parse_options(self.Options, config, f"finder {type(self).__name__}")
        config = dict(config or {})
        defaults = self.default_config() if defaults is None else defaults
        unknown = sorted(set(config) - set(defaults))
        if unknown:
            raise UserInputError(f"unknown finder option(s) {unknown}", hint=f"known: {sorted(defaults)}")
        return {**defaults, **config}


def layer_indices(spec: str | Sequence[int] | None, count: int) -> list[int]:
    """Parse a layer selection (``all``, ``3``, ``0-1``, ``2-5,8``) into indices below ``count``."""
    from large_toolkit.errors import UserInputError

    if spec is None or (isinstance(spec, str) and spec.strip().lower() in ("", "all")):
        return list(range(count))
    if not isinstance(spec, str):
        picked = [int(i) for i in spec]
    else:
        picked = []
        for part in spec.split(","):
            part = part.strip()
            try:
                if "-" in part:
                    lo, hi = (int(x) for x in part.split("-", 1))
                    picked.extend(range(lo, hi + 1))
                else:
                    picked.append(int(part))
            except ValueError:
                raise UserInputError(
                    f"bad layer selection {spec!r}",
                    hint="use 'all', an index like 3, a range like 2-5, or a list 0-1,4",
                ) from None
    bad = [i for i in picked if not 0 <= i < count]
    if bad or not picked:
        raise UserInputError(f"layer selection {spec!r} is out of range", hint=f"valid layers are 0-{count - 1}")
    return sorted(dict.fromkeys(picked))
