"""``large-tk predict``: apply a regressor saved by ``regress -o DIR`` (or an ordinal model saved by
``ordinal -o DIR``) to new images or latents.

The model records its direction, feature settings, label column and units, and the generator's fingerprint;
latents from another generator are refused with one line (``--force``: a warning line).  Writes
``predictions.csv`` atomically.  The work is :func:`large_toolkit.regression.predict.predict_new`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from large_toolkit.cli import options as opts
from large_toolkit.cli.output import note, print_json, print_table

EPILOG = opts.examples(
    "large-tk predict --model runs/age --latents new.safetensors -o new_ages.csv",
    "large-tk predict --model runs/age/regressor.safetensors --images new_photos/ -o new_ages.csv --json",
    "large-tk predict --model runs/ord --latents new.safetensors -o classes.csv      (an ordinal model)",
)

Model = Annotated[
    Path,
    typer.Option(help="regressor.safetensors or ordinal_model.json (or the regress / ordinal -o folder holding it)."),
]
NewLatents = Annotated[Path | None, typer.Option(help="Latent file with image ids (large-tk invert).")]
NewImages = Annotated[list[str] | None, opts.images("Images to invert and score (folder, files, globs).")]
Resize = Annotated[str, typer.Option(help="center-crop, fit or error (see regress).")]


def predict_cmd(
    model: Model,
    latents: NewLatents = None,
    images: NewImages = None,
    backend: Annotated[str, opts.backend("Generator backend for --images.")] = "stylegan2",
    checkpoint: opts.Checkpoint = None,
    force: opts.Force = False,
    class_idx: opts.ClassIdx = None,
    inverter: opts.Inverter = "encoder",
    inverter_checkpoint: opts.InverterCheckpoint = None,
    resize: Resize = "center-crop",
    batch_size: opts.InversionBatch = 64,
    out: Annotated[Path, opts.out("Output predictions.csv.")] = Path("predictions.csv"),
    json_out: opts.Json = False,
) -> None:
    """Predict the label of new images (or latents) with a saved regressor."""
    from large_toolkit.cli.latent_inputs import GeneratorSource
    from large_toolkit.regression.predict import predict_new, write_predictions

    source = GeneratorSource(backend, checkpoint, force, class_idx)
    result = predict_new(
        model, latents, images, source=source, inverter=inverter, inverter_checkpoint=inverter_checkpoint,
        resize=resize, batch_size=batch_size, force=force,
    )  # fmt: skip
    for line in result.notes:
        note(line)
    write_predictions(result, out)
    saved, ids = result.model, result.ids
    if json_out:
        print_json(
            {
                "model": str(model),
                "label_column": saved.label_column,
                "units": saved.meta.get("units"),
                "direction": saved.meta.get("direction"),
                "n_images": len(ids),
                "out": str(out),
            }
        )
        return
    column = saved.label_column + (f" ({saved.meta['units']})" if saved.meta.get("units") else "")
    shown = list(zip(ids, result.distances, result.predictions, strict=True))[:20]
    print_table(
        f"predicted {column} for {len(ids)} images" + (" (first 20)" if len(ids) > 20 else ""),
        ["id", "distance", "prediction"],
        [(i, f"{d:.4g}", f"{p:.4g}") for i, d, p in shown],
    )
    note(f"wrote {out}")


def install(app: typer.Typer) -> None:
    app.command("predict", epilog=EPILOG)(predict_cmd)
