"""Direction specs: one grammar for every place that accepts a direction.

Grammar (``parse_spec``):

* ``FINDER:INDEX`` — direction ``INDEX`` of a registered finder (``sefa:3``, ``ganspace:0``)
* ``FINDER:NAME``  — the direction named ``NAME`` (``interfacegan:smile``)
* ``FINDER``       — the whole set (where a set is accepted)
* ``FINDER[:KEY]?k=v&k=v`` — with finder options, typed by the finder's declared ``Options``
  (``interfacegan:smile?scores=labels.csv&ratio=0.1``, ``ganspace:0?num_samples=100000``)
* ``file:PATH[:INDEX|:NAME]`` — a direction file in any supported format
  (see :mod:`large_toolkit.io.direction_formats`)
* a bare ``PATH`` (anything that exists, or contains ``/`` or a known suffix)

Finder specs are computed on the fly with the finder's default config (plus
overrides) and cached as our safetensors under ``$LARGE_TK_CACHE/directions``
(default ``~/.cache/large-tk``), keyed by the generator fingerprint, the
finder and its merged config, so the second use is instant and a different
checkpoint never reuses another's directions.

Also here: the shared numerics every finder and edit tool uses
(:func:`canonical_sign`, :func:`edit_ws`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from large_toolkit.errors import UserInputError
from large_toolkit.types import Direction, DirectionSet, LatentSpace

if TYPE_CHECKING:
    from large_toolkit.interfaces import Generator

FILE_SUFFIXES = (".safetensors", ".npy", ".npz", ".pt", ".pth", ".pkl")
_FINDER_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")


@dataclass(frozen=True)
class DirectionSpec:
    """A parsed spec: ``finder`` or ``path`` is set; ``key`` is an index, a name, or None (whole set)."""

    text: str
    finder: str | None = None
    path: str | None = None
    key: int | str | None = None
    options: tuple[tuple[str, str], ...] = ()

    @property
    def is_file(self) -> bool:
        return self.path is not None


def _key(text: str) -> int | str:
    text = text.strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if not text:
        raise UserInputError("empty direction index or name")
    return text


def _looks_like_path(text: str) -> bool:
    return os.path.exists(text) or "/" in text or "\\" in text or text.lower().endswith(FILE_SUFFIXES)


def parse_spec(text: str) -> DirectionSpec:
    """Parse a direction spec string (see the module docstring)."""
    spec = str(text).strip()
    if not spec:
        raise UserInputError("empty direction spec", hint="use e.g. sefa:3, ganspace:0, file:dirs.safetensors:2")
    if spec.startswith("file:"):
        rest = spec[5:]
        if not rest:
            raise UserInputError("direction spec 'file:' has no path")
        if os.path.exists(rest) or ":" not in rest:
            return DirectionSpec(spec, path=rest)
        path, key = rest.rsplit(":", 1)
        return DirectionSpec(spec, path=path, key=_key(key))
    if _looks_like_path(spec) and not (
        ":" in spec and _FINDER_RE.match(spec.split(":", 1)[0]) and not os.path.exists(spec)
    ):
        head, _, tail = spec.rpartition(":")
        if not os.path.exists(spec) and head and os.path.exists(head):  # PATH:INDEX without 'file:'
            return DirectionSpec(spec, path=head, key=_key(tail))
        return DirectionSpec(spec, path=spec)
    head, _, query = spec.partition("?")
    name, _, key = head.partition(":")
    if not _FINDER_RE.match(name):
        raise UserInputError(
            f"bad direction spec {spec!r}", hint="use FINDER:INDEX, FINDER:NAME, file:PATH[:INDEX] or a file path"
        )
    return DirectionSpec(spec, finder=name, key=_key(key) if key else None, options=_query(query, spec))


def _query(query: str, spec: str) -> tuple[tuple[str, str], ...]:
    """``k=v&k=v`` -> pairs (text; the finder's declared options type them)."""
    if not query:
        return ()
    from large_toolkit.options import parse_pairs

    try:
        return tuple(parse_pairs(query.split("&"), "option").items())
    except UserInputError:
        raise UserInputError(
            f"bad options in direction spec {spec!r}", hint="use FINDER:KEY?name=value&name=value"
        ) from None


# -- shared numerics ---------------------------------------------------------------------------


def canonical_sign(vectors: torch.Tensor) -> torch.Tensor:
    """Flip each row so its largest-|.| entry is positive (sklearn's ``svd_flip`` rule; first on ties)."""
    idx = vectors.abs().argmax(dim=1)
    signs = torch.sign(vectors.gather(1, idx[:, None]))
    signs[signs == 0] = 1
    return vectors * signs


def edit_layers(direction: Direction, num_ws: int, layers: str | Sequence[int] | None = None) -> list[int]:
    """W+ slots an edit touches: explicit ``layers``, else the direction's mask, else all."""
    from large_toolkit.interfaces import layer_indices

    if layers is not None and not (isinstance(layers, str) and layers.strip().lower() in ("", "auto")):
        return layer_indices(layers, num_ws)
    if direction.layer_mask is not None and direction.layer_mask.numel() == num_ws:
        return [int(i) for i in torch.nonzero(direction.layer_mask).flatten()]
    return list(range(num_ws))


def step_scale(direction: Direction) -> float:
    """Multiplier for edit amounts: GANSpace steps are in sigmas (its stdev); others are unit steps."""
    return float(direction.provenance.get("step_scale", 1.0))


def edit_ws(
    ws: torch.Tensor, direction: Direction, amount: float, layers: str | Sequence[int] | None = None
) -> torch.Tensor:
    """``ws [N, num_ws, w_dim] + amount * step_scale * vector`` on the selected slots (returns a copy)."""
    out = ws.clone()
    vec = direction.vector.to(ws)
    delta = amount * step_scale(direction)
    if direction.space is LatentSpace.WPLUS:
        if vec.shape[0] != ws.shape[1]:
            raise UserInputError(f"W+ direction has {vec.shape[0]} layers, the codes have {ws.shape[1]}")
        slots = edit_layers(direction, ws.shape[1], layers)
        out[:, slots] += delta * vec[slots]
        return out
    if direction.space is not LatentSpace.W:
        raise UserInputError(f"cannot apply a {direction.space.value} direction to W+ codes")
    if vec.shape[0] != ws.shape[-1]:
        raise UserInputError(f"direction has {vec.shape[0]} dims, the codes have w_dim {ws.shape[-1]}")
    slots = edit_layers(direction, ws.shape[1], layers)
    out[:, slots] += delta * vec
    return out


# -- cache + resolution ------------------------------------------------------------------------


def cache_dir() -> Path:
    """``$LARGE_TK_CACHE`` or ``~/.cache/large-tk``."""
    return Path(os.environ.get("LARGE_TK_CACHE") or Path.home() / ".cache" / "large-tk")


def _jsonable(config: Mapping[str, Any]) -> bool:
    try:
        json.dumps(config, sort_keys=True)
    except (TypeError, ValueError):
        return False
    return True


def cache_path(finder: str, fingerprint: str, config: Mapping[str, Any], root: Path | None = None) -> Path | None:
    """Where a finder's result for this generator and config is cached (None: config not cacheable)."""
    if not _jsonable(config):
        return None
    digest = hashlib.sha256(json.dumps({"finder": finder, "config": config}, sort_keys=True).encode()).hexdigest()[:16]
    return (root or cache_dir()) / "directions" / f"{finder}-{fingerprint}-{digest}.safetensors"


def find_directions(
    finder_name: str,
    generator: Generator,
    config: Mapping[str, Any] | None = None,
    use_cache: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> DirectionSet:
    """Run (or load from the cache) a registered finder on ``generator``."""
    from large_toolkit.io.artifacts import load_directions, save_directions
    from large_toolkit.plugins import load_direction_finder

    finder = load_direction_finder(finder_name)
    finder.check_generator(generator, finder_name)
    merged = finder.merged(config, finder.default_config())
    # Options that only say where the work runs (engine=ray, ray_workers) give the same result: not in the key.
    where = finder.where_options()
    key = {k: v for k, v in merged.items() if k not in where}
    path = cache_path(finder_name, generator.fingerprint(), key) if use_cache else None
    if path is not None and path.is_file():
        return load_directions(path, generator)
    if progress is not None:
        finder.progress = progress
    dirs = finder.find(generator, merged)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_directions(path, dirs, generator)
    return dirs


def resolve_direction_set(
    spec: str | DirectionSpec,
    generator: Generator | None = None,
    config: Mapping[str, Any] | None = None,
    use_cache: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> DirectionSet:
    """The whole set a spec names (a finder's output or a file's content); the key is ignored."""
    parsed = parse_spec(spec) if isinstance(spec, str) else spec
    if parsed.is_file:
        from large_toolkit.io.direction_formats import load_direction_file
        from large_toolkit.io.download import resolve_checkpoint  # file:ZOO-NAME (InterFaceGAN boundaries)

        return load_direction_file(resolve_checkpoint(parsed.path or ""), generator)
    if generator is None:
        raise UserInputError(f"direction spec {parsed.text!r} needs a generator", hint="pass --backend/--checkpoint")
    merged = {**(config or {}), **dict(parsed.options)}
    return find_directions(parsed.finder or "", generator, merged, use_cache, progress)


def pick(dirs: DirectionSet, key: int | str | None, spec_text: str) -> Direction:
    """One direction of a set by index or name; a set of one needs no key."""
    if key is None:
        if len(dirs) == 1:
            return dirs[0]
        raise UserInputError(
            f"direction spec {spec_text!r} names a set of {len(dirs)} directions",
            hint=f"add an index, e.g. {spec_text}:0",
        )
    if isinstance(key, int) and not 0 <= key < len(dirs):
        raise UserInputError(
            f"direction index {key} in {spec_text!r} is out of range",
            hint=f"this set has {len(dirs)} directions (0-{len(dirs) - 1})",
        )
    return dirs[key]


def resolve_direction(
    spec: str | DirectionSpec,
    generator: Generator | None = None,
    config: Mapping[str, Any] | None = None,
    use_cache: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> Direction:
    """One direction from a spec (``sefa:3``, ``interfacegan:smile``, ``file:b.npy``)."""
    parsed = parse_spec(spec) if isinstance(spec, str) else spec
    dirs = resolve_direction_set(parsed, generator, config, use_cache, progress)
    return pick(dirs, parsed.key, parsed.text)
