"""``large-tk predict``: apply a regressor saved by ``regress -o DIR`` (or an ordinal model saved by
``ordinal -o DIR``) to new images or latents.

The model records its direction, feature settings, label column and units, and the generator's fingerprint;
latents from another generator are refused with one line.  Writes ``predictions.csv`` atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from large_toolkit.cli import options as opts
from large_toolkit.cli.output import note, print_json, print_table

EPILOG = (
    "Examples:\n\n"
    "  large-tk predict --model runs/age --latents new.safetensors -o new_ages.csv\n\n"
    "  large-tk predict --model runs/age/regressor.safetensors --images new_photos/ -o new_ages.csv --json\n\n"
    "  large-tk predict --model runs/ord --latents new.safetensors -o classes.csv      (an ordinal model)"
)


def install(app: typer.Typer) -> None:
    @app.command("predict", epilog=EPILOG)
    def predict_cmd(
        model: Annotated[
            Path,
            typer.Option(
                help="regressor.safetensors or ordinal_model.json (or the regress / ordinal -o folder holding it)."
            ),
        ],
        latents: Annotated[Path | None, typer.Option(help="Latent file with image ids (large-tk invert).")] = None,
        images: Annotated[list[str] | None, opts.images("Images to invert and score (folder, files, globs).")] = None,
        backend: Annotated[str, opts.backend("Generator backend for --images.")] = "stylegan2",
        checkpoint: Annotated[str | None, opts.checkpoint()] = None,
        inverter: Annotated[str, typer.Option(help="Inverter for --images (encoder, e4e, psp, optim).")] = "encoder",
        inverter_checkpoint: Annotated[str | None, typer.Option(help="Encoder weights for the inverter.")] = None,
        resize: Annotated[str, typer.Option(help="center-crop, fit or error (see regress).")] = "center-crop",
        batch_size: Annotated[int, opts.batch_size("Inversion batch size.")] = 64,
        out: Annotated[Path, opts.out("Output predictions.csv.")] = Path("predictions.csv"),
        json_out: Annotated[bool, opts.json_output()] = False,
    ) -> None:
        """Predict the label of new images (or latents) with a saved regressor."""
        from large_toolkit.cli.latent_inputs import GeneratorSource, load_latent_file
        from large_toolkit.errors import UserInputError
        from large_toolkit.io.atomic import write_text_atomic
        from large_toolkit.regression.predict import check_fingerprint, load_model, predict
        from large_toolkit.regression.run import predictions_csv

        if (latents is None) == (not images):
            raise UserInputError("give --latents FILE or --images (one of them)")
        saved = load_model(model)
        source = GeneratorSource(backend, checkpoint)
        generator = None
        if latents is not None:
            from large_toolkit.regression.predict import latent_fingerprint

            lat, ids = load_latent_file(latents)
            check_fingerprint(saved, latent_fingerprint(latents), f"the latents in {latents}")
        else:
            from large_toolkit.data.folders import read_image_folder
            from large_toolkit.latent_cache import invert_images
            from large_toolkit.plugins import get_host
            from large_toolkit.runner import Runner

            generator = source.get()
            check_fingerprint(saved, generator.fingerprint(), "the images (inverted with this --backend/--checkpoint)")
            folder = read_image_folder(
                list(images or []), find_labels=False, resolution=generator.resolution, resize=resize
            )
            if folder.note:
                note(folder.note)
            inv = (
                get_host()
                .inverter(inverter)
                .create(generator, checkpoint=inverter_checkpoint, device=str(generator.device))
            )
            lat, _ = invert_images(
                folder.images, generator, inv, "wplus", Runner(device=generator.device, batch_size=batch_size)
            )
            ids = folder.ids
        distances, predictions = predict(saved, lat, generator)
        if saved.is_ordinal:
            import csv
            import io

            buf = io.StringIO()
            writer = csv.writer(buf)
            writer.writerow(["id", "distance", "class"])
            writer.writerows([i, repr(float(d)), int(c)] for i, d, c in zip(ids, distances, predictions, strict=True))
            write_text_atomic(out, buf.getvalue())
        else:
            write_text_atomic(out, predictions_csv(ids, distances, predictions))
        column = saved.label_column + (f" ({saved.meta['units']})" if saved.meta.get("units") else "")
        summary = {
            "model": str(model),
            "label_column": saved.label_column,
            "units": saved.meta.get("units"),
            "direction": saved.meta.get("direction"),
            "n_images": len(ids),
            "out": str(out),
        }
        if json_out:
            print_json(summary)
            return
        print_table(
            f"predicted {column} for {len(ids)} images" + (" (first 20)" if len(ids) > 20 else ""),
            ["id", "distance", "prediction"],
            [(i, f"{d:.4g}", f"{p:.4g}") for i, d, p in list(zip(ids, distances, predictions, strict=True))[:20]],
        )
        note(f"wrote {out}")
