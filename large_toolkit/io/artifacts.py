"""Our own artifacts: directions, latents and arrays as safetensors + JSON metadata.

The safetensors header carries one metadata key, ``large_toolkit``, holding a
JSON object: ``format`` (what the file is), ``space``, the style-layer layout,
the generator fingerprint and dimensions, the finder config and the toolkit
version.  Loading checks the format and, when a generator is given, that the
file was made for a compatible one; a mismatch is refused with both sides named.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from large_toolkit import __version__
from large_toolkit.errors import ArtifactMismatchError, CheckpointError, UserInputError
from large_toolkit.io.atomic import atomic_path
from large_toolkit.types import Direction, DirectionSet, Latents, LatentSpace, StyleLayer

if TYPE_CHECKING:
    from large_toolkit.interfaces import Generator

META_KEY = "large_toolkit"
SCHEMA_VERSION = 1


def generator_meta(generator: Generator) -> dict[str, Any]:
    """What an artifact records about the generator it was made with (and, for a class-bound view of a
    conditional model, its ``class_idx``, so that a mismatch line can name the class to pass)."""
    meta = {
        "fingerprint": generator.fingerprint(),
        "backend": getattr(generator, "name", "") or None,
        "w_dim": generator.w_dim,
        "num_ws": generator.num_ws,
        "style_dim": generator.style_dim,
    }
    class_idx = getattr(generator, "class_idx", None)
    if isinstance(class_idx, int):
        meta["class_idx"] = class_idx
    return meta


def save_tensors(path: str | os.PathLike[str], tensors: Mapping[str, torch.Tensor], meta: Mapping[str, Any]) -> Path:
    """Write tensors + a JSON metadata object atomically."""
    header = {"schema_version": SCHEMA_VERSION, "toolkit_version": __version__, **meta}
    clean = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    with atomic_path(path) as tmp:
        save_file(clean, str(tmp), metadata={META_KEY: json.dumps(header, sort_keys=True)})
    return Path(path)


def parse_metadata(raw: Mapping[str, str] | None) -> dict[str, Any] | None:
    """Our JSON metadata object from a safetensors header's ``__metadata__`` map (None when absent)."""
    text = (raw or {}).get(META_KEY)
    if not text:
        return None
    try:
        meta = json.loads(text)
    except json.JSONDecodeError:
        raise CheckpointError("safetensors metadata is not valid JSON", hint="re-create the file") from None
    if not isinstance(meta, dict):
        raise CheckpointError("safetensors metadata is not a JSON object", hint="re-create the file with large-tk")
    return meta


