"""``large-tk suggest-labels``: which images to label next, and (given candidates) which direction to use.

With one ``--direction`` it proposes ``--k`` images spread along the
distance (quantile picks; farthest-point picks when some are labelled), so
that a 2-label fit is as well constrained as it can be.  With several
directions (``--direction sefa:0-7`` or repeated) it first ranks them by
unsupervised scores, or by exact leave-one-out error when 3+ labels exist,
then advises for the best one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from large_toolkit.cli import options as opts
from large_toolkit.cli.output import note, print_json, print_table

EPILOG = (
    "Examples:\n\n"
    "  large-tk suggest-labels --latents lat.safetensors --direction sefa:3 --k 2\n\n"
    "  large-tk suggest-labels --latents lat.safetensors --direction sefa:0-7 --labels ten.csv --k 3 --json\n\n"
    "  large-tk suggest-labels --latents lat.safetensors --direction sefa:3 --label img4=0.2 --label img7=0.9 --k 2"
)


def install(app: typer.Typer) -> None:
    @app.command("suggest-labels", epilog=EPILOG)
    def suggest_cmd(
        latents: Annotated[Path, typer.Option(help="large-tk invert file, LARGE <id>.npy folder, export .npy/.csv.")],
        direction: Annotated[list[str], typer.Option(help="Direction spec; repeat or use sefa:0-7 to rank several.")],
        k: Annotated[int, typer.Option("--k", help="How many images to suggest.", min=1)] = 2,
        edge: Annotated[float, typer.Option(help="Skip this quantile at each end (inversion outliers).")] = 0.05,
        labels: Annotated[Path | None, typer.Option(help="CSV of labels you already have.")] = None,
        label_column: Annotated[str | None, typer.Option(help="Value column in --labels (if several).")] = None,
        label: Annotated[list[str] | None, typer.Option("--label", help="IMAGE_ID=VALUE already labelled.")] = None,
        backend: Annotated[str | None, opts.backend("Generator backend (finder specs).")] = None,
        checkpoint: Annotated[str | None, opts.checkpoint("Generator checkpoint (default: bundled demo).")] = None,
        layers: Annotated[str | None, typer.Option(help="Layer subset: all, 3, 2-5,8.")] = None,
        layer_weights: Annotated[Path | None, typer.Option(help="Per-layer weights (large-tk layers).")] = None,
        combine: Annotated[str, typer.Option(help="auto, mean, weighted or sum.")] = "auto",
        out: Annotated[Path | None, opts.out("Write suggestions.json here.")] = None,
        json_out: Annotated[bool, opts.json_output("Machine-readable output on stdout.")] = False,
    ) -> None:
        """Suggest which images to label first (and which direction fits best)."""
        import json

        import numpy as np

        from large_toolkit.cli.latent_inputs import (
            GeneratorSource,
            distances_for,
            expand_specs,
            feature_spec,
            labels_by_row,
            load_latent_file,
            resolve_one,
        )
        from large_toolkit.io.atomic import write_text_atomic
        from large_toolkit.regression.advice import rank_directions, suggest_labels
        from large_toolkit.regression.features import layer_distances, selected_layers
        from large_toolkit.types import LatentSpace

        source = GeneratorSource(backend, checkpoint)
        lat, ids = load_latent_file(latents, source)
        spec = feature_spec(layers, layer_weights, False, combine)
        lab = labels_by_row(ids, labels, label_column, label, min_labels=1)
        specs = expand_specs(direction)
        dirs = [resolve_one(s, source) for s in specs]
        scalars = [distances_for(lat, dv, spec, source) for dv in dirs]
        ranking = None
        best = 0
        if len(dirs) > 1:
            g = None
            if any(dv.space is LatentSpace.S for dv in dirs) and lat.space is not LatentSpace.S:
                g = source.get()
            per = []
            for dv in dirs:
                p = layer_distances(lat, dv, g)
                per.append(p[:, selected_layers(spec, dv, p.shape[1])])
            mean_codes, vecs = None, None
            if lat.space in (LatentSpace.W, LatentSpace.WPLUS) and all(dv.space is LatentSpace.W for dv in dirs):
                t = lat.tensor.double()
                mean_codes = (t.mean(1) if t.ndim == 3 else t).numpy()
                vecs = [dv.vector.double().numpy() for dv in dirs]
            use = lab is not None and lab[0].size >= 3
            scores = rank_directions(
                specs, per, scalars, mean_codes, vecs, lab[0] if use else None, lab[1] if use else None
            )
            ranking = [s.to_dict() for s in scores]
            best = specs.index(scores[0].name)
        advice = suggest_labels(scalars[best], k, lab[0].tolist() if lab is not None else None, edge)
        result = {
            "direction": specs[best],
            "ranking": ranking,
            "ranked_by": None
            if ranking is None
            else ("loo_mae" if ranking[0]["loo_mae"] is not None else "spread x layer_agreement"),
            "suggestions": advice.to_dict(ids),
        }
        paths: list[Path] = []
        if out is not None:
            paths = [out / "suggestions.json"]
            write_text_atomic(paths[0], json.dumps(result, indent=2, default=float) + "\n")
        result["outputs"] = [str(p) for p in paths]
        if json_out:
            print_json(result)
            return
        if ranking is not None:

            def f(v):
                return "-" if v is None or not np.isfinite(v) else f"{v:.4g}"

            print_table(
                f"directions ranked by {result['ranked_by']}",
                ["direction", "LOO MAE", "spread", "layer agreement", "bimodality"],
                [
                    (r["name"], f(r["loo_mae"]), f(r["spread"]), f(r["layer_agreement"]), f(r["bimodality"]))
                    for r in ranking
                ],
            )
        print_table(
            f"label these {k} images next ({specs[best]})",
            ["id", "distance", "quantile"],
            [
                (ids[r], f"{dd:.4g}", f"{q:.2f}")
                for r, dd, q in zip(advice.rows.tolist(), advice.distances, advice.quantiles, strict=True)
            ],
        )
        print(f"slope variance vs random picks: {1 / advice.efficiency:.3g}x (S_xx {advice.efficiency:.3g}x larger)")
        for p in paths:
            note(f"wrote {p}")
