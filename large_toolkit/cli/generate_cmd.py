"""``large-tk generate``: render images from seeds with any generator backend (a core command)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from large_toolkit.cli import options

EPILOG = options.examples(
    "large-tk generate --seeds 0-7 --out grid.png                      (the default backend's bundled model)",
    "large-tk generate --checkpoint ffhq.pkl --seeds 0-7 --psi 0.7 --out grid.png",
    "large-tk generate --backend stylegan3 --checkpoint r.pkl --translate 0.1,0 --out frames/",
    "large-tk generate --checkpoint cifar10.pkl --class-idx 3 --seeds 0-15 --out raw.npy --json",
    note="Without --backend, the backend that recognises --checkpoint is used (see docs/plugins.md).  "
    "Seeds follow NVIDIA's generate.py: seed s gives z = numpy.random.RandomState(s).randn(1, z_dim).",
)


def install(app: typer.Typer) -> None:
    @app.command("generate", epilog=EPILOG)
    def generate(
        out: Annotated[Path, options.out("grid.png, a folder/ (one PNG per seed) or x.npy (float32 NCHW).")],
        backend: Annotated[str | None, options.backend()] = None,
        checkpoint: Annotated[str | None, options.checkpoint()] = None,
        seeds: Annotated[str, typer.Option("--seeds", help="Seeds: 0-7, 1,5,9 or 0-3,10.")] = "0-7",
        psi: Annotated[float, options.psi()] = 1.0,
        trunc: Annotated[float | None, typer.Option("--trunc", hidden=True, help="Deprecated: --psi.")] = None,
        trunc_cutoff: Annotated[
            int | None, typer.Option("--trunc-cutoff", help="Truncate only the first K W+ rows.")
        ] = None,
        noise_mode: Annotated[str, typer.Option("--noise-mode", help="const, none or random.")] = "const",
        class_idx: options.ClassIdx = None,
        batch_size: Annotated[int, options.batch_size()] = 8,
        translate: Annotated[
            str | None, typer.Option("--translate", help="X,Y shift in image widths (needs an input transform).")
        ] = None,
        rotate: Annotated[
            float | None, typer.Option("--rotate", help="Degrees counter-clockwise (needs an input transform).")
        ] = None,
        json_out: Annotated[bool, options.json_output()] = False,
    ) -> None:
        """Render images from seeds with any generator backend (NVIDIA generate.py seed convention)."""
        from large_toolkit.cli.output import note, print_json
        from large_toolkit.cli.state import OPTIONS
        from large_toolkit.generators import resolve_generator
        from large_toolkit.rendering import RenderSettings, parse_translate, render_seeds, write_images
        from large_toolkit.runner import parse_seeds
        from large_toolkit.validate import check_generate_options

        seed_list = parse_seeds(seeds)
        settings = RenderSettings(
            psi if trunc is None else trunc, trunc_cutoff, noise_mode, None, parse_translate(translate), rotate,
            batch_size,
        )  # fmt: skip
        check_generate_options(settings.psi, seed_list, out)
        gen = resolve_generator(backend, checkpoint, OPTIONS.device, class_idx)
        images = render_seeds(gen, seed_list, settings)
        written = write_images(images, seed_list, out)
        summary = {
            "backend": gen.name,
            "checkpoint": checkpoint,
            "seeds": seed_list,
            "psi": settings.psi,
            "trunc_cutoff": trunc_cutoff,
            "noise_mode": noise_mode,
            "class_idx": class_idx,
            "translate": None if settings.translate is None else list(settings.translate),
            "rotate": rotate,
            "shape": list(images.shape),
            "outputs": written,
            "fingerprint": gen.fingerprint(),
        }
        if json_out:
            print_json(summary)
        else:
            note(f"wrote {len(seed_list)} image(s) to {out}")
