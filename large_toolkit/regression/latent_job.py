"""The inputs every distance command (sort, ordinal, suggest-labels, layers) opens the same way.

Why one place: the CLI and the GUI read the latents, match the labels and check the generator's provenance by
the same rules, so both report the same numbers and refuse (or, with ``force``, warn about) the same mismatches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from large_toolkit.cli.latent_inputs import GeneratorSource
    from large_toolkit.regression.features import FeatureSpec
    from large_toolkit.types import Direction, Latents


@dataclass
class LatentJob:
    """Latents with their ids, the generator they must match, feature settings and the labels (if any)."""

    latents: Latents
    ids: list[str]
    source: GeneratorSource
    spec: FeatureSpec
    labels: tuple[np.ndarray, np.ndarray] | None = None

    def direction(self, spec: str) -> Direction:
        """A direction spec resolved (finder specs on the source's generator) and checked for provenance."""
        from large_toolkit.cli.latent_inputs import resolve_one

        return resolve_one(spec, self.source)

    def distances(self, direction: Direction) -> np.ndarray:
        """Scalar distance of every latent along ``direction`` under :attr:`spec`."""
        from large_toolkit.cli.latent_inputs import distances_for

        return distances_for(self.latents, direction, self.spec, self.source)


def open_latents(
    path: Path,
    source: GeneratorSource,
    spec: FeatureSpec | None,
    labels: Path | None = None,
    label_column: str | None = None,
    pairs: list[str] | None = None,
    min_labels: int = 2,
) -> LatentJob:
    """Read a latents file (its recorded generator becomes the one to match) and the labels, if given
    (``spec`` None: the default feature settings)."""
    from large_toolkit.cli.latent_inputs import labels_by_row, load_latent_file
    from large_toolkit.regression.features import FeatureSpec

    lat, ids = load_latent_file(path, source)
    return LatentJob(
        lat, ids, source, spec or FeatureSpec(), labels_by_row(ids, labels, label_column, pairs, min_labels)
    )
