"""``large-tk invert`` and ``large-tk train-encoder``.

Command bodies import torch and the models lazily so that ``large-tk --help``
stays fast.  Both commands print a human summary on stderr and, with
``--json``, one JSON document on stdout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from large_toolkit.api import cli_options as opts

INVERT_EPILOG = (
    "Examples:\n\n"
    "  large-tk invert --images photos/ -o lat.safetensors                 (demo generator, bundled encoder)\n\n"
    "  large-tk invert --inverter-checkpoint e4e_ffhq_encode.pt --images aligned/ -o lat.safetensors\n\n"
    "  large-tk invert --backend stylegan2 --checkpoint ffhq.pkl --inverter optim --space w --steps 500 "
    "--images a.png b.png -o lat.safetensors\n\n"
    "  large-tk invert --backend stylegan2 --checkpoint G.pkl --inverter-checkpoint enc.safetensors "
    "--images 'imgs/*.jpg' --shard 0/4 -o lat.0of4.safetensors\n\n"
    "  large-tk --device cuda invert --images imgs/ --engine ray --ray-workers 4 -o lat.safetensors\n\n"
    "Without --inverter the fastest one available is used: the checkpoint's encoder (e4e, pSp or a trained "
    "small encoder), the bundled encoder for the demo generator, else the optimisation projector. Images of "
    "another size are center-cropped and resized (--resize). Re-running an interrupted command with the same "
    "arguments resumes it."
)

DEFAULT_BATCH = 64  # the batch regress inverts with


def _device() -> str:
    from large_toolkit.api import global_device, resolve_device

    return str(resolve_device(global_device()))


def _inverter_options(
    inverter: str,
    steps: int,
    lr: float,
    seed: int,
    ssim_weight: float,
    lpips: tuple[Any, Any],
    refine_steps: int,
    extra: list[str],
) -> dict[str, Any]:
    """The inverter's keyword options from the command's flags and ``--inverter-option KEY=VALUE`` pairs."""
    from large_toolkit.api import UserInputError

    options: dict[str, Any] = {}
    if inverter == "optim":
        options = {
            "num_steps": steps,
            "lr": lr,
            "seed": seed,
            "ssim_weight": ssim_weight,
            "lpips_vgg": lpips[0],
            "lpips_heads": lpips[1],
        }
    elif inverter == "encoder":
        options = {"refine_steps": refine_steps, "seed": seed}
    for item in extra:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserInputError(f"--inverter-option {item!r} is not KEY=VALUE", hint="e.g. d_weight=0.1")
        options[key.strip()] = value.strip()
    return options


def _choose(
    inverter: str, backend: str | None, checkpoint: str | None, inverter_checkpoint: str | None, device: str
) -> tuple[str, Any, str | None]:
    """(inverter name, generator, note): ``auto`` picks the fastest inverter (see ``large_inverters.choice``)."""
    from large_inverters.choice import auto_inverter, checkpoint_inverter
    from large_inverters.spec import ModelSpec

    if inverter != "auto":
        return inverter, ModelSpec(inverter, backend, checkpoint, inverter_checkpoint).load_generator(device), None
    guess = checkpoint_inverter(inverter_checkpoint) if inverter_checkpoint else "encoder"
    if backend is None and guess not in ("e4e", "psp"):
        backend = "stylegan2"
    generator = ModelSpec(guess, backend, checkpoint, inverter_checkpoint).load_generator(device)
    name, why = auto_inverter(generator, inverter_checkpoint)
    return name, generator, f"inverter: {why}"


def install(app: typer.Typer) -> None:
    @app.command("invert", epilog=INVERT_EPILOG)
    def invert(
        images: Annotated[list[str], opts.images("Image files, folders or globs (repeat or list several).")],
        out: Annotated[Path, opts.out("Output latents (.safetensors); ids are the file names.")],
        inverter: Annotated[
            str, typer.Option("--inverter", help="auto (fastest available), encoder, e4e, psp or optim.")
        ] = "auto",
        inverter_checkpoint: Annotated[
            str | None, typer.Option("--inverter-checkpoint", help="e4e/pSp .pt, or a trained encoder .safetensors.")
        ] = None,
        backend: Annotated[
            str | None,
            opts.backend("Generator backend (default: stylegan2, or e4e/pSp's own decoder with such a checkpoint)."),
        ] = None,
        checkpoint: Annotated[str | None, opts.checkpoint()] = None,
        class_idx: opts.ClassIdx = None,
        space: Annotated[str, typer.Option("--space", help="w, wplus or s.")] = "wplus",
        batch_size: Annotated[int, opts.batch_size("Images per batch and per saved chunk.")] = DEFAULT_BATCH,
        shard: Annotated[str | None, typer.Option("--shard", help="i/n: process every n-th image from i.")] = None,
        resize: Annotated[
            str,
            typer.Option(
                "--resize",
                help="Images not at the generator's size: center-crop "
                "(then resize), fit (pad to square, then resize) or error.",
            ),
        ] = "center-crop",
        steps: Annotated[int, typer.Option("--steps", min=1, help="Projector steps (optim).")] = 1000,
        lr: Annotated[float, typer.Option("--lr", help="Projector peak learning rate (optim).")] = 0.1,
        seed: Annotated[int, opts.seed("Projector RNG seed.")] = 303,
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
        json_out: Annotated[bool, opts.json_output("Machine-readable summary on stdout.")] = False,
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
        from large_toolkit.api import LatentSpace, UserInputError, bind_class, make_progress, note, print_json

        if resize not in RESIZE_POLICIES:
            raise UserInputError(f"unknown --resize {resize!r}", hint=f"use one of {', '.join(RESIZE_POLICIES)}")
        if engine not in ("local", "ray"):
            raise UserInputError(f"unknown --engine {engine!r}", hint="use local or ray")
        if engine == "ray":
            from large_toolkit.api import ray_probe as probe

            probe(ray_address)  # no Ray, or a dead address: one line now, before any model is loaded
        dev = _device()
        paths, index, count = select_shard(discover_images(images), shard)
        name, generator, why = _choose(inverter, backend, checkpoint, inverter_checkpoint, dev)
        generator = bind_class(generator, class_idx)
        if why:
            note(why)
        options = _inverter_options(
            name, steps, lr, seed, ssim_weight, (lpips_vgg, lpips_heads), refine_steps, inverter_option or []
        )
        spec = ModelSpec(name, backend, checkpoint, inverter_checkpoint, options)
        inv = spec.load_inverter(generator, dev)
        chunk_engine = None
        if engine == "ray":
            from large_inverters.ray_engine import RayOptions, crash_from_env, ray_engine

            chunk_engine = ray_engine(spec, RayOptions(ray_address, ray_workers, dev, 1, crash_from_env()))
        with make_progress() as bar:
            task = bar.add_task(f"inverting ({name})", total=len(paths))
            if hasattr(inv, "step_callback"):
                steps_task = bar.add_task("projector steps (this batch)", total=int(options.get("num_steps", steps)))
                inv.step_callback = lambda step, _losses: bar.update(steps_task, completed=step + 1)
            job = InvertJob(
                paths,
                Path(out),
                inv,
                name,
                generator,
                LatentSpace.parse(space),
                batch_size,
                resize,
                f"{index}/{count}",
                not no_report,
                lambda done, _total: bar.update(task, completed=done),
                note,
            )
            summary = run_job(job, restart=restart, engine=chunk_engine)
        summary.update(engine=engine, inverter=name)
        if json_out:
            print_json(summary)
            return
        quality = (
            f", mean MSE {summary['mean_mse']:.4g}, mean SSIM {summary['mean_ssim']:.4f}"
            if "mean_mse" in summary
            else ""
        )
        note(
            f"wrote {summary['out']}: {summary['images']} images ({summary['computed']} inverted now, "
            f"{summary['resumed_skipped']} already done){quality}"
        )

    @app.command(
        "train-encoder",
        epilog="Example:\n\n  large-tk train-encoder --backend stylegan2 --checkpoint G.pkl "
        "--steps 5000 --out enc.safetensors",
    )
    def train_encoder_cmd(
        out: Annotated[Path, opts.out("Where to save the encoder (.safetensors).")],
        backend: Annotated[str, opts.backend()] = "stylegan2",
        checkpoint: Annotated[str | None, opts.checkpoint()] = None,
        steps: Annotated[int, typer.Option("--steps", min=1)] = 2000,
        batch_size: Annotated[int, opts.batch_size("Generated pairs per step (global under torchrun).")] = 16,
        lr: Annotated[float, typer.Option("--lr")] = 1e-3,
        seed: Annotated[int, opts.seed()] = 0,
        ssim_weight: Annotated[float, typer.Option("--ssim-weight", help="Weight of 1-MS-SSIM.")] = 0.0,
        pixel_weight: Annotated[float, typer.Option("--pixel-weight")] = 1.0,
        input_size: Annotated[
            int, typer.Option("--input-size", help="Encoder input side (images are area-resized).")
        ] = 64,
        json_out: Annotated[bool, opts.json_output()] = False,
    ) -> None:
        """Train the small W+ encoder on pairs sampled from the generator itself (no dataset needed).

        Under ``torchrun --nproc_per_node N`` it trains with DDP (gloo on CPU, nccl on CUDA); --batch-size
        is the global batch, split evenly over the ranks; only rank 0 prints and saves.
        """
        from large_inverters.small_encoder import TrainConfig, save_encoder, train_encoder
        from large_toolkit.api import init_distributed, load_generator, make_progress, note, print_json
        from large_toolkit.api import shutdown_distributed as shutdown

        dist = init_distributed(_device())
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
        bar = make_progress(disable=not dist.is_main)
        task = bar.add_task("training encoder", total=steps)

        def progress(step: int, terms: dict[str, float]) -> None:
            bar.update(task, completed=step + 1)
            if dist.is_main and (step % every == 0 or step == steps - 1):
                note(f"step {step + 1}/{steps}: " + ", ".join(f"{k} {v:.4g}" for k, v in terms.items()))

        with bar:
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
