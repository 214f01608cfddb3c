"""``large-tk data``: datasets.  ``data synth`` writes the procedural ground-truth demo set."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from large_toolkit.cli import options as opts
from large_toolkit.cli.output import print_json, print_table
from large_toolkit.data.factors import FACTORS
from large_toolkit.progress import make_progress

if TYPE_CHECKING:
    from large_toolkit.data.synth_folder import SynthResult

SYNTH_EPILOG = (
    "Examples:\n\n"
    "  large-tk data synth --n 10000 --out demo32\n\n"
    "  large-tk data synth --n 1000 --out test_set --seed 1\n\n"
    "  large-tk data synth --n 500 --out demo64 --resolution 64 --json\n\n"
    "  large-tk data synth --n 200 --out synth200 --format jpg\n\n"
    "Factors (labels.csv columns; px@32 = pixels of the 32x32 reference canvas):\n\n"
    + "\n\n".join(f"  {f.name}  ({f.unit}, {f.low:g} to {f.high:g})" for f in FACTORS)
)

Out = Annotated[Path, opts.out("Output folder (created; must be empty or new).")]
Count = Annotated[int, typer.Option("--n", min=1, help="Number of images.")]
Seed = Annotated[int, opts.seed("Random seed: same seed, same bytes.")]
Resolution = Annotated[int, typer.Option("--resolution", help="Image size: 16, 32, 64, 128 or 256.")]
Overwrite = Annotated[
    bool, typer.Option("--overwrite", help="Replace an existing dataset folder (PNGs + labels.csv only).")
]
ImageFormat = Annotated[str, typer.Option("--format", help="Image files: png (lossless) or jpg.")]
Json = Annotated[bool, opts.json_output("Machine-readable summary on stdout.")]


def synth(
    out: Out,
    n: Count = 10000,
    seed: Seed = 0,
    resolution: Resolution = 32,
    overwrite: Overwrite = False,
    image_format: ImageFormat = "png",
    json_out: Json = False,
) -> None:
    """Render a procedural portrait dataset with known ground truth: PNGs + labels.csv.

    Each image is a cartoon head on a lit backdrop drawn from eight continuous factors.

    Images are anti-aliased and deterministic: the same --seed gives the same bytes.

    labels.csv has an 'image' column then one column per factor.
    """
    from large_toolkit.data.synth_folder import SynthRequest, write_synthetic_folder

    request = SynthRequest(out, n, seed, resolution, overwrite, image_format)
    with make_progress() as bar:

        def stage(description: str, total: int) -> Callable[[int], None]:
            task = bar.add_task(description, total=total)
            return lambda k: bar.advance(task, k)

        result = write_synthetic_folder(request, stage)
    if json_out:
        print_json(result.summary())
    else:
        _print_synth(result)


def _print_synth(result: SynthResult) -> None:
    """The human summary: the factor ranges seen, then speed and where the labels are."""
    req, labels = result.request, result.dataset.labels
    print_table(
        f"wrote {req.n} images ({req.resolution}x{req.resolution}, seed {req.seed}) to {req.out}",
        ["factor", "unit", "low", "high", "min seen", "max seen"],
        [
            (f.name, f.unit, f"{f.low:g}", f"{f.high:g}", f"{labels[f.name].min():.3g}", f"{labels[f.name].max():.3g}")
            for f in result.dataset.factors
        ],
    )
    summary = result.summary()
    print(
        f"render {summary['render_images_per_second']:.0f} img/s; total {result.total_seconds:.1f} s; "
        f"labels in {summary['labels']}"
    )


def install(app: typer.Typer) -> None:
    data_app = typer.Typer(
        help="Datasets: write the procedural demo set, read image folders with labels.", no_args_is_help=True
    )
    app.add_typer(data_app, name="data")
    data_app.command("synth", epilog=SYNTH_EPILOG)(synth)
