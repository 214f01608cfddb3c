"""``large-tk train --backend stylegan2``: train a StyleGAN2 on an image folder or the procedural demo data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

EPILOG = (
    "Examples:\n\n"
    "  large-tk train --backend stylegan2 --data synthetic --kimg 200 --out runs/demo\n\n"
    "  large-tk train --backend stylegan2 --data faces32/ --kimg 500 --rotation-loss --out runs/faces\n\n"
    "  large-tk train --backend stylegan2 --data synthetic --kimg 400 --out runs/demo --resume"
)


def install(app: typer.Typer) -> None:
    @app.command("train", epilog=EPILOG)
    def train(
        out: Annotated[Path, typer.Option("--out", help="Run folder: G_ema.safetensors, state, sample grids, log.")],
        backend: Annotated[str, typer.Option("--backend", help="Generator architecture to train.")] = "stylegan2",
        data: Annotated[
            str, typer.Option("--data", help="Image folder, or 'synthetic' for the demo data.")
        ] = "synthetic",
        resolution: Annotated[int, typer.Option("--resolution", help="Image size (power of two).")] = 32,
        kimg: Annotated[float, typer.Option("--kimg", help="Thousands of real images to show D.")] = 100.0,
        batch: Annotated[int, typer.Option("--batch", help="Minibatch size.")] = 32,
        n_synthetic: Annotated[
            int, typer.Option("--n-synthetic", help="Images to render for --data synthetic.")
        ] = 20000,
        z_dim: Annotated[int, typer.Option("--z-dim")] = 64,
        w_dim: Annotated[int, typer.Option("--w-dim")] = 64,
        mapping_layers: Annotated[int, typer.Option("--mapping-layers")] = 2,
        channel_base: Annotated[int, typer.Option("--channel-base")] = 4096,
        channel_max: Annotated[int, typer.Option("--channel-max")] = 128,
        gamma: Annotated[float | None, typer.Option("--gamma", help="R1 weight (default: NVIDIA's auto rule).")] = None,
        rotation_loss: Annotated[
            bool, typer.Option("--rotation-loss", help="Self-supervised rotation loss on D.")
        ] = False,
        snapshot_kimg: Annotated[float, typer.Option("--snapshot-kimg")] = 10.0,
        seed: Annotated[int, typer.Option("--seed")] = 0,
        resume: Annotated[bool, typer.Option("--resume", help="Continue the run saved in --out.")] = False,
    ) -> None:
        """Train a StyleGAN2 from scratch; resumable, with a progress bar and periodic sample grids.

        Under ``torchrun --nproc_per_node N`` the ranks split --batch (the global batch) and average
        gradients (gloo on CPU, nccl on CUDA); only rank 0 shows progress and writes the run folder.
        """
        import torch

        from large_stylegan2.trainer.loop import Trainer, TrainOptions
        from large_toolkit.api import UserInputError, global_device, make_progress, note, resolve_device

        if backend != "stylegan2":
            raise UserInputError(f"the trainer supports --backend stylegan2, not {backend!r}")
        images = torch.from_numpy(_load_images(data, resolution, n_synthetic, seed))
        from large_toolkit.api import init_distributed
        from large_toolkit.api import shutdown_distributed as shutdown

        dist = init_distributed(resolve_device(global_device()))
        device = dist.device
        if resume:
            trainer = Trainer.resume(images, out, device, kimg=kimg, dist=dist)
        else:
            opts = TrainOptions(
                resolution=resolution,
                z_dim=z_dim,
                w_dim=w_dim,
                mapping_layers=mapping_layers,
                channel_base=channel_base,
                channel_max=channel_max,
                batch=batch,
                kimg=kimg,
                r1_gamma=gamma,
                rotation_loss=rotation_loss,
                seed=seed,
                snapshot_kimg=snapshot_kimg,
            )
            trainer = Trainer(images, opts, out, device, dist)
        with make_progress(disable=not dist.is_main) as progress:
            task = progress.add_task("training", total=int(kimg * 1000), completed=trainer.nimg)
            path = trainer.train(lambda done, total, stats: progress.update(task, completed=done))
        shutdown(dist)
        if not dist.is_main:
            return
        note(f"trained to {trainer.nimg / 1000:.1f} kimg on {device}; generator: {path}")


def _load_images(data: str, resolution: int, n_synthetic: int, seed: int):
    """uint8 NHWC images from a folder of PNGs or the procedural generator."""
    if data == "synthetic":
        from large_toolkit.api import synthetic_images as generate

        return generate(n_synthetic, seed=seed, resolution=resolution).images
    from large_toolkit.api import read_image_folder

    return read_image_folder(data).images
