"""``layers`` as a library call: which generator layers carry a direction, and how linear each layer is.

The gradient importance study (:func:`large_toolkit.analysis.importance.gradient_importance`) and, given
latents with labels, the per-layer linearity (R² of the label against each layer's distance).  The CLI
parses and prints; the GUI can call :func:`layer_study` and :func:`write_layer_study` the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from large_toolkit.cli.latent_inputs import GeneratorSource
    from large_toolkit.regression.latent_job import LatentJob
    from large_toolkit.types import Direction


@dataclass
class ImportanceSettings:
    """The released importance study's knobs (its defaults)."""

    space: str = "wplus"
    random_samples: int = 100
    edit_samples: int = 100
    max_step: float = 5.0
    truncation: float = 0.5
    seed: int = 8
    batch_size: int = 16


@dataclass
class LayerStudy:
    """``result`` (the JSON report), the importance (None when skipped) and the linearity (None without labels)."""

    direction: Direction
    result: dict[str, Any]
    importance: Any = None
    linearity: dict[str, np.ndarray] | None = None
    notes: list[str] = field(default_factory=list)


def layer_study(
    direction: str,
    source: GeneratorSource,
    importance: ImportanceSettings | None,
    job: LatentJob | None = None,
    progress: Callable[[int], None] | None = None,
) -> LayerStudy:
    """Importance on ``source``'s generator (unless ``importance`` is None) and linearity on ``job``'s labels."""
    from large_toolkit.analysis.importance import gradient_importance, layer_linearity
    from large_toolkit.cli.latent_inputs import resolve_one
    from large_toolkit.regression.features import layer_distances, layer_names
    from large_toolkit.types import LatentSpace

    dv = resolve_one(direction, source)
    study = LayerStudy(dv, {"direction": direction})
    if importance is not None:
        s = importance
        study.importance = gradient_importance(
            source.get(), dv, space=s.space, random_samples=s.random_samples, edit_samples=s.edit_samples,
            max_step=s.max_step, truncation=s.truncation, seed=s.seed, batch_size=s.batch_size, progress=progress,
        )  # fmt: skip
        study.result["importance"] = study.importance.to_dict()
    if job is not None and job.labels is not None:
        rows, values = job.labels
        need_g = dv.space is LatentSpace.S and job.latents.space is not LatentSpace.S
        lin = layer_linearity(layer_distances(job.latents, dv, source.get() if need_g else None)[rows], values)
        names = layer_names(job.latents, dv)
        study.linearity = lin
        study.result["linearity"] = {
            "layers": names,
            "r2": lin["r2"].tolist(),
            "r": lin["r"].tolist(),
            "best_layer": names[int(np.argmax(lin["r2"]))],
            "n_labels": int(rows.size),
        }
    return study


def write_layer_study(study: LayerStudy, source: GeneratorSource, out: Path) -> list[Path]:
    """Layer weights (txt, safetensors), ``importance.json/png`` and ``linearity.json/png``."""
    from large_toolkit.analysis.importance import module_map, save_importance
    from large_toolkit.io.atomic import write_text_atomic
    from large_toolkit.regression.plots import bar_chart, layer_labels
    from large_toolkit.types import LatentSpace

    paths: list[Path] = []
    if study.importance is not None:
        paths += save_importance(study.importance, out)
    if study.linearity is not None:
        ln = study.result["linearity"]
        out.mkdir(parents=True, exist_ok=True)
        paths += [out / "linearity.json", out / "linearity.png"]
        write_text_atomic(paths[-2], json.dumps(ln, indent=2) + "\n")
        modules = module_map(source.get()) if study.direction.space is not LatentSpace.S else None
        bar_chart(
            paths[-1],
            study.linearity["r2"],
            layer_labels(ln["layers"], modules),
            title=f"per-layer linearity of {study.result['direction']} ({ln['n_labels']} labels)",
            ylabel="R² of label vs the layer's distance",
        )
    return paths
