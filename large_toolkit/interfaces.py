"""The three plugin interfaces: Generator, Inverter, DirectionFinder.

Plugins subclass these.  The core never imports model code; it talks to models
only through these methods, so a third-party GAN works everywhere a built-in
one does (finders, regression, GUI) once it implements them.
"""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from large_toolkit.types import DirectionSet, Latents, LatentSpace, StyleLayer


@dataclass(frozen=True)
class StyleAffine:
    """The linear map from one w row to one layer's style vector: ``s = W @ w + b``.

    SeFa and StyleSpace analyses need it; ``weight`` is ``[channels, w_dim]``
    with any equalised-learning-rate gain already folded in.
    """

    layer: StyleLayer
    weight: torch.Tensor
    bias: torch.Tensor


class Generator(abc.ABC):
    """A style-based generator: z -> W (mapping) -> W+ -> S -> image (synthesis).

    Images are float NCHW in [-1, 1] (raw output, not clamped).  Subclasses set
    the attributes in ``__init__`` and implement the abstract methods.
    """

    z_dim: int
    w_dim: int
    c_dim: int = 0
    num_ws: int
    resolution: int
    img_channels: int = 3
    style_layers: tuple[StyleLayer, ...]

    @property
    @abc.abstractmethod
    def w_avg(self) -> torch.Tensor:
        """The tracked mean of W, ``[w_dim]`` (the truncation centre)."""

    @property
    @abc.abstractmethod
    def device(self) -> torch.device:
        """Where the weights live."""

    @abc.abstractmethod
    def to(self, device: torch.device | str) -> Generator:
        """Move the weights; returns self."""

    @abc.abstractmethod
    def mapping(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        psi: float = 1.0,
        trunc_cutoff: int | None = None,
    ) -> torch.Tensor:
        """z ``[N, z_dim]`` -> ws ``[N, num_ws, w_dim]`` with truncation toward ``w_avg``."""

    @abc.abstractmethod
    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        """ws ``[N, num_ws, w_dim]`` -> images ``[N, C, R, R]``."""

    @abc.abstractmethod
    def styles(self, ws: torch.Tensor) -> torch.Tensor:
        """ws ``[N, num_ws, w_dim]`` -> flat S ``[N, sum(channels)]`` in ``style_layers`` order."""

    @abc.abstractmethod
    def synthesis_from_styles(self, styles: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        """Flat S ``[N, sum(channels)]`` -> images."""

    @abc.abstractmethod
    def style_affines(self) -> list[StyleAffine]:
        """The per-layer affine maps w -> s, in ``style_layers`` order (SeFa uses them)."""

    @abc.abstractmethod
    def state_tensors(self) -> Mapping[str, torch.Tensor]:
        """All weights and buffers by name; the fingerprint hashes them."""

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
            "fingerprint": self.fingerprint(),
        }

    @property
    def style_dim(self) -> int:
        return sum(layer.channels for layer in self.style_layers)

    def sample_z(self, n: int, seed: int) -> torch.Tensor:
        """``n`` z vectors from a seeded torch generator, on this generator's device."""
        gen = torch.Generator(device="cpu").manual_seed(int(seed))
        return torch.randn(n, self.z_dim, generator=gen).to(self.device)


@dataclass
class InversionResult:
    """What an inverter returns: the codes plus a per-image final loss when it has one."""

    latents: Latents
    losses: torch.Tensor | None = None
    info: dict[str, Any] = field(default_factory=dict)


class Inverter(abc.ABC):
    """Maps images (float NCHW in [-1, 1]) to latent codes of a generator."""

    output_spaces: ClassVar[tuple[LatentSpace, ...]] = (LatentSpace.WPLUS,)

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

    ``needs_labels``: the finder needs labelled latents (InterFaceGAN).
    ``needs_training``: it trains a network (Voynov-Babenko).
    ``space``: the space its directions live in.
    """

    needs_labels: ClassVar[bool] = False
    needs_training: ClassVar[bool] = False
    space: ClassVar[LatentSpace] = LatentSpace.W

    @abc.abstractmethod
    def find(self, generator: Generator, config: Mapping[str, Any] | None = None) -> DirectionSet:
        """Compute the direction set; ``config`` holds finder options (seed, layers, ...)."""

    def default_config(self) -> dict[str, Any]:
        """Options and their defaults, shown by ``large-tk directions find --help``."""
        return {}

    @staticmethod
    def merged(config: Mapping[str, Any] | None, defaults: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with the caller's config; unknown keys are refused."""
        from large_toolkit.errors import UserInputError

        config = dict(config or {})
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
