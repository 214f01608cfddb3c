"""The table of a direction set: index, name, space, score and the style layers each direction moves most."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from large_toolkit.interfaces import Generator
    from large_toolkit.types import Direction, DirectionSet

# bulky statistics of a set's metadata that a summary leaves out
_BULKY_METADATA = ("mean", "stdev", "var_ratio")


def dominant_layers(direction: Direction, generator: Generator | None, top: int = 3) -> str:
    """The style layers a direction moves most: ``||A_l v||`` per affine (needs a generator) or its W+ slots."""
    from large_toolkit.types import LatentSpace

    if direction.space is LatentSpace.WPLUS:
        return _top_wplus_rows(direction, top)
    if direction.space is LatentSpace.S and direction.style_layers:
        return _top_style_layers(direction, top)
    by_affine = _top_affines(direction, generator, top)
    if by_affine is not None:
        return by_affine
    return _masked_slots(direction)


def _top_wplus_rows(direction: Direction, top: int) -> str:
    import torch

    norms = direction.vector.float().norm(dim=1)
    order = torch.argsort(norms, descending=True)[:top]
    return ",".join(f"w{int(i)}" for i in order)


def _top_style_layers(direction: Direction, top: int) -> str:
    import torch

    from large_toolkit.types import style_offsets

    layers = direction.style_layers or ()
    norms = torch.stack([direction.vector[a:b].float().norm() for a, b in style_offsets(layers)])
    order = torch.argsort(norms, descending=True)[:top]
    return ",".join(layers[int(i)].name for i in order)


def _top_affines(direction: Direction, generator: Generator | None, top: int) -> str | None:
    """The affines a W direction drives hardest (None when the generator exposes no style affines)."""
    import torch

    from large_toolkit.interfaces import Capability
    from large_toolkit.types import LatentSpace

    if (
        generator is None
        or not generator.has(Capability.STYLE_AFFINES)
        or direction.space is not LatentSpace.W
        or direction.dim != generator.w_dim
    ):
        return None
    affines = [a for a in generator.style_affines() if a.layer.modulates_features]
    if direction.layer_mask is not None and direction.layer_mask.numel() == generator.num_ws:
        affines = [a for a in affines if bool(direction.layer_mask[a.layer.w_index])] or affines
    if not affines:
        return None
    v = direction.vector.to(affines[0].weight)
    # RMS response per channel, so wide layers do not win by width alone.
    resp = torch.stack([(a.weight @ v).pow(2).mean().sqrt() for a in affines])
    order = torch.argsort(resp, descending=True)[:top]
    return ",".join(affines[int(i)].layer.name for i in order)


def _masked_slots(direction: Direction) -> str:
    """The W+ slots a layer mask keeps (``w3``, ``w0-3``, ``w1,4``), or ``all``."""
    import torch

    if direction.layer_mask is None or bool(direction.layer_mask.all()):
        return "all"
    slots = [int(i) for i in torch.nonzero(direction.layer_mask).flatten()]
    if len(slots) == 1:
        return f"w{slots[0]}"
    contiguous = slots == list(range(slots[0], slots[-1] + 1))
    return "w" + (f"{slots[0]}-{slots[-1]}" if contiguous else ",".join(map(str, slots)))


def direction_rows(dirs: DirectionSet, generator: Generator | None, limit: int = 0) -> list[dict[str, Any]]:
    """One row per direction (the first ``limit``; 0 = all): index, name, space, score, dominant layers."""
    rows = []
    for i, d in enumerate(dirs.directions[:limit] if limit > 0 else dirs.directions):
        score = float(dirs.scores[i]) if dirs.scores is not None else None
        rows.append(
            {
                "index": i,
                "name": d.name,
                "space": d.space.value,
                "score": score,
                "dominant_layers": dominant_layers(d, generator),
            }
        )
    return rows


def set_summary(dirs: DirectionSet, generator: Generator | None, limit: int = 0) -> dict[str, Any]:
    """The set as JSON-ready data: its size, score name, light metadata and :func:`direction_rows`."""
    return {
        "count": len(dirs),
        "score_name": dirs.score_name,
        "metadata": {k: v for k, v in dirs.metadata.items() if k not in _BULKY_METADATA},
        "directions": direction_rows(dirs, generator, limit),
    }
