"""Helpers for testing large-tk and its plugins without a real checkpoint.

:func:`check_generator`, :func:`check_finder` and :func:`check_inverter` are the
conformance checks a plugin author runs in their own tests (as scikit-learn's
``check_estimator``); the built-in plugins and the examples pass them.

:class:`ToyGenerator` is a small, seeded, fully functional style-based
generator (mapping MLP, per-layer style affines, modulated convolutions) that
implements the :class:`~large_toolkit.interfaces.Generator` interface.  It
lets finders, inverters, analyses and the GUI be tested on any machine in
milliseconds; it is not a StyleGAN and makes no claim to match one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F

from large_toolkit.interfaces import (
    DirectionFinder,
    Generator,
    InversionResult,
    Inverter,
    ParamsDict,
    StyleAffine,
    StyleGenerator,
)
from large_toolkit.types import DirectionSet, StyleLayer, style_offsets


class ToyGenerator(ParamsDict, StyleGenerator):
    """A seeded toy generator: z -> W (2-layer MLP) -> per-layer styles -> modulated convs -> RGB."""

    def __init__(
        self, z_dim: int = 16, w_dim: int = 16, num_ws: int = 4, resolution: int = 16, channels: int = 8, seed: int = 0
    ) -> None:
        if resolution < 4 or resolution & (resolution - 1):
            raise ValueError("resolution must be a power of two >= 4")
        rng = torch.Generator().manual_seed(seed)
        self.z_dim, self.w_dim, self.num_ws, self.resolution, self.c_dim = z_dim, w_dim, num_ws, resolution, 0
        self.img_channels = 3
        self.style_layers = tuple(StyleLayer(f"layer{i}", channels, i, "conv") for i in range(num_ws))
        self.params = {
            "map0": torch.randn(w_dim, z_dim, generator=rng) / math.sqrt(z_dim),
            "map1": torch.randn(w_dim, w_dim, generator=rng) / math.sqrt(w_dim),
            "const": torch.randn(channels, 4, 4, generator=rng),
            "torgb": torch.randn(3, channels, generator=rng) / math.sqrt(channels),
        }
        for i in range(num_ws):
            self.params[f"affine{i}.weight"] = torch.randn(channels, w_dim, generator=rng) / math.sqrt(w_dim)
            self.params[f"affine{i}.bias"] = torch.ones(channels)
            self.params[f"conv{i}"] = torch.randn(channels, channels, 3, 3, generator=rng) / math.sqrt(channels * 9)
        with torch.no_grad():
            z = torch.randn(2048, z_dim, generator=rng)
            self.params["w_avg"] = self._map(z).mean(0)

    def _map(self, z: torch.Tensor) -> torch.Tensor:
        z = z * (z.square().mean(1, keepdim=True) + 1e-8).rsqrt()
        h = F.leaky_relu(z @ self.params["map0"].T, 0.2)
        return F.leaky_relu(h @ self.params["map1"].T, 0.2)

    @property
    def w_avg(self) -> torch.Tensor:
        return self.params["w_avg"]

    def mapping(
        self, z: torch.Tensor, c: torch.Tensor | None = None, psi: float = 1.0, trunc_cutoff: int | None = None
    ) -> torch.Tensor:
        w = self._map(z.to(self.device, torch.float32))
        ws = w.unsqueeze(1).repeat(1, self.num_ws, 1)
        if psi != 1.0:
            cutoff = self.num_ws if trunc_cutoff is None else trunc_cutoff
            ws[:, :cutoff] = self.w_avg.lerp(ws[:, :cutoff], psi)
        return ws

    def styles(self, ws: torch.Tensor) -> torch.Tensor:
        parts = [
            ws[:, layer.w_index] @ self.params[f"affine{i}.weight"].T + self.params[f"affine{i}.bias"]
            for i, layer in enumerate(self.style_layers)
        ]
        return torch.cat(parts, dim=1)

    def synthesis_from_styles(self, styles: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        spans = style_offsets(self.style_layers)
        x = self.params["const"].unsqueeze(0).repeat(styles.shape[0], 1, 1, 1)
        for i, (a, b) in enumerate(spans):
            if x.shape[-1] < self.resolution:
                x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = x * styles[:, a:b, None, None]
            x = F.leaky_relu(F.conv2d(x, self.params[f"conv{i}"], padding=1), 0.2)
        while x.shape[-1] < self.resolution:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        return torch.tanh(torch.einsum("nchw,oc->nohw", x, self.params["torgb"]))

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        return self.synthesis_from_styles(self.styles(ws), noise_mode)

    def style_affines(self) -> list[StyleAffine]:
        return [
            StyleAffine(layer, self.params[f"affine{i}.weight"], self.params[f"affine{i}.bias"])
            for i, layer in enumerate(self.style_layers)
        ]


# -- conformance checks for plugin authors (like scikit-learn's check_estimator) -------------------


def _fail(what: str, problem: str) -> AssertionError:
    return AssertionError(f"{what}: {problem}")


def _expect_refusal(what: str, capability: str, call: Callable[[], object]) -> None:
    from large_toolkit.interfaces import CapabilityError

    try:
        call()
    except CapabilityError:
        return
    raise _fail(what, f"does not declare {capability!r} but did not refuse with CapabilityError")


def check_generator(generator: Generator, n: int = 3, atol: float = 1e-4) -> None:
    """Assert that ``generator`` keeps the :class:`~large_toolkit.interfaces.Generator` contract.

    Checks the declared attributes and latent spaces, seeded sampling, the decoder's output shape and
    batch independence, the fingerprint, and that every capability is either honoured (StyleSpace round
    trip, truncation toward ``w_avg``, affines matching ``styles``) or refused with ``CapabilityError``.
    Raises ``AssertionError`` naming the first broken rule.
    """
    from large_toolkit.interfaces import Capability
    from large_toolkit.types import LatentSpace

    what = f"generator {generator.name or type(generator).__name__}"
    for attr in ("z_dim", "w_dim", "num_ws", "resolution", "img_channels"):
        value = getattr(generator, attr, None)
        if not isinstance(value, int) or value < 1:
            raise _fail(what, f"{attr} must be a positive int, got {value!r}")
    if not isinstance(generator.device, torch.device):
        raise _fail(what, f"device must be a torch.device, got {generator.device!r}")
    unknown = set(generator.capabilities) - set(Capability.ALL)
    if unknown:
        raise _fail(what, f"declares unknown capabilities {sorted(unknown)} (see Capability.ALL)")
    spaces = generator.latent_spaces()
    if spaces.get(LatentSpace.Z) != (generator.z_dim,) or spaces.get(LatentSpace.W) != (generator.w_dim,):
        raise _fail(what, f"latent_spaces() must give z [{generator.z_dim}] and w [{generator.w_dim}], got {spaces}")
    if generator.num_ws > 1 and not generator.has(Capability.WPLUS):
        raise _fail(what, f"num_ws is {generator.num_ws} but 'wplus' is not declared")
    if generator.to(generator.device) is not generator:
        raise _fail(what, "to() must return self")
    if not generator.state_tensors():
        raise _fail(what, "state_tensors() is empty: the fingerprint would not identify the weights")
    fp = generator.fingerprint()
    if not (isinstance(fp, str) and fp and fp == generator.fingerprint()):
        raise _fail(what, f"fingerprint() must be a stable non-empty string, got {fp!r}")

    with torch.no_grad():
        a, b = generator.sample_latents(n, seed=1), generator.sample_latents(n, seed=1)
        if a.space is not LatentSpace.W or tuple(a.tensor.shape) != (n, generator.w_dim):
            raise _fail(what, f"sample_latents gave {a.space.value} {list(a.tensor.shape)}, not w [{n}, w_dim]")
        if not torch.equal(a.tensor, b.tensor):
            raise _fail(what, "sample_latents with the same seed gave different codes")
        if torch.equal(a.tensor, generator.sample_latents(n, seed=2).tensor):
            raise _fail(what, "sample_latents ignores the seed")
        images = generator.decode(a.tensor)
        shape = (n, generator.img_channels, generator.resolution, generator.resolution)
        if tuple(images.shape) != shape or not images.is_floating_point():
            raise _fail(what, f"decode gave {images.dtype} {list(images.shape)}, expected float {list(shape)}")
        if not torch.isfinite(images).all():
            raise _fail(what, "decode produced NaN or inf")
        single = generator.decode(a.tensor[1:2])
        if not torch.allclose(single, images[1:2], atol=atol, rtol=1e-3):
            raise _fail(what, "decode of one code differs from the same code inside a batch")
        ws = a.tensor.unsqueeze(1).repeat(1, generator.num_ws, 1)
        if not torch.allclose(generator.synthesis(ws), images, atol=atol, rtol=1e-3):
            raise _fail(what, "synthesis of tiled W codes differs from decode")
        _check_capabilities(generator, what, ws, atol)


def _check_capabilities(generator: Generator, what: str, ws: torch.Tensor, atol: float) -> None:
    from large_toolkit.interfaces import Capability

    z = generator.sample_z(ws.shape[0], seed=3)
    if generator.has(Capability.TRUNCATION):
        centre = generator.mapping(z, psi=0.0)
        if not torch.allclose(centre, generator.w_avg.to(centre).expand_as(centre), atol=atol):
            raise _fail(what, "mapping(z, psi=0) must equal w_avg (truncation toward the average)")
    else:
        _expect_refusal(what, Capability.TRUNCATION, lambda: generator.mapping(z, psi=0.5))
    if generator.has(Capability.STYLESPACE):
        styles = generator.styles(ws)
        if tuple(styles.shape) != (ws.shape[0], generator.style_dim):
            raise _fail(what, f"styles gave {list(styles.shape)}, expected [N, style_dim {generator.style_dim}]")
        if not torch.allclose(generator.synthesis_from_styles(styles), generator.synthesis(ws), atol=atol, rtol=1e-3):
            raise _fail(what, "synthesis_from_styles(styles(ws)) differs from synthesis(ws)")
    else:
        _expect_refusal(what, Capability.STYLESPACE, lambda: generator.styles(ws))
    if generator.has(Capability.STYLE_AFFINES):
        affines = generator.style_affines()
        if [a.layer for a in affines] != list(generator.style_layers):
            raise _fail(what, "style_affines() must follow style_layers, one per layer")
        if generator.has(Capability.STYLESPACE):
            expected = torch.cat([ws[:, a.layer.w_index] @ a.weight.T.to(ws) + a.bias.to(ws) for a in affines], 1)
            if not torch.allclose(expected, generator.styles(ws), atol=atol, rtol=1e-3):
                raise _fail(what, "the style affines do not reproduce styles(ws)")
    else:
        _expect_refusal(what, Capability.STYLE_AFFINES, generator.style_affines)


def check_finder(
    finder: DirectionFinder, generator: Generator, config: Mapping[str, object] | None = None, name: str = ""
) -> DirectionSet:
    """Assert that a :class:`~large_toolkit.interfaces.DirectionFinder` keeps its contract on ``generator``.

    Its declared ``space`` and ``requires``, finite directions of the space's width, one score per
    direction, unknown options refused, and the same set again for the same (seeded) config.
    Returns the set so a caller can check more.
    """
    from large_toolkit.errors import UserInputError
    from large_toolkit.types import Direction

    what = f"finder {name or type(finder).__name__}"
    finder.check_generator(generator, name)
    defaults = finder.default_config()
    if not isinstance(defaults, dict):
        raise _fail(what, "default_config() must return a dict")
    try:
        finder.merged({"no_such_option_xyz": 1}, defaults)
    except UserInputError:
        pass
    else:
        raise _fail(what, "an unknown option was accepted (use self.merged)")
    config = dict(config or {})
    first, second = finder.find(generator, config), finder.find(generator, config)
    if len(first) < 1:
        raise _fail(what, "found no direction")
    shape = generator.latent_spaces().get(finder.space)
    for d, again in zip(first, second, strict=True):
        if not isinstance(d, Direction) or d.space is not finder.space:
            raise _fail(what, f"direction {d.name!r} is not a Direction in the declared space {finder.space.value}")
        if shape is not None and d.vector.shape[-1] != shape[-1]:
            raise _fail(what, f"direction {d.name!r} has width {d.vector.shape[-1]}, the space {shape[-1]}")
        if not torch.equal(d.vector, again.vector):
            raise _fail(what, "two runs with the same config gave different directions (take a seed)")
    if first.scores is not None and len(first.scores) != len(first):
        raise _fail(what, "scores must hold one value per direction")
    return first


def check_inverter(
    inverter: Inverter, generator: Generator, space: str | None = None, n: int = 2, name: str = ""
) -> InversionResult:
    """Assert that an :class:`~large_toolkit.interfaces.Inverter` returns one finite code per image.

    Inverts ``n`` of the generator's own images (seeded) into ``space`` (default: the first declared
    output space the generator has) and checks the latents' space and shape.
    """
    from large_toolkit.interfaces import InversionResult
    from large_toolkit.types import LatentSpace

    what = f"inverter {name or type(inverter).__name__}"
    spaces = generator.latent_spaces()
    wanted = LatentSpace.parse(space) if space is not None else None
    candidates = [s for s in inverter.output_spaces if s in spaces] if wanted is None else [wanted]
    if not candidates:
        raise _fail(what, f"none of its output spaces {inverter.output_spaces} is a space of the generator")
    target = candidates[0]
    for capability in sorted(inverter.requires):
        generator.require(capability, what)
    with torch.no_grad():
        images = generator.decode(generator.sample_latents(n, seed=5).tensor)
    result = inverter.invert(images, generator, target)
    if not isinstance(result, InversionResult):
        raise _fail(what, f"invert must return an InversionResult, got {type(result).__name__}")
    lat = result.latents
    if lat.space is not target or len(lat) != n:
        raise _fail(what, f"gave {len(lat)} {lat.space.value} codes for {n} images asked in {target.value}")
    if tuple(lat.tensor.shape[1:]) != tuple(spaces[target]):
        raise _fail(what, f"codes have shape {list(lat.tensor.shape[1:])}, the space {list(spaces[target])}")
    if not torch.isfinite(lat.tensor).all():
        raise _fail(what, "codes contain NaN or inf")
    if result.losses is not None and len(result.losses) != n:
        raise _fail(what, "losses must hold one value per image")
    return result
