"""``large-tk layers``: which generator layers carry a direction (the released importance study).

Runs the gradient-based layer/channel importance on ``--backend/--checkpoint``
(default: the bundled demo generator) and writes ``layer_weights.txt``
(what ``regress/sort --layer-weights`` read), safetensors copies, a JSON
summary and a bar chart.  With ``--latents`` and ``--labels`` it also reports
per-layer linearity (R² of label vs each layer's distance) with its own chart.
The work is :mod:`large_toolkit.regression.layers_job`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from large_toolkit.cli import options as opts
from large_toolkit.cli.output import note, print_json, print_table

EPILOG = opts.examples(
    "large-tk layers --direction sefa:3 --out runs/layers",
    "large-tk layers --backend stylegan2 --checkpoint ffhq.pkl --direction file:pose.npy --space s --out w",
    "large-tk layers --direction sefa:3 --latents lat.safetensors --labels labels.csv "
    "--label-column light_intensity --out runs/layers --json",
    "then: large-tk regress ... --layer-weights runs/layers/layer_weights.txt",
)

Direction = Annotated[str, typer.Option(help="W/W+ direction: sefa:3, file:DIRS.safetensors:2, ...")]
Space = Annotated[str, typer.Option(help="wplus (released default) or s.")]
RandomSamples = Annotated[int, typer.Option(help="Random pairs (normalisation pass).", min=1)]
EditSamples = Annotated[int, typer.Option(help="Edit pairs along the direction.", min=1)]
MaxStep = Annotated[float, typer.Option(help="Edit steps drawn from U(max/2, max).")]
SkipImportance = Annotated[bool, typer.Option(help="Only the per-layer R² study.")]
StudyLatents = Annotated[Path | None, typer.Option(help="Latents for the per-layer R² study.")]
StudyLabels = Annotated[Path | None, typer.Option(help="Labels CSV for the per-layer R² study.")]


def layers_cmd(
    direction: Direction,
    backend: Annotated[str | None, opts.backend()] = None,
    checkpoint: opts.Checkpoint = None,
    force: opts.Force = False,
    class_idx: opts.ClassIdx = None,
    space: Space = "wplus",
    random_samples: RandomSamples = 100,
    edit_samples: EditSamples = 100,
    max_step: MaxStep = 5.0,
    truncation: Annotated[float, opts.psi("Truncation psi for rendering (released: 0.5).")] = 0.5,
    seed: Annotated[int, opts.seed("Seed (released: 8).")] = 8,
    batch_size: Annotated[int, opts.batch_size("Pairs per backward pass.")] = 16,
    skip_importance: SkipImportance = False,
    latents: StudyLatents = None,
    labels: StudyLabels = None,
    label_column: opts.LabelColumnNeeded = None,
    out: Annotated[Path | None, opts.out("Folder for weights, JSON and PNG charts.")] = None,
    json_out: opts.Json = False,
) -> None:
    """Per-layer importance of a direction (gradient study) and per-layer linearity (R²)."""
    from large_toolkit.cli.latent_inputs import GeneratorSource
    from large_toolkit.errors import UserInputError
    from large_toolkit.progress import make_progress
    from large_toolkit.regression.latent_job import open_latents
    from large_toolkit.regression.layers_job import ImportanceSettings, layer_study, write_layer_study
    from large_toolkit.types import LatentSpace

    if (latents is None) != (labels is None):
        given, missing = ("--latents", "--labels") if labels is None else ("--labels", "--latents")
        raise UserInputError(
            f"the per-layer R² study needs both --latents and --labels; {given} was given alone",
            hint=f"add {missing}, or drop {given} for the gradient study only",
        )
    if skip_importance and latents is None:
        raise UserInputError("--skip-importance leaves nothing to do", hint="add --latents and --labels")
    LatentSpace.parse(space)
    source = GeneratorSource(backend, checkpoint, force, class_idx)
    job = None if latents is None else open_latents(latents, source, None, labels, label_column, min_labels=3)
    knobs = ImportanceSettings(space, random_samples, edit_samples, max_step, truncation, seed, batch_size)
    with make_progress(disable=skip_importance) as bar:
        task = bar.add_task("gradient pairs", total=random_samples + edit_samples)
        study = layer_study(direction, source, None if skip_importance else knobs, job, lambda k: bar.advance(task, k))
    paths = write_layer_study(study, source, out) if out is not None else []
    study.result["outputs"] = [str(p) for p in paths]
    if json_out:
        print_json(study.result)
        return
    _print_study(study, f"{random_samples}+{edit_samples}")
    for p in paths:
        note(f"wrote {p}")


def _print_study(study: Any, pairs: str) -> None:
    imp, direction = study.importance, study.result["direction"]
    if imp is not None:
        total = float(imp.layer_weights.sum())
        print_table(
            f"layer importance of {direction} ({imp.space}, {pairs} pairs)",
            ["layer", "weight", "normalised"],
            [(n, f"{w:.4g}", f"{w / total:.3f}") for n, w in zip(imp.layer_names, imp.layer_weights, strict=True)],
        )
    ln = study.result.get("linearity")
    if ln is not None:
        print_table(
            f"per-layer linearity ({ln['n_labels']} labels)",
            ["layer", "R²", "r"],
            [(n, f"{r2:.3f}", f"{r:+.3f}") for n, r2, r in zip(ln["layers"], ln["r2"], ln["r"], strict=True)],
        )


def install(app: typer.Typer) -> None:
    app.command("layers", epilog=EPILOG)(layers_cmd)
