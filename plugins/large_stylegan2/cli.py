"""``large-tk generate`` and ``large-tk convert`` (generic over backends; added by this plugin).

Torch and models are imported inside the command bodies so ``large-tk --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

GENERATE_EPILOG = (
    "Examples:\n\n"
    "  large-tk generate --backend stylegan2 --checkpoint ffhq.pkl --seeds 0-7 --trunc 0.7 --out grid.png\n\n"
    "  large-tk generate --checkpoint ffhq.pkl --seeds 1,5,9 --noise-mode none --out frames/\n\n"
    "  large-tk generate --checkpoint cifar10.pkl --class-idx 3 --seeds 0-15 --out raw.npy --json\n\n"
    "Seeds follow NVIDIA's generate.py: seed s gives z = numpy.random.RandomState(s).randn(1, z_dim)."
)
CONVERT_EPILOG = (
    "Examples:\n\n"
    "  large-tk convert ffhq.pkl ffhq.safetensors\n\n"
    "  large-tk convert stylegan2-ffhq-config-f.pt ffhq.safetensors   (rosinality)\n\n"
    "  large-tk convert e4e_ffhq_encode.pt decoder.safetensors        (the e4e/pSp decoder)"
)


def _seed_latents(seeds: list[int], z_dim: int) -> Any:
    import numpy as np

    return np.concatenate([np.random.RandomState(s).randn(1, z_dim) for s in seeds]).astype(np.float32)


def _write_outputs(images: Any, seeds: list[int], out: Path) -> list[str]:
    """``.npy``: raw float32 NCHW; ``.png``: one grid; anything else: a folder of ``seedNNNN.png``."""
    import numpy as np

    from large_toolkit.io.atomic import atomic_path
    from large_toolkit.io.images import make_grid, to_uint8, write_image

    suffix = out.suffix.lower()
    if suffix == ".npy":
        with atomic_path(out) as tmp, tmp.open("wb") as handle:
            np.save(handle, images.astype(np.float32))
        return [str(out)]
    pixels = to_uint8(images)
    if suffix == ".png":
        write_image(out, make_grid(pixels))
        return [str(out)]
    if out.suffix:
        from large_toolkit.errors import UserInputError

        raise UserInputError(
            f"--out {out}: unknown output type {out.suffix!r}", hint="use a .png grid, a .npy file or a folder"
        )
    written = []
    for seed, img in zip(seeds, pixels, strict=True):
        path = out / f"seed{seed:04d}.png"
        write_image(path, img)
        written.append(str(path))
    return written


def _parse_translate(text: str | None) -> tuple[float, float] | None:
    """``--translate X,Y`` -> ``(x, y)`` (image-width units, as NVIDIA's gen_images.py)."""
    if text is None:
        return None
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        return float(parts[0]), float(parts[1])
    except ValueError:
        from large_toolkit.errors import UserInputError

        raise UserInputError(f"bad --translate {text!r}", hint="use two numbers X,Y, e.g. 0.1,-0.05") from None


def install(app: typer.Typer) -> None:
    @app.command("generate", epilog=GENERATE_EPILOG)
    def generate(
        out: Annotated[
            Path, typer.Option("--out", "-o", help="grid.png, a folder/ (one PNG per seed) or x.npy (float32 NCHW).")
        ],
        checkpoint: Annotated[
            str | None, typer.Option("--checkpoint", "-c", help="Model file (.pkl, .pt, .safetensors).")
        ] = None,
        backend: Annotated[
            str, typer.Option("--backend", "-b", help="Generator backend (see `large-tk plugins`).")
        ] = "stylegan2",
        seeds: Annotated[str, typer.Option("--seeds", help="Seeds: 0-7, 1,5,9 or 0-3,10.")] = "0-7",
        trunc: Annotated[float, typer.Option("--trunc", help="Truncation psi (1 = none).")] = 1.0,
        trunc_cutoff: Annotated[
            int | None, typer.Option("--trunc-cutoff", help="Truncate only the first K W+ rows.")
        ] = None,
        noise_mode: Annotated[
            str, typer.Option("--noise-mode", help="const, none or random (seeded from each batch's first seed).")
        ] = "const",
        class_idx: Annotated[
            int | None, typer.Option("--class-idx", help="Class label for conditional models.")
        ] = None,
        batch_size: Annotated[int, typer.Option("--batch-size", help="Images per forward pass.")] = 8,
        json_out: Annotated[bool, typer.Option("--json", help="Print a JSON summary on stdout.")] = False,
        translate: Annotated[
            str | None,
            typer.Option("--translate", help="X,Y shift in image widths (StyleGAN3; gen_images.py convention)."),
        ] = None,
        rotate: Annotated[
            float | None, typer.Option("--rotate", help="Rotation in degrees, counter-clockwise (StyleGAN3).")
        ] = None,
    ) -> None:
        """Render images from seeds with any generator backend (NVIDIA generate.py seed convention)."""
        import torch

        from large_toolkit.cli.output import note, print_json
        from large_toolkit.cli.state import OPTIONS
        from large_toolkit.errors import UserInputError
        from large_toolkit.plugins import load_generator
        from large_toolkit.runner import parse_seeds
        from large_toolkit.validate import check_generate_options

        seed_list = parse_seeds(seeds)
        check_generate_options(trunc, seed_list, out)
        if noise_mode not in ("const", "none", "random"):
            raise UserInputError(f"unknown noise mode {noise_mode!r}", hint="use const, none or random")
        if batch_size < 1:
            raise UserInputError(f"--batch-size must be >= 1, got {batch_size}")
        shift = _parse_translate(translate)
        gen = load_generator(backend, checkpoint, OPTIONS.device)
        if shift is not None or rotate is not None:
            set_transform = getattr(gen, "set_input_transform", None)
            if set_transform is None:
                raise UserInputError(
                    f"backend {backend!r} has no input transform",
                    hint="--translate/--rotate need a backend with one, e.g. --backend stylegan3",
                )
            set_transform(shift or (0.0, 0.0), rotate or 0.0)
        c = None
        if gen.c_dim:
            if class_idx is None:
                raise UserInputError(f"this model is class-conditional ({gen.c_dim} classes)", hint="pass --class-idx")
            if not 0 <= class_idx < gen.c_dim:
                raise UserInputError(f"--class-idx {class_idx} is out of range", hint=f"use 0-{gen.c_dim - 1}")
            c = torch.zeros(1, gen.c_dim)
            c[0, class_idx] = 1
        elif class_idx is not None:
            note("warning: --class-idx ignored: the model is unconditional")
        z_all = torch.from_numpy(_seed_latents(seed_list, gen.z_dim))
        chunks = []
        with torch.no_grad():
            for i in range(0, len(seed_list), batch_size):
                z = z_all[i : i + batch_size].to(gen.device)
                cc = None if c is None else c.repeat(z.shape[0], 1).to(gen.device)
                ws = gen.mapping(z, cc, psi=trunc, trunc_cutoff=trunc_cutoff)
                torch.manual_seed(seed_list[i])  # --noise-mode random: same seeds + batch size, same images
                chunks.append(gen.synthesis(ws, noise_mode=noise_mode).float().cpu())
        images = torch.cat(chunks).numpy()
        written = _write_outputs(images, seed_list, out)
        summary = {
            "backend": backend,
            "checkpoint": checkpoint,
            "seeds": seed_list,
            "trunc": trunc,
            "trunc_cutoff": trunc_cutoff,
            "noise_mode": noise_mode,
            "class_idx": class_idx,
            "translate": None if shift is None else list(shift),
            "rotate": rotate,
            "shape": list(images.shape),
            "outputs": written,
            "fingerprint": gen.fingerprint(),
        }
        if json_out:
            print_json(summary)
        else:
            note(f"wrote {len(seed_list)} image(s) to {out}")

    @app.command("convert", epilog=CONVERT_EPILOG)
    def convert(
        checkpoint: Annotated[str, typer.Argument(help="Source checkpoint (.pkl, .pt, .safetensors).")],
        out: Annotated[Path, typer.Argument(help="Destination .safetensors file.")],
        backend: Annotated[
            str, typer.Option("--backend", "-b", help="Generator backend that reads the source.")
        ] = "stylegan2",
        json_out: Annotated[bool, typer.Option("--json", help="Print a JSON summary on stdout.")] = False,
    ) -> None:
        """Convert a checkpoint to safetensors (tensors + JSON config; loads without any pickle)."""
        from large_toolkit.cli.output import note, print_json
        from large_toolkit.errors import UserInputError
        from large_toolkit.plugins import load_generator

        if out.suffix.lower() != ".safetensors":
            raise UserInputError(f"output {out} must end in .safetensors")
        gen = load_generator(backend, checkpoint, "cpu")
        save = getattr(gen, "save_safetensors", None)
        if save is None:
            raise UserInputError(f"backend {backend!r} cannot write safetensors")
        save(out)
        info = {"checkpoint": checkpoint, "out": str(out), **gen.describe()}
        info.pop("style_layers", None)
        if json_out:
            print_json(info)
        else:
            note(
                f"wrote {out} ({gen.resolution}px, {len(gen.state_tensors())} tensors, fingerprint {gen.fingerprint()})"
            )
