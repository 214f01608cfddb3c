"""``large-tk data``: datasets.  ``data synth`` writes the procedural ground-truth demo set."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from large_toolkit.cli import options as opts
from large_toolkit.cli.output import print_json, print_table
from large_toolkit.data.factors import FACTORS
from large_toolkit.progress import make_progress

SYNTH_EPILOG = (
    "Examples:\n\n"
    "  large-tk data synth --n 10000 --out demo32\n\n"
    "  large-tk data synth --n 1000 --out test_set --seed 1\n\n"
    "  large-tk data synth --n 500 --out demo64 --resolution 64 --json\n\n"
    "  large-tk data synth --n 200 --out synth200 --format jpg\n\n"
    "Factors (labels.csv columns; px@32 = pixels of the 32x32 reference canvas):\n\n"
    + "\n\n".join(f"  {f.name}  ({f.unit}, {f.low:g} to {f.high:g})" for f in FACTORS)
)

_RESOLUTIONS = (16, 32, 64, 128, 256)


def install(app: typer.Typer) -> None:
    data_app = typer.Typer(
        help="Datasets: write the procedural demo set, read image folders with labels.", no_args_is_help=True
    )
    app.add_typer(data_app, name="data")

    @data_app.command("synth", epilog=SYNTH_EPILOG)
    def synth(
        out: Annotated[Path, opts.out("Output folder (created; must be empty or new).")],
        n: Annotated[int, typer.Option("--n", min=1, help="Number of images.")] = 10000,
        seed: Annotated[int, opts.seed("Random seed: same seed, same bytes.")] = 0,
        resolution: Annotated[int, typer.Option("--resolution", help="Image size: 16, 32, 64, 128 or 256.")] = 32,
        overwrite: Annotated[
            bool, typer.Option("--overwrite", help="Replace an existing dataset folder (PNGs + labels.csv only).")
        ] = False,
        image_format: Annotated[str, typer.Option("--format", help="Image files: png (lossless) or jpg.")] = "png",
        json_out: Annotated[bool, opts.json_output("Machine-readable summary on stdout.")] = False,
    ) -> None:
        """Render a procedural portrait dataset with known ground truth: PNGs + labels.csv.

        Each image is a cartoon head on a lit backdrop drawn from eight continuous factors.

        Images are anti-aliased and deterministic: the same --seed gives the same bytes.

        labels.csv has an 'image' column then one column per factor.
        """
        from large_toolkit.data.folders import check_output_folder, write_image_folder
        from large_toolkit.data.synthetic import generate
        from large_toolkit.errors import UserInputError
        from large_toolkit.validate import MAX_ITEMS, check_int_range

        check_int_range(n, "--n", 1, MAX_ITEMS)
        if image_format not in ("png", "jpg"):
            raise UserInputError(f"--format must be png or jpg, got {image_format!r}")
        if resolution not in _RESOLUTIONS:
            raise UserInputError(f"--resolution must be one of {', '.join(map(str, _RESOLUTIONS))}, got {resolution}")
        check_output_folder(out, overwrite)
        with make_progress() as bar:
            t0 = time.perf_counter()
            task = bar.add_task("rendering", total=n)
            dataset = generate(n, seed=seed, resolution=resolution, progress=lambda k: bar.advance(task, k))
            t_render = time.perf_counter() - t0
            task = bar.add_task(f"writing {image_format.upper()}s", total=n)
            write_image_folder(
                out,
                dataset.images,
                dataset.labels,
                overwrite=overwrite,
                progress=lambda k: bar.advance(task, k),
                image_format=image_format,
            )
            t_total = time.perf_counter() - t0
        summary = {
            "out": str(out),
            "n": n,
            "seed": seed,
            "resolution": resolution,
            "labels": str(out / "labels.csv"),
            "factors": [f.to_dict() for f in dataset.factors],
            "render_seconds": round(t_render, 3),
            "total_seconds": round(t_total, 3),
            "render_images_per_second": round(n / max(t_render, 1e-9), 1),
        }
        if json_out:
            print_json(summary)
            return
        print_table(
            f"wrote {n} images ({resolution}x{resolution}, seed {seed}) to {out}",
            ["factor", "unit", "low", "high", "min seen", "max seen"],
            [
                (
                    f.name,
                    f.unit,
                    f"{f.low:g}",
                    f"{f.high:g}",
                    f"{dataset.labels[f.name].min():.3g}",
                    f"{dataset.labels[f.name].max():.3g}",
                )
                for f in dataset.factors
            ],
        )
        print(
            f"render {summary['render_images_per_second']:.0f} img/s; total {t_total:.1f} s; "
            f"labels in {summary['labels']}"
        )
