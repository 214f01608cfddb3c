"""``large-tk invert`` and ``large-tk train-encoder``.

Command bodies import torch and the models lazily so that ``large-tk --help``
stays fast.  Both commands print a human summary on stderr and, with
``--json``, one JSON document on stdout.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from large_inverters.run import DEFAULT_BATCH
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


def _opt(*names: str, **kw: Any) -> Any:
    return typer.Option(*names, **kw)


Images = Annotated[list[str], opts.images("Image files, folders or globs (repeat or list several).")]
InvertOut = Annotated[Path, opts.out("Output latents (.safetensors); ids are the file names.")]
InverterName = Annotated[str, _opt("--inverter", help="auto (fastest available), encoder, e4e, psp or optim.")]
InverterCheckpoint = Annotated[
    str | None, _opt("--inverter-checkpoint", help="e4e/pSp .pt, or a trained encoder .safetensors.")
]
InvertBackend = Annotated[
    str | None,
    opts.backend("Generator backend (default: stylegan2, or e4e/pSp's own decoder with such a checkpoint)."),
]
Checkpoint = Annotated[str | None, opts.checkpoint()]
Space = Annotated[str, _opt("--space", help="w, wplus or s.")]
InvertBatch = Annotated[int, opts.batch_size("Images per batch and per saved chunk.")]
Shard = Annotated[str | None, _opt("--shard", help="i/n: process every n-th image from i.")]
Resize = Annotated[
    str,
    _opt(
        "--resize",
        help="Images not at the generator's size: center-crop (then resize), "
        "fit (pad to square, then resize) or error.",
    ),
]
ProjectorSteps = Annotated[int, _opt("--steps", min=1, help="Projector steps (optim).")]
ProjectorLr = Annotated[float, _opt("--lr", help="Projector peak learning rate (optim).")]
ProjectorSeed = Annotated[int, opts.seed("Projector RNG seed.")]
ProjectorSsim = Annotated[float, _opt("--ssim-weight", help="Weight of 1-MS-SSIM (optim).")]
LpipsVgg = Annotated[str | None, _opt("--lpips-vgg", help="Local VGG16 weights for LPIPS (optim).")]
LpipsHeads = Annotated[str | None, _opt("--lpips-heads", help="Local LPIPS lin heads (optim).")]
RefineSteps = Annotated[int, _opt("--refine-steps", help="Projector steps after the encoder.")]
InverterOption = Annotated[
    list[str] | None,
    _opt(
        "--inverter-option",
        help="KEY=VALUE passed to the inverter (repeatable), e.g. d_weight=0.1 discriminator=snap.pkl "
        "(optim) or restyle_steps=5 (e4e/psp).",
    ),
]
Restart = Annotated[
    bool,
    _opt("--restart", help="Redo from scratch: discard a partial run, or replace a finished --out made otherwise."),
]
NoReport = Annotated[bool, _opt("--no-report", help="Skip the MSE/SSIM report and preview.")]
InvertJson = Annotated[bool, opts.json_output("Machine-readable summary on stdout.")]
Engine = Annotated[str, _opt("--engine", help="local (this process) or ray (a Ray Data pipeline).")]
RayAddress = Annotated[
    str | None, _opt("--ray-address", help="auto or HOST:PORT of a running cluster (default: start a local one).")
]
RayWorkers = Annotated[
    int | None, _opt("--ray-workers", min=1, help="Ray actors (default: 2 on CPU, 1 per GPU with cuda).")
]


def invert(
    images: Images,
    out: InvertOut,
    inverter: InverterName = "auto",
    inverter_checkpoint: InverterCheckpoint = None,
    backend: InvertBackend = None,
    checkpoint: Checkpoint = None,
    class_idx: opts.ClassIdx = None,
    space: Space = "wplus",
    batch_size: InvertBatch = DEFAULT_BATCH,
    shard: Shard = None,
    resize: Resize = "center-crop",
    steps: ProjectorSteps = 1000,
    lr: ProjectorLr = 0.1,
    seed: ProjectorSeed = 303,
    ssim_weight: ProjectorSsim = 0.0,
    lpips_vgg: LpipsVgg = None,
    lpips_heads: LpipsHeads = None,
    refine_steps: RefineSteps = 0,
    inverter_option: InverterOption = None,
    restart: Restart = False,
    no_report: NoReport = False,
    json_out: InvertJson = False,
    engine: Engine = "local",
    ray_address: RayAddress = None,
    ray_workers: RayWorkers = None,
) -> None:
    """Invert real images into latent codes, resumably, with a reconstruction report."""
    from large_inverters.run import InvertRequest, prepare_inversion
    from large_toolkit.api import make_progress, note, print_json

    prepared = prepare_inversion(InvertRequest.from_options(locals()), note)
    with make_progress() as bar:
        task = bar.add_task(f"inverting ({prepared.name})", total=len(prepared.paths))
        step_progress = _step_progress(bar, prepared.projector_steps)
        summary = prepared.run(lambda done, _total: bar.update(task, completed=done), step_progress, note)
    if json_out:
        print_json(summary)
    else:
        note(_invert_line(summary))


def _step_progress(bar: Any, total: int | None) -> Callable[[int], None] | None:
    """A bar line for the projector's steps within the current batch, for inverters that report steps."""
    if total is None:
        return None
    task = bar.add_task("projector steps (this batch)", total=total)
    return lambda done: bar.update(task, completed=done)


