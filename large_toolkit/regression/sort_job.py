"""``sort`` as a library call: order images by distance, rank agreement with labels, the files and the strip.

The CLI parses and prints; the GUI can call :func:`sort_latents` and :func:`write_sorted` the same way.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from large_toolkit.errors import UserInputError
from large_toolkit.regression.latent_job import LatentJob
from large_toolkit.regression.sorting import rank_agreement, sort_order, strip_positions


@dataclass
class SortResult:
    """Images in distance order (``sorted`` rows: rank, id, distance, label) and the strip's rows."""

    direction: str
    distances: np.ndarray
    sorted: list[dict[str, Any]]
    strip_rows: list[int]
    label_of: dict[int, float]
    summary: dict[str, Any] = field(default_factory=dict)


def sort_latents(job: LatentJob, direction: str, descending: bool, strip: int, weighted_edges: bool) -> SortResult:
    """Sort ``job``'s images along ``direction``; with labels, Spearman/Kendall agreement in the summary."""
    d = job.distances(job.direction(direction))
    order = sort_order(d, descending)
    lab = job.labels
    label_of = dict(zip(lab[0].tolist(), lab[1].tolist(), strict=True)) if lab is not None else {}
    strip_rows = order[strip_positions(len(order), strip, weighted_edges)].tolist() if strip else []
    rows = [
        {"rank": k, "id": job.ids[r], "distance": float(d[r]), "label": label_of.get(r)} for k, r in enumerate(order)
    ]
    summary = {
        "direction": direction,
        "n_images": len(job.ids),
        "descending": descending,
        "agreement": rank_agreement(d[lab[0]], lab[1]) if lab is not None else None,
        "strip_ids": [job.ids[r] for r in strip_rows],
        "outputs": [],
    }
    return SortResult(direction, d, rows, strip_rows, label_of, summary)


def write_sorted(result: SortResult, job: LatentJob, out: Path, images: list[str] | None, scale: int) -> list[Path]:
    """``sorted.csv``, ``sorted.json`` and (with strip rows) ``strip.png``; strip images are read or rendered
    before anything is written, so a failure leaves no partial output."""
    from large_toolkit.io.atomic import write_text_atomic
    from large_toolkit.regression.plots import strip_chart

    rows, d = result.strip_rows, result.distances
    strip_img = strip_images(job, rows, images) if rows else None
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["rank", "id", "distance", "label"])
    w.writerows(
        [r["rank"], r["id"], repr(r["distance"]), "" if r["label"] is None else repr(r["label"])] for r in result.sorted
    )
    paths = [out / "sorted.csv", out / "sorted.json"]
    write_text_atomic(paths[0], buf.getvalue())
    write_text_atomic(paths[1], json.dumps({**result.summary, "sorted": result.sorted}, indent=2) + "\n")
    if strip_img is not None:
        paths.append(out / "strip.png")
        captions = [f"d={d[r]:+.3g}" + (f"\n{result.label_of[r]:.3g}" if r in result.label_of else "") for r in rows]
        title = f"{len(rows)} of {len(job.ids)} images sorted by distance along {result.direction}"
        strip_chart(paths[2], strip_img, captions, scale=scale, title=title)
    result.summary["outputs"] = [str(p) for p in paths]
    return paths


def strip_images(job: LatentJob, rows: list[int], images: list[str] | None) -> np.ndarray:
    """Strip images: read from the folder that was inverted, or rendered from the latents."""
    import torch

    from large_toolkit.io.images import to_uint8
    from large_toolkit.types import LatentSpace

    ids = [job.ids[r] for r in rows]
    if images:
        from large_toolkit.data.folders import match_ids, read_image_folder

        folder = read_image_folder(images, find_labels=False)
        try:
            return folder.images[match_ids(folder.ids, ids, "the strip")]
        except UserInputError:
            raise UserInputError(
                f"{', '.join(images)} has no image for some sorted ids", hint="pass the folder that was inverted"
            ) from None
    g = job.source.get()
    sub = job.latents[torch.as_tensor(rows)].to(g.device)
    with torch.no_grad():
        if sub.space is LatentSpace.S:
            out = g.synthesis_from_styles(sub.tensor.float())
        else:
            if sub.tensor.shape[-1] != g.w_dim:
                raise UserInputError(
                    f"latents have w_dim {sub.tensor.shape[-1]}, the generator {g.w_dim}",
                    hint="pass --backend/--checkpoint of the inverting generator, or --images",
                )
            out = g.synthesis(sub.to_wplus(g.num_ws).tensor.float())
    return np.ascontiguousarray(to_uint8(out.cpu().numpy()))