def load_tensors(
    path: str | os.PathLike[str], expected_format: str | None = None
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a large-tk safetensors artifact; refuses other files with one clear message."""
    p = Path(path)
    if p.is_dir():
        raise UserInputError(f"{p} is a directory", hint="pass a .safetensors file written by large-tk")
    if not p.is_file():
        raise UserInputError(f"file not found: {p}")
    try:
        tensors = load_file(str(p), device="cpu")
        from safetensors import safe_open

        with safe_open(str(p), framework="pt") as handle:
            raw = (handle.metadata() or {}).get(META_KEY)
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        text = " ".join(str(exc).split())[:200]
        raise CheckpointError(
            f"{p} is not a readable safetensors file ({text})", hint="re-create it with large-tk"
        ) from None
    if raw is None:
        raise CheckpointError(f"{p} has no large-tk metadata", hint="it was not written by large-tk")
    try:
        meta = parse_metadata({META_KEY: raw})
    except CheckpointError as exc:
        raise CheckpointError(f"{p}: {exc.message}", hint=exc.hint) from None
    if meta is None:
        raise CheckpointError(f"{p} has empty large-tk metadata", hint="re-create it with large-tk")
    if expected_format is not None and meta.get("format") != expected_format:
        raise CheckpointError(f"{p} holds {meta.get('format')!r}, expected {expected_format!r}")
    return tensors, meta


def check_generator(meta: Mapping[str, Any], generator: Generator, what: str, strict_fingerprint: bool = True) -> None:
    """Refuse an artifact made for another generator: other dimensions, or (``strict_fingerprint``) other weights."""
    saved = meta.get("generator") or {}
    for key, actual in (("w_dim", generator.w_dim), ("num_ws", generator.num_ws), ("style_dim", generator.style_dim)):
        expected = saved.get(key)
        if expected is not None and int(expected) != int(actual) and (key != "style_dim" or meta.get("space") == "s"):
            raise ArtifactMismatchError(
                f"{what} was made for a generator with {key}={expected}, this generator has {key}={actual}",
                hint="use directions/latents computed for this checkpoint",
            )
    if strict_fingerprint and saved.get("fingerprint") not in (None, generator.fingerprint()):
        made_under = saved.get("class_idx")
        hint = "recompute it for this checkpoint"
        if isinstance(made_under, int) and made_under != getattr(generator, "class_idx", None):
            hint = f"it was made under --class-idx {made_under}: pass that, or recompute it for this class"
        raise ArtifactMismatchError(
            f"{what} was made for generator {saved.get('fingerprint')}, this one is {generator.fingerprint()}",
            hint=hint,
        )


def _layers_meta(layers: tuple[StyleLayer, ...] | None) -> list[dict[str, Any]] | None:
    return [layer.to_dict() for layer in layers] if layers is not None else None


def _layers_from_meta(data: list[dict[str, Any]] | None) -> tuple[StyleLayer, ...] | None:
    return tuple(StyleLayer.from_dict(d) for d in data) if data is not None else None


# -- directions ------------------------------------------------------------------------------


def save_directions(path: str | os.PathLike[str], dirs: DirectionSet, generator: Generator | None = None) -> Path:
    """Save a DirectionSet; the generator (when given) is recorded for later checks."""
    tensors: dict[str, torch.Tensor] = {}
    entries = []
    for i, d in enumerate(dirs.directions):
        tensors[f"direction.{i}"] = d.vector.float()
        if d.layer_mask is not None:
            tensors[f"layer_mask.{i}"] = d.layer_mask.to(torch.uint8)
        entries.append(
            {
                "name": d.name,
                "space": d.space.value,
                "intercept": d.intercept,
                "provenance": d.provenance,
                "style_layers": _layers_meta(d.style_layers),
            }
        )
    if dirs.scores is not None:
        tensors["scores"] = torch.as_tensor(dirs.scores, dtype=torch.float64)
    spaces = {d.space.value for d in dirs.directions}
    meta = {
        "format": "large-tk/directions",
        "space": spaces.pop() if len(spaces) == 1 else "mixed",
        "score_name": dirs.score_name,
        "directions": entries,
        "metadata": dirs.metadata,
        "generator": generator_meta(generator) if generator is not None else dirs.metadata.get("generator"),
    }
    return save_tensors(path, tensors, meta)


def load_directions(path: str | os.PathLike[str], generator: Generator | None = None) -> DirectionSet:
    """Load a DirectionSet, checking it against ``generator`` when one is given."""
    tensors, meta = load_tensors(path, "large-tk/directions")
    if generator is not None:
        check_generator(meta, generator, f"direction file {path}")
    directions = []
    for i, entry in enumerate(meta["directions"]):
        mask = tensors.get(f"layer_mask.{i}")
        space = LatentSpace.parse(entry["space"])
        directions.append(
            Direction(
                tensors[f"direction.{i}"],
                space,
                entry.get("name", ""),
                float(entry.get("intercept", 0.0)),
                mask.bool() if mask is not None else None,
                _layers_from_meta(entry.get("style_layers")),
                dict(entry.get("provenance") or {}),
            )
        )
    if generator is not None:
        for d in directions:
            expected = generator.style_dim if d.space is LatentSpace.S else generator.w_dim
            if d.dim != expected:
                raise ArtifactMismatchError(
                    f"direction {d.name!r} in {path} has {d.dim} dims, "
                    f"the generator's {d.space.value} space has {expected}",
                    hint="use directions computed for this checkpoint",
                )
    metadata = dict(meta.get("metadata") or {})
    if meta.get("generator"):
        metadata["generator"] = meta["generator"]
    return DirectionSet(directions, tensors.get("scores"), meta.get("score_name", "score"), metadata)


# -- latents ---------------------------------------------------------------------------------


def save_latents(
    path: str | os.PathLike[str],
    latents: Latents,
    ids: list[str] | None = None,
    generator: Generator | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Save latent codes with optional per-row image ids."""
    if ids is not None and len(ids) != len(latents):
        raise UserInputError(f"{len(ids)} ids for {len(latents)} latents")
    meta = {
        "format": "large-tk/latents",
        "space": latents.space.value,
        "style_layers": _layers_meta(latents.style_layers),
        "ids": ids,
        "generator": generator_meta(generator) if generator is not None else None,
        **(extra or {}),
    }
    return save_tensors(path, {"latents": latents.tensor.float()}, meta)


def load_latents(
    path: str | os.PathLike[str], generator: Generator | None = None
) -> tuple[Latents, list[str] | None, dict[str, Any]]:
    """Load latents (and ids); checks the layout against ``generator`` when given."""
    tensors, meta = load_tensors(path, "large-tk/latents")
    latents = Latents(tensors["latents"], LatentSpace.parse(meta["space"]), _layers_from_meta(meta.get("style_layers")))
    if generator is not None:
        check_generator(meta, generator, f"latent file {path}")
        t = latents.tensor
        if latents.space in (LatentSpace.W, LatentSpace.WPLUS) and t.shape[-1] != generator.w_dim:
            raise ArtifactMismatchError(
                f"latents in {path} have w_dim {t.shape[-1]}, the generator has {generator.w_dim}"
            )
    return latents, meta.get("ids"), meta
