"""``large-tk convert``: any backend's checkpoint -> safetensors (a core command)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from large_toolkit.cli import options

EPILOG = options.examples(
    "large-tk convert ffhq.pkl ffhq.safetensors",
    "large-tk convert stylegan2-ffhq-config-f.pt ffhq.safetensors   (rosinality)",
    "large-tk convert e4e_ffhq_encode.pt decoder.safetensors        (the e4e/pSp decoder)",
    "large-tk convert --backend stylegan3 r.pkl r.safetensors --json",
)


def install(app: typer.Typer) -> None:
    @app.command("convert", epilog=EPILOG)
    def convert(
        checkpoint: Annotated[str, typer.Argument(help="Source checkpoint (.pkl, .pt, .safetensors).")],
        out: Annotated[Path, typer.Argument(help="Destination .safetensors file.")],
        backend: Annotated[str | None, options.backend("Backend that reads the source (default: by file).")] = None,
        json_out: Annotated[bool, options.json_output()] = False,
    ) -> None:
        """Convert a checkpoint to safetensors (tensors + JSON config; loads without any pickle)."""
        from large_toolkit.cli.output import note, print_json
        from large_toolkit.errors import UserInputError
        from large_toolkit.generators import load_model
        from large_toolkit.interfaces import Capability

        if out.suffix.lower() != ".safetensors":
            raise UserInputError(f"output {out} must end in .safetensors")
        gen = load_model(backend, checkpoint, "cpu")
        gen.require(Capability.EXPORT, "large-tk convert")
        gen.save_safetensors(out)
        info = {"checkpoint": checkpoint, "out": str(out), "backend": gen.name, **gen.describe()}
        info.pop("style_layers", None)
        if json_out:
            print_json(info)
        else:
            note(
                f"wrote {out} ({gen.resolution}px, {len(gen.state_tensors())} tensors, fingerprint {gen.fingerprint()})"
            )