def _invert_line(summary: dict[str, Any]) -> str:
    """The one-line human summary: what was written, how much was new, the reconstruction quality."""
    quality = (
        f", mean MSE {summary['mean_mse']:.4g}, mean SSIM {summary['mean_ssim']:.4f}" if "mean_mse" in summary else ""
    )
    if summary.get("already_complete"):
        done = f"{summary['out']} is already complete with these settings ({summary['images']} images)"
        return f"{done}; --restart redoes it"
    return (
        f"wrote {summary['out']}: {summary['images']} images ({summary['computed']} inverted now, "
        f"{summary['resumed_skipped']} already done){quality}"
    )


TRAIN_ENCODER_EPILOG = (
    "Example:\n\n  large-tk train-encoder --backend stylegan2 --checkpoint G.pkl --steps 5000 --out enc.safetensors"
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
    input_size: Annotated[int, typer.Option("--input-size", help="Encoder input side (images are area-resized).")] = 64,
    class_idx: opts.ClassIdx = None,
    json_out: Annotated[bool, opts.json_output()] = False,
) -> None:
    """Train the small W+ encoder on pairs sampled from the generator itself (no dataset needed).

    Under ``torchrun --nproc_per_node N`` it trains with DDP (gloo on CPU, nccl on CUDA); --batch-size
    is the global batch, split evenly over the ranks; only rank 0 prints and saves.
    """
    from large_inverters.run import start_encoder_training
    from large_inverters.small_encoder import TrainConfig
    from large_toolkit.api import default_precision, make_progress, note, print_json

    if default_precision() != "fp32":  # said, not silently ignored: encoder training has no autocast path
        note(f"warning: --precision {default_precision()} does not apply to train-encoder (it trains at fp32)")
    cfg = TrainConfig(
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        ssim_weight=ssim_weight,
        pixel_weight=pixel_weight,
        input_size=input_size,
    )
    run = start_encoder_training(out, backend, checkpoint, cfg, class_idx)
    with make_progress(disable=not run.dist.is_main) as bar:
        summary = run.train(_encoder_progress(bar, steps, run.dist.is_main))
    if summary is None:
        return
    if json_out:
        print_json(summary)
    else:
        note(f"wrote {out} ({summary['seconds']} s)")


def _encoder_progress(bar: Any, steps: int, is_main: bool) -> Callable[[int, dict[str, float]], None]:
    """Advance the bar every step; on rank 0 also print the losses about 20 times over the run."""
    from large_toolkit.api import note

    task = bar.add_task("training encoder", total=steps)
    every = max(1, steps // 20)

    def progress(step: int, terms: dict[str, float]) -> None:
        bar.update(task, completed=step + 1)
        if is_main and (step % every == 0 or step == steps - 1):
            note(f"step {step + 1}/{steps}: " + ", ".join(f"{k} {v:.4g}" for k, v in terms.items()))

    return progress


def install(app: typer.Typer) -> None:
    app.command("invert", epilog=INVERT_EPILOG)(invert)
    app.command("train-encoder", epilog=TRAIN_ENCODER_EPILOG)(train_encoder_cmd)
