"""``large-tk invert`` and ``large-tk train-encoder``.

Command bodies import torch and the models lazily so that ``large-tk --help``
stays fast.  Both commands print a human summary on stderr and, with
``--json``, one JSON document on stdout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

INVERT_EPILOG = (
    "Examples:\n\n"
    "  large-tk invert --inverter e4e --inverter-checkpoint e4e_ffhq_encode.pt --images aligned/ "
    "--out lat.safetensors\n\n"
    "  large-tk invert --backend stylegan2 --checkpoint ffhq.pkl --inverter optim --space w --steps 500 "
    "--images a.png b.png --out lat.safetensors\n\n"
    "  large-tk invert --backend stylegan2 --checkpoint G.pkl --inverter encoder --inverter-checkpoint enc.safetensors "
    "--images imgs/ --shard 0/4 --out lat.0of4.safetensors\n\n"
    "  large-tk invert --backend stylegan2 --inverter encoder --images imgs/ --engine ray --ray-workers 4 "
    "--out lat.safetensors\n\n"
    "Re-running an interrupted command with the same arguments resumes it."
)


def _device(local: str | None) -> str:
    from large_toolkit.api import global_device, resolve_device

    return str(resolve_device(local or global_device()))


def install(app: typer.Typer) -> None:
    @app.command("invert", epilog=INVERT_EPILOG)
    def invert(
        images: Annotated[list[str], typer.Option("--images", help="PNG files and/or folders of PNGs (repeatable).")],
        out: Annotated[Path, typer.Option("--out", help="Output latents (.safetensors); ids are the file names.")],
        inverter: Annotated[str, typer.Option("--inverter", help="e4e, psp, optim or encoder.")] = "optim",
        inverter_checkpoint: Annotated[
            str | None, typer.Option("--inverter-checkpoint", help="e4e/pSp .pt, or a trained encoder .safetensors.")
        ] = None,
        backend: Annotated[
            str | None, typer.Option("--backend", help="Generator backend (omit for e4e/pSp's own decoder).")
        ] = None,
        checkpoint: Annotated[str | None, typer.Option("--checkpoint", help="Generator checkpoint.")] = None,
        space: Annotated[str, typer.Option("--space", help="w, wplus or s.")] = "wplus",
        batch_size: Annotated[
            int, typer.Option("--batch-size", min=1, help="Images per batch and per saved chunk.")
        ] = 8,
        device: Annotated[
            str | None, typer.Option("--device", help="cpu, cuda, cuda:N (default: the global --device).")
        ] = None,
        shard: Annotated[str | None, typer.Option("--shard", help="i/n: process every n-th image from i.")] = None,
        resize: Annotated[
            str, typer.Option("--resize", help="none (refuse other sizes), area, bilinear, bicubic.")
        ] = "none",
        steps: Annotated[int, typer.Option("--steps", min=1, help="Projector steps (optim).")] = 1000,
        lr: Annotated[float, typer.Option("--lr", help="Projector peak learning rate (optim).")] = 0.1,
        seed: Annotated[int, typer.Option("--seed", help="Projector RNG seed.")] = 303,
        ssim_weight: Annotated[float, typer.Option("--ssim-weight", help="Weight of 1-MS-SSIM (optim).")] = 0.0,
        lpips_vgg: Annotated[
            str | None, typer.Option("--lpips-vgg", help="Local VGG16 weights for LPIPS (optim).")
        ] = None,
        lpips_heads: Annotated[str | None, typer.Option("--lpips-heads", help="Local LPIPS lin heads (optim).")] = None,
        refine_steps: Annotated[int, typer.Option("--refine-steps", help="Projector steps after the encoder.")] = 0,
        inverter_option: Annotated[
            list[str] | None,
            typer.Option(
                "--inverter-option",
                help="KEY=VALUE passed to the inverter (repeatable), e.g. d_weight=0.1 discriminator=snap.pkl "
                "(optim) or restyle_steps=5 (e4e/psp).",
            ),
        ] = None,
        restart: Annotated[bool, typer.Option("--restart", help="Discard a partial run instead of resuming.")] = False,
        no_report: Annotated[bool, typer.Option("--no-report", help="Skip the MSE/SSIM report and preview.")] = False,
        json_out: Annotated[bool, typer.Option("--json", help="Machine-readable summary on stdout.")] = False,
        engine: Annotated[
            str, typer.Option("--engine", help="local (this process) or ray (a Ray Data pipeline).")
        ] = "local",
        ray_address: Annotated[
            str | None,
            typer.Option("--ray-address", help="auto or HOST:PORT of a running cluster (default: start a local one)."),
        ] = None,
        ray_workers: Annotated[
            int | None,
            typer.Option("--ray-workers", min=1, help="Ray actors (default: 2 on CPU, 1 per GPU with cuda)."),
        ] = None,
    ) -> None:
        """Invert real images into latent codes, resumably, with a reconstruction report."""
        from large_inverters.images import RESIZE_POLICIES, discover_images, select_shard
        from large_inverters.job import InvertJob, run_job
        from large_inverters.spec import ModelSpec
        from large_toolkit.api import LatentSpace, note, print_json

        if resize not in RESIZE_POLICIES:
            from large_toolkit.api import UserInputError

            raise UserInputError(f"unknown --resize {resize!r}", hint=f"use one of {', '.join(RESIZE_POLICIES)}")
        if engine not in ("local", "ray"):
            from large_toolkit.api import UserInputError

            raise UserInputError(f"unknown --engine {engine!r}", hint="use local or ray")
        if engine == "ray":
            from large_toolkit.api import ray_probe as probe

            probe(ray_address)  # no Ray, or a dead address: one line now, before any model is loaded
        dev = _device(device)
        paths, index, count = select_shard(discover_images(images), shard)
        options: dict[str, Any] = {}
        if inverter == "optim":
            options = {
                "num_steps": steps,
                "lr": lr,
                "seed": seed,
                "ssim_weight": ssim_weight,
                "lpips_vgg": lpips_vgg,
                "lpips_heads": lpips_heads,
            }
        elif inverter == "encoder":
            options = {"refine_steps": refine_steps, "seed": seed}
        for item in inverter_option or []:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                from large_toolkit.api import UserInputError

                raise UserInputError(f"--inverter-option {item!r} is not KEY=VALUE", hint="e.g. d_weight=0.1")
            options[key.strip()] = value.strip()
        spec = ModelSpec(inverter, backend, checkpoint, inverter_checkpoint, options)
        generator, inv = spec.build(dev)
        chunk_engine = None
        if engine == "ray":
            from large_inverters.ray_engine import RayOptions, crash_from_env, ray_engine

            chunk_engine = ray_engine(spec, RayOptions(ray_address, ray_workers, dev, 1, crash_from_env()))

        def progress(done: int, total: int) -> None:
            note(f"inverted {done}/{total}")

        job = InvertJob(
            paths,
            Path(out),
            inv,
            inverter,
            generator,
            LatentSpace.parse(space),
            batch_size,
            resize,
            f"{index}/{count}",
            not no_report,
            progress,
        )
        summary = run_job(job, restart=restart, engine=chunk_engine)
        summary["engine"] = engine
        if json_out:
            print_json(summary)
        else:
            note(
                f"wrote {summary['out']}: {summary['images']} images ({summary['computed']} inverted now, "
                f"{summary['resumed_skipped']} already done)"
                + (
                    f", mean MSE {summary['mean_mse']:.4g}, mean SSIM {summary['mean_ssim']:.4f}"
                    if "mean_mse" in summary
                    else ""
                )
            )

    @app.command(
        "train-encoder",
        epilog="Example:\n\n  large-tk train-encoder --backend stylegan2 --checkpoint G.pkl "
        "--steps 5000 --out enc.safetensors",
    )
    def train_encoder_cmd(
        out: Annotated[Path, typer.Option("--out", help="Where to save the encoder (.safetensors).")],
        backend: Annotated[str, typer.Option("--backend", help="Generator backend.")],
        checkpoint: Annotated[str | None, typer.Option("--checkpoint", help="Generator checkpoint.")] = None,
        steps: Annotated[int, typer.Option("--steps", min=1)] = 2000,
        batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 16,
        lr: Annotated[float, typer.Option("--lr")] = 1e-3,
        seed: Annotated[int, typer.Option("--seed")] = 0,
        ssim_weight: Annotated[float, typer.Option("--ssim-weight", help="Weight of 1-MS-SSIM.")] = 0.0,
        pixel_weight: Annotated[float, typer.Option("--pixel-weight")] = 1.0,
        input_size: Annotated[
            int, typer.Option("--input-size", help="Encoder input side (images are area-resized).")
        ] = 64,
        device: Annotated[str | None, typer.Option("--device")] = None,
        json_out: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Train the small W+ encoder on pairs sampled from the generator itself (no dataset needed).

        Under ``torchrun --nproc_per_node N`` it trains with DDP (gloo on CPU, nccl on CUDA); --batch-size
        is the global batch, split evenly over the ranks; only rank 0 prints and saves.
        """
        from large_inverters.small_encoder import TrainConfig, save_encoder, train_encoder
        from large_toolkit.api import init_distributed, load_generator, note, print_json
        from large_toolkit.api import shutdown_distributed as shutdown

        dist = init_distributed(_device(device))
        generator = load_generator(backend, checkpoint, str(dist.device))
        cfg = TrainConfig(
            steps=steps,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
            ssim_weight=ssim_weight,
            pixel_weight=pixel_weight,
            input_size=input_size,
        )
        every = max(1, steps // 20)

        def progress(step: int, terms: dict[str, float]) -> None:
            if dist.is_main and (step % every == 0 or step == steps - 1):
                note(f"step {step + 1}/{steps}: " + ", ".join(f"{k} {v:.4g}" for k, v in terms.items()))

        net, history = train_encoder(generator, cfg, progress, dist)
        history["world_size"] = dist.world_size
        if dist.is_main:
            save_encoder(out, net, generator, history)
        shutdown(dist)
        if not dist.is_main:
            return
        summary = {"out": str(out), **history["final"], "seconds": round(history["seconds"], 2)}
        if json_out:
            print_json(summary)
        else:
            note(f"wrote {out} ({summary['seconds']} s)")
