"""``large-tk export latents``: hand our latents to other tools (the official LARGE scripts first).

``--format large`` writes the folder the official ``train_regression_model.py`` / ``sort.py`` read
(``--data-path``, ``--latent_file_ext .npy``): one float32 ``<id>.npy`` per image.  ``npy`` is one
stacked array (ids beside it in ``<name>.ids.txt``), ``csv`` one row per image.  The input is a
latent file from ``large-tk invert`` or a LARGE folder, so files move both ways; ``--latents``
reads all three forms back.  None of them carries the generator fingerprint (the ``.safetensors``
file does), which ``--help`` says and a note repeats when they are read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from large_toolkit.cli import options
from large_toolkit.cli.output import print_json

FORMATS = ("large", "npy", "csv")
EPILOG = (
    "Examples:\n\n"
    "  large-tk export latents lat.safetensors --format large -o large_latents/\n\n"
    "  python train_regression_model.py --data-path large_latents --latent_file_ext .npy ...   (official LARGE)\n\n"
    "  large-tk export latents large_latents/ --format npy -o codes.npy        (also writes codes.ids.txt)\n\n"
    "  large-tk export latents lat.safetensors --format csv -o codes.csv --json\n\n"
    "  large-tk regress --latents codes.npy --labels labels.csv --direction file:dirs.safetensors   (read back)\n\n"
    "Provenance: none of these forms carries the generator fingerprint that the .safetensors latent file "
    "records, and a .npy stack not even the latent space. Reading them back (--latents FOLDER|.npy|.csv) "
    "takes [N, w_dim] as W and [N, num_ws, w_dim] as W+ (CSV headers l<layer>_v<c> keep W+) and prints a note; "
    "keep the .safetensors file to have large-tk check the generator. StyleSpace exports (npy, csv) are one-way."
)


def install(app: typer.Typer) -> None:
    export = typer.Typer(help="Write large-tk data in other tools' formats.", no_args_is_help=True)
    app.add_typer(export, name="export")

    @export.command("latents", epilog=EPILOG)
    def export_latents(
        source: Annotated[Path, typer.Argument(help="Latent file (large-tk invert) or a LARGE folder of <id>.npy.")],
        fmt: Annotated[str, typer.Option("--format", help="large (folder of <id>.npy), npy (stack) or csv.")],
        out: Annotated[Path, options.out("Output folder (large) or file (npy, csv).")],
        json_out: Annotated[bool, options.json_output("Print what was written as JSON.")] = False,
    ) -> None:
        """Export latent codes with their image ids (LARGE's folder layout, a .npy stack or CSV)."""
        from large_toolkit.cli.latent_inputs import load_latent_file
        from large_toolkit.errors import UserInputError
        from large_toolkit.io.atomic import write_text_atomic
        from large_toolkit.io.large_latents import write_csv, write_large_folder, write_npy_stack

        if fmt not in FORMATS:
            raise UserInputError(f"unknown --format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
        lat, ids = load_latent_file(source)
        written: list[Path] = []
        if fmt == "large":
            written.append(write_large_folder(out, lat, ids))
        elif fmt == "npy":
            if out.suffix != ".npy":
                raise UserInputError(f"-o {out} must end in .npy for --format npy")
            ids_path = out.with_suffix(".ids.txt")
            written.append(write_npy_stack(out, lat))
            write_text_atomic(ids_path, "".join(f"{i}\n" for i in ids))
            written.append(ids_path)
        else:
            written.append(write_csv(out, lat, ids))
        shape = list(lat.tensor.shape)
        if json_out:
            print_json({"format": fmt, "space": lat.space.value, "shape": shape, "outputs": [str(p) for p in written]})
            return
        print(f"{len(ids)} {lat.space.value} latents {shape[1:]} -> {', '.join(str(p) for p in written)}")
