"""Checkpoint-reading steps the StyleGAN2 and StyleGAN3 loaders share.

Both accept the same containers (an NVIDIA network pickle's ``G_ema`` record, our safetensors, a
``torch.save``-d state dict) through :func:`large_toolkit.api.read_checkpoint`'s restricted reader and
tell them apart the same way; only what they build from the tensors differs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from large_toolkit.api import CheckpointError, PersistentRecord, read_checkpoint

G = TypeVar("G")


def describe_object(obj: Any) -> str:
    """A short phrase for an error line: what a checkpoint turned out to hold."""
    if isinstance(obj, Mapping):
        keys = list(obj)[:5]
        return f"a dict with keys {keys}{' ...' if len(obj) > 5 else ''}"
    return f"a {type(obj).__name__}"


def strip_prefix(state: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """The entries under ``prefix`` (e.g. an e4e file's ``decoder.``), with the prefix removed."""
    return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}


def checkpoint_mapping(obj: Any, name: str, family: str) -> Mapping[str, Any]:
    """A read checkpoint as a dict: a bare pickled network becomes ``{"G_ema": it}``; anything else is refused."""
    if isinstance(obj, PersistentRecord):
        obj = {"G_ema": obj}
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{name}: expected a {family} checkpoint, found {describe_object(obj)}")
    if "G" in obj and "D" in obj and "G_ema" not in obj:
        raise CheckpointError(
            f"{name}: network pickle has no G_ema", hint="G is the raw training snapshot; use a G_ema pickle"
        )
    return obj


def g_ema_record(obj: Mapping[str, Any], name: str) -> PersistentRecord | None:
    """The pickled ``G_ema`` network of an NVIDIA network pickle, or None when the dict has none."""
    if "G_ema" not in obj:
        return None
    record = obj["G_ema"]
    if not isinstance(record, PersistentRecord):
        raise CheckpointError(f"{name}: G_ema is {type(record).__name__}, expected a pickled network")
    return record


def safetensors_parts(obj: Mapping[str, Any]) -> tuple[dict[str, Any], Mapping[str, str]] | None:
    """``(tensors, metadata)`` when ``obj`` is what the reader returns for a safetensors file, else None."""
    if "tensors" in obj and "metadata" in obj and isinstance(obj["tensors"], Mapping):
        return dict(obj["tensors"]), obj["metadata"]
    return None


def load_generator(
    source: str | os.PathLike[str] | Mapping[str, Any],
    device: Any,
    from_object: Callable[[Any, str, str], G],
) -> G:
    """A path (read through the restricted reader; nothing in it is executed) or an already-read object."""
    device = str(device)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        return from_object(read_checkpoint(path), device, path.name)
    return from_object(source, device, "checkpoint")
