"""``large-tk suggest-labels``: which images to label next, and (given candidates) which direction to use.

With one ``--direction`` it proposes ``--k`` images spread along the
distance (quantile picks; farthest-point picks when some are labelled), so
that a 2-label fit is as well constrained as it can be.  With several
directions (``--direction sefa:0-7`` or repeated) it first ranks them by
unsupervised scores, or by exact leave-one-out error when 3+ labels exist,
then advises for the best one.  The work is :mod:`large_toolkit.regression.suggest_job`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from large_toolkit.cli import options as opts
from large_toolkit.cli.output import note, print_json, print_table

EPILOG = opts.examples(
    "large-tk suggest-labels --latents lat.safetensors --direction sefa:3 --k 2",
    "large-tk suggest-labels --latents lat.safetensors --direction sefa:0-7 --labels ten.csv --k 3 --json",
    "large-tk suggest-labels --latents lat.safetensors --direction sefa:3 --label img4=0.2 --label img7=0.9 --k 2",
)

Directions = Annotated[list[str], typer.Option(help="Direction spec; repeat or use sefa:0-7 to rank several.")]
K = Annotated[int, typer.Option("--k", help="How many images to suggest.", min=1)]
Edge = Annotated[float, typer.Option(help="Skip this quantile at each end (inversion outliers).")]
Labels = Annotated[Path | None, typer.Option(help="CSV of labels you already have.")]
LabelPairs = Annotated[list[str] | None, typer.Option("--label", help="IMAGE_ID=VALUE already labelled.")]
Out = Annotated[Path | None, opts.out("Write suggestions.json here.")]


@opts.option_group(opts.finder_features)
def suggest_cmd(
    latents: opts.LatentFile,
    direction: Directions,
    k: K = 2,
    edge: Edge = 0.05,
    labels: Labels = None,
    label_column: opts.LabelColumn = None,
    label: LabelPairs = None,
    out: Out = None,
    json_out: opts.JsonData = False,
    **common: Any,
) -> None:
    """Suggest which images to label first (and which direction fits best)."""
    import json

    from large_toolkit.cli.latent_inputs import expand_specs
    from large_toolkit.io.atomic import write_text_atomic
    from large_toolkit.regression.latent_job import open_latents
    from large_toolkit.regression.suggest_job import suggest

    source, spec = opts.finder_features(**common)
    job = open_latents(latents, source, spec, labels, label_column, label, min_labels=1)
    found = suggest(job, expand_specs(direction), k, edge)
    result = found.result
    paths = [] if out is None else [out / "suggestions.json"]
    for p in paths:
        write_text_atomic(p, json.dumps(result, indent=2, default=float) + "\n")
    result["outputs"] = [str(p) for p in paths]
    if json_out:
        print_json(result)
        return
    if found.ranking is not None:
        _print_ranking(found.ranking, result["ranked_by"])
    advice = found.advice
    print_table(
        f"label these {k} images next ({result['direction']})",
        ["id", "distance", "quantile"],
        [
            (job.ids[r], f"{dd:.4g}", f"{q:.2f}")
            for r, dd, q in zip(advice.rows.tolist(), advice.distances, advice.quantiles, strict=True)
        ],
    )
    print(f"slope variance vs random picks: {1 / advice.efficiency:.3g}x (S_xx {advice.efficiency:.3g}x larger)")
    for p in paths:
        note(f"wrote {p}")


def _print_ranking(ranking: list[dict[str, Any]], ranked_by: str) -> None:
    import numpy as np

    def f(v: float | None) -> str:
        return "-" if v is None or not np.isfinite(v) else f"{v:.4g}"

    print_table(
        f"directions ranked by {ranked_by}",
        ["direction", "LOO MAE", "spread", "layer agreement", "bimodality"],
        [(r["name"], f(r["loo_mae"]), f(r["spread"]), f(r["layer_agreement"]), f(r["bimodality"])) for r in ranking],
    )


def install(app: typer.Typer) -> None:
    app.command("suggest-labels", epilog=EPILOG)(suggest_cmd)
