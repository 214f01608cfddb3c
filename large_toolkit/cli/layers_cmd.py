"""``large-tk layers``: which generator layers carry a direction (the released importance study).

Runs the gradient-based layer/channel importance on ``--backend/--checkpoint``
(default: the bundled demo generator) and writes ``layer_weights.txt``
(what ``regress/sort --layer-weights`` read), safetensors copies, a JSON
summary and a bar chart.  With ``--latents`` and ``--labels`` it also reports
per-layer linearity (R² of label vs each layer's distance) with its own chart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from large_toolkit.cli import options as opts
from large_toolkit.cli.output import note, print_json, print_table

EPILOG = (
    "Examples:\n\n"
    "  large-tk layers --direction sefa:3 --out runs/layers\n\n"
    "  large-tk layers --backend stylegan2 --checkpoint ffhq.pkl --direction file:pose.npy --space s --out w\n\n"
    "  large-tk layers --direction sefa:3 --latents lat.safetensors --labels labels.csv "
    "--label-column light_intensity --out runs/layers --json\n\n"
    "  then: large-tk regress ... --layer-weights runs/layers/layer_weights.txt"
)


def install(app: typer.Typer) -> None:
    @app.command("layers", epilog=EPILOG)
    def layers_cmd(
        direction: Annotated[str, typer.Option(help="W/W+ direction: sefa:3, file:DIRS.safetensors:2, ...")],
        backend: Annotated[str | None, opts.backend()] = None,
        checkpoint: Annotated[str | None, opts.checkpoint()] = None,
        space: Annotated[str, typer.Option(help="wplus (released default) or s.")] = "wplus",
        random_samples: Annotated[int, typer.Option(help="Random pairs (normalisation pass).", min=1)] = 100,
        edit_samples: Annotated[int, typer.Option(help="Edit pairs along the direction.", min=1)] = 100,
        max_step: Annotated[float, typer.Option(help="Edit steps drawn from U(max/2, max).")] = 5.0,
        truncation: Annotated[float, opts.psi("Truncation psi for rendering (released: 0.5).")] = 0.5,
        seed: Annotated[int, opts.seed("Seed (released: 8).")] = 8,
        batch_size: Annotated[int, opts.batch_size("Pairs per backward pass.")] = 16,
        skip_importance: Annotated[bool, typer.Option(help="Only the per-layer R² study.")] = False,
        latents: Annotated[Path | None, typer.Option(help="Latents for the per-layer R² study.")] = None,
        labels: Annotated[Path | None, typer.Option(help="Labels CSV for the per-layer R² study.")] = None,
        label_column: Annotated[
            str | None, typer.Option(help="Value column in --labels (needed when it has several).")
        ] = None,
        out: Annotated[Path | None, opts.out("Folder for weights, JSON and PNG charts.")] = None,
        json_out: Annotated[bool, opts.json_output()] = False,
    ) -> None:
        """Per-layer importance of a direction (gradient study) and per-layer linearity (R²)."""
        import json

        import numpy as np

        from large_toolkit.analysis.importance import gradient_importance, layer_linearity, module_map, save_importance
        from large_toolkit.cli.latent_inputs import (
            GeneratorSource,
            labels_by_row,
            load_latent_file,
            progress_bar,
            resolve_one,
        )
        from large_toolkit.errors import UserInputError
        from large_toolkit.io.atomic import write_text_atomic
        from large_toolkit.regression.features import layer_distances, layer_names
        from large_toolkit.regression.plots import bar_chart, layer_labels
        from large_toolkit.types import LatentSpace

        if (latents is None) != (labels is None):
            raise UserInputError("the per-layer R² study needs both --latents and --labels")
        if skip_importance and latents is None:
            raise UserInputError("--skip-importance leaves nothing to do", hint="add --latents and --labels")
        LatentSpace.parse(space)
        source = GeneratorSource(backend, checkpoint)
        lat = lab = None
        if latents is not None:
            lat, ids = load_latent_file(latents, source)
            lab = labels_by_row(ids, labels, label_column, None, min_labels=3)
        dv = resolve_one(direction, source)
        result: dict = {"direction": direction}
        imp = None
        if not skip_importance:
            g = source.get()
            with progress_bar() as bar:
                task = bar.add_task("gradient pairs", total=random_samples + edit_samples)
                imp = gradient_importance(
                    g,
                    dv,
                    space=space,
                    random_samples=random_samples,
                    edit_samples=edit_samples,
                    max_step=max_step,
                    truncation=truncation,
                    seed=seed,
                    batch_size=batch_size,
                    progress=lambda k: bar.advance(task, k),
                )
            result["importance"] = imp.to_dict()
        lin = None
        if lat is not None and lab is not None:
            need_g = dv.space is LatentSpace.S and lat.space is not LatentSpace.S
            per = layer_distances(lat, dv, source.get() if need_g else None)
            lin = layer_linearity(per[lab[0]], lab[1])
            names = layer_names(lat, dv)
            result["linearity"] = {
                "layers": names,
                "r2": lin["r2"].tolist(),
                "r": lin["r"].tolist(),
                "best_layer": names[int(np.argmax(lin["r2"]))],
                "n_labels": int(lab[0].size),
            }
        paths: list[Path] = []
        if out is not None:
            if imp is not None:
                paths += save_importance(imp, out)
            if lin is not None:
                out.mkdir(parents=True, exist_ok=True)
                paths += [out / "linearity.json", out / "linearity.png"]
                write_text_atomic(paths[-2], json.dumps(result["linearity"], indent=2) + "\n")
                modules = module_map(source.get()) if dv.space is not LatentSpace.S else None
                bar_chart(
                    paths[-1],
                    lin["r2"],
                    layer_labels(result["linearity"]["layers"], modules),
                    title=f"per-layer linearity of {direction} ({result['linearity']['n_labels']} labels)",
                    ylabel="R² of label vs the layer's distance",
                )
        result["outputs"] = [str(p) for p in paths]
        if json_out:
            print_json(result)
            return
        if imp is not None:
            total = float(imp.layer_weights.sum())
            print_table(
                f"layer importance of {direction} ({imp.space}, {random_samples}+{edit_samples} pairs)",
                ["layer", "weight", "normalised"],
                [(n, f"{w:.4g}", f"{w / total:.3f}") for n, w in zip(imp.layer_names, imp.layer_weights, strict=True)],
            )
        if lin is not None:
            ln = result["linearity"]
            print_table(
                f"per-layer linearity ({ln['n_labels']} labels)",
                ["layer", "R²", "r"],
                [(n, f"{r2:.3f}", f"{r:+.3f}") for n, r2, r in zip(ln["layers"], ln["r2"], ln["r"], strict=True)],
            )
        for p in paths:
            note(f"wrote {p}")
