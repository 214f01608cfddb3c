"""A seeded random-direction finder, written against large-tk's public API only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from large_toolkit.api import Direction, DirectionFinder, DirectionSet, Generator, LatentSpace, option


@dataclass(frozen=True)
class RandomOptions:
    count: int = option(16, "how many directions", low=1)
    seed: int = option(0, "seed of the draw (the same seed gives the same directions)")


class RandomDirectionFinder(DirectionFinder):
    """``count`` directions drawn uniformly on the unit sphere of W, reproducible from ``seed``."""

    space = LatentSpace.W
    Options = RandomOptions

    def find(self, generator: Generator, config: Mapping[str, Any] | None = None) -> DirectionSet:
        cfg = self.merged(config)  # typed by Options; unknown options refused in one line
        rng = torch.Generator().manual_seed(int(cfg["seed"]))
        vectors = torch.randn(int(cfg["count"]), generator.w_dim, generator=rng, dtype=torch.float64)
        vectors = vectors / vectors.norm(dim=1, keepdim=True)
        provenance = {"finder": "random", "config": cfg, "generator": generator.fingerprint()}
        directions = [
            Direction(v.float(), LatentSpace.W, name=f"random_{i}", provenance=provenance)
            for i, v in enumerate(vectors)
        ]
        return DirectionSet(directions, torch.zeros(len(directions)), "score", {"finder": "random", "config": cfg})
