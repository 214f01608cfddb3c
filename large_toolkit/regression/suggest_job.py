"""``suggest-labels`` as a library call: rank candidate directions, then pick the images to label next.

Why a core function: the GUI's "what should I label?" and the CLI must rank and pick by the same rules
(:func:`~large_toolkit.regression.advice.rank_directions`, :func:`~large_toolkit.regression.advice.suggest_labels`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from large_toolkit.regression.advice import LabelAdvice, rank_directions, suggest_labels
from large_toolkit.regression.latent_job import LatentJob
from large_toolkit.types import Direction


@dataclass
class Suggestion:
    """The direction used, the ranking of the candidates (None for one), and the images to label."""

    result: dict[str, Any]
    advice: LabelAdvice
    ranking: list[dict[str, Any]] | None


def _ranking(job: LatentJob, specs: list[str], dirs: list[Direction], scalars: list[np.ndarray]) -> list[Any]:
    """Candidates scored best first: leave-one-out error with 3+ labels, else spread x layer agreement."""
    from large_toolkit.regression.features import layer_distances, selected_layers
    from large_toolkit.types import LatentSpace

    lat = job.latents
    g = None
    if any(dv.space is LatentSpace.S for dv in dirs) and lat.space is not LatentSpace.S:
        g = job.source.get()
    per = []
    for dv in dirs:
        p = layer_distances(lat, dv, g)
        per.append(p[:, np.asarray(selected_layers(job.spec, dv, p.shape[1]), dtype=np.int64)])
    mean_codes, vecs = None, None
    if lat.space in (LatentSpace.W, LatentSpace.WPLUS) and all(dv.space is LatentSpace.W for dv in dirs):
        t = lat.tensor.double()
        mean_codes = (t.mean(1) if t.ndim == 3 else t).numpy()
        vecs = [dv.vector.double().numpy() for dv in dirs]
    rows, values = job.labels if job.labels is not None and job.labels[0].size >= 3 else (None, None)
    return rank_directions(
        specs,
        per,
        scalars,
        mean_codes,
        vecs,
        None if rows is None else rows.tolist(),
        None if values is None else values.tolist(),
    )


def suggest(job: LatentJob, specs: list[str], k: int, edge: float) -> Suggestion:
    """Rank ``specs`` (when several) and suggest ``k`` images to label along the best one."""
    dirs = [job.direction(s) for s in specs]
    scalars = [job.distances(dv) for dv in dirs]
    ranking = None
    best = 0
    if len(dirs) > 1:
        scores = _ranking(job, specs, dirs, scalars)
        ranking = [s.to_dict() for s in scores]
        best = specs.index(scores[0].name)
    advice = suggest_labels(scalars[best], k, job.labels[0].tolist() if job.labels is not None else None, edge)
    by = None if ranking is None else ("loo_mae" if ranking[0]["loo_mae"] is not None else "spread x layer_agreement")
    result = {"direction": specs[best], "ranking": ranking, "ranked_by": by, "suggestions": advice.to_dict(job.ids)}
    return Suggestion(result, advice, ranking)
