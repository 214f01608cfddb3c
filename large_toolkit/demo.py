"""The bundled demo: procedural faces with known ground truth, for ``large-tk regress`` with no data.

The demo set is 2000 rendered images (seed 1): the first 1000 form the training pool from which
the few-shot protocol draws its n labelled images, the other 1000 the test set.  Each image has 8
ground-truth factors (see :mod:`large_toolkit.data.factors`); the demo reports the one the chosen
direction tracks best, measured by |Spearman| between the scalar distance and each factor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from large_toolkit.data.folders import LabelTable, default_ids

DEMO_SEED = 1
DEMO_TRAIN = 1000
DEMO_TEST = 1000


@dataclass
class DemoSet:
    images: np.ndarray
    ids: list[str]
    labels: LabelTable


def demo_set(n: int = DEMO_TRAIN + DEMO_TEST, seed: int = DEMO_SEED) -> DemoSet:
    """Render the demo images and wrap their ground-truth factors as a label table."""
    from large_toolkit.data.synthetic import generate

    data = generate(n, seed=seed)
    ids = default_ids(n)
    return DemoSet(data.images, ids, LabelTable.from_structured(data.labels, ids))


def tracked_factor(distances: np.ndarray, labels: LabelTable) -> tuple[str, float, dict[str, float]]:
    """The factor whose values rank like ``distances`` (largest |Spearman|), its rho, and all rhos."""
    from large_toolkit.regression.sorting import rank_agreement

    rhos = {name: rank_agreement(distances, labels.column(name))["spearman"] for name in labels.columns}
    best = max(rhos, key=lambda k: abs(rhos[k]))
    return best, rhos[best], rhos
