"""``large-tk sort``: order images by their latent distance, no labels needed (the released ``sort.py``).

Writes the sorted ids (CSV + JSON) and a strip of evenly spaced (or
edge-weighted) images; with labels it reports how well the order agrees with
them (Spearman / Kendall).  Strip images come from ``--images`` or, by
default, are rendered from the latents by the generator.  The work is
:mod:`large_toolkit.regression.sort_job`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from large_toolkit.cli import options as opts
from large_toolkit.cli.output import note, print_json, print_table

EPILOG = opts.examples(
    "large-tk sort --latents lat.safetensors --direction sefa:3 --out runs/sorted",
    "large-tk sort --latents lat.safetensors --direction file:dirs.safetensors:2 --labels labels.csv "
    "--label-column light_intensity --json",
    "large-tk sort --latents lat.safetensors --direction sefa:3 --images demo32 --strip 12 --weighted-edges --out s",
)

Backend = Annotated[str | None, opts.backend("Generator backend (finder specs, strip rendering).")]
Combine = Annotated[str, typer.Option(help="auto (weighted / mean), mean, weighted or sum.")]
Descending = Annotated[bool, typer.Option(help="Largest distance first.")]
Labels = Annotated[Path | None, typer.Option(help="CSV of labels: report rank agreement.")]
Strip = Annotated[int, typer.Option(help="Images in the strip PNG (0: none).", min=0)]
WeightedEdges = Annotated[bool, typer.Option(help="A third of the strip from each 10% tail.")]
StripImages = Annotated[list[str] | None, opts.images("Images for the strip: folder, files or globs (else rendered).")]
Scale = Annotated[int, typer.Option(help="Upsample strip images this many times.", min=1)]


def sort_cmd(
    latents: opts.LatentFile,
    direction: opts.FileDirection,
    backend: Backend = None,
    checkpoint: opts.Checkpoint = None,
    force: opts.Force = False,
    class_idx: opts.ClassIdx = None,
    layers: opts.Layers = None,
    layer_weights: opts.LayerWeights = None,
    normalize_weights: opts.NormalizeWeights = False,
    combine: Combine = "auto",
    distance: opts.Distance = "per_layer",
    descending: Descending = False,
    labels: Labels = None,
    label_column: opts.LabelColumnNeeded = None,
    strip: Strip = 10,
    weighted_edges: WeightedEdges = False,
    images: StripImages = None,
    scale: Scale = 4,
    out: Annotated[Path | None, opts.out("Folder for sorted.csv, sorted.json, strip.png.")] = None,
    json_out: opts.Json = False,
) -> None:
    """Sort images by their signed distance to a direction (no labels needed)."""
    from large_toolkit.cli.latent_inputs import GeneratorSource, feature_spec
    from large_toolkit.regression.latent_job import open_latents
    from large_toolkit.regression.sort_job import sort_latents, write_sorted

    spec = feature_spec(layers, layer_weights, normalize_weights, combine, distance)
    job = open_latents(latents, GeneratorSource(backend, checkpoint, force, class_idx), spec, labels, label_column)
    result = sort_latents(job, direction, descending, strip, weighted_edges)
    if out is not None:
        write_sorted(result, job, out, images, scale)
    if json_out:
        print_json({**result.summary, "sorted": result.sorted if out is None else None})
        return
    rows = result.sorted
    shown = rows if len(rows) <= 20 else rows[:10] + rows[-10:]
    print_table(
        f"{len(rows)} images sorted by distance ({'first/last 10' if len(rows) > 20 else 'all'})",
        ["rank", "id", "distance", "label"],
        [(r["rank"], r["id"], f"{r['distance']:.4g}", r["label"]) for r in shown],
    )
    agreement = result.summary["agreement"]
    if agreement is not None and job.labels is not None:
        print(
            f"rank agreement with {len(job.labels[0])} labels: Spearman {agreement['spearman']:+.4f}, "
            f"Kendall {agreement['kendall']:+.4f}"
        )
    for p in result.summary["outputs"]:
        note(f"wrote {p}")


def install(app: typer.Typer) -> None:
    app.command("sort", epilog=EPILOG)(sort_cmd)
