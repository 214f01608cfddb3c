"""``large-tk train --backend stylegan2``: train a StyleGAN2 on an image folder or the procedural demo data."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from large_toolkit.api import cli_options as options

if TYPE_CHECKING:
    from large_stylegan2.trainer.run import TrainingSession

EPILOG = (
    "Examples:\n\n"
    "  large-tk train --data synthetic --kimg 200 -o runs/demo\n\n"
    "  large-tk train --data glyphs/ --mirror --augment ada --kimg 500 -o runs/glyphs --threads 2\n\n"
    "  large-tk train --data faces/ --labels faces/labels.csv --label-column age --label-bins 4 -o runs/faces\n\n"
    "  large-tk train --data synthetic --kimg 400 -o runs/demo --resume\n\n"
    "  large-tk train --data synthetic --kimg 200 -o runs/demo --json > run.json\n\n"
    "The run folder holds G_ema.safetensors (usable at once by every command: --checkpoint RUN/G_ema.safetensors), "
    "log.txt, log.json, metrics.jsonl + metrics.png (FD vs the training set, losses, augment p per snapshot) "
    "and a sample grid per snapshot.  Folders under 5000 images get --augment ada unless told otherwise."
)


def _opt(*names: str, **kw: Any) -> Any:
    return typer.Option(*names, **kw)


Out = Annotated[Path, options.out("Run folder: G_ema.safetensors, state, sample grids, logs, metrics.")]
Backend = Annotated[str, options.backend("Generator architecture to train.")]
Data = Annotated[str, _opt("--data", help="Image folder, or 'synthetic' for the demo data.")]
Resolution = Annotated[int, _opt("--resolution", help="Image size (power of two).")]
Kimg = Annotated[float, _opt("--kimg", help="Thousands of real images to show D.")]
BatchSize = Annotated[int, options.batch_size("Minibatch size (the global batch under torchrun).")]
Threads = Annotated[int | None, _opt("--threads", min=1, help="CPU threads for torch (default: torch's choice).")]
NSynthetic = Annotated[int, _opt("--n-synthetic", help="Images to render for --data synthetic.")]
Mirror = Annotated[bool, _opt("--mirror", help="Double the data with x-flipped copies.")]
Augment = Annotated[
    str | None,
    _opt("--augment", help="ada (adaptive p), fixed (--augment-p), none. Default: ada below 5000 images."),
]
AugmentP = Annotated[float, _opt("--augment-p", help="Augment probability: the fixed p, or ADA's start.")]
AdaTarget = Annotated[float, _opt("--ada-target", help="ADA's target for r_t = E[sign D(real)].")]
AdaKimg = Annotated[
    float | None, _opt("--ada-kimg", help="kimg for p to go 0 -> 1 (NVIDIA: 500; default min(500, kimg/5)).")
]
Cutout = Annotated[bool, _opt("--cutout", help="Add ADA's cutout to the pipeline.")]
Labels = Annotated[Path | None, _opt("--labels", help="CSV: image column + class column; empty cells = unlabelled.")]
LabelColumn = Annotated[str | None, _opt("--label-column", help="Class column of --labels.")]
LabelBins = Annotated[int | None, _opt("--label-bins", min=2, help="Bin a numeric --label-column into K classes.")]
FdN = Annotated[int, _opt("--fd-n", min=0, help="Generated images for the per-snapshot FD (0: no FD).")]
InceptionWeights = Annotated[
    str | None, _opt("--inception-weights", help="Inception-v3 weights: FD with it, not rotation.")
]
ZDim = Annotated[int, _opt("--z-dim")]
WDim = Annotated[int, _opt("--w-dim")]
MappingLayers = Annotated[int, _opt("--mapping-layers")]
ChannelBase = Annotated[int, _opt("--channel-base")]
ChannelMax = Annotated[int, _opt("--channel-max")]
Gamma = Annotated[float | None, _opt("--gamma", help="R1 weight (default: NVIDIA's auto rule).")]
RotationLoss = Annotated[bool, _opt("--rotation-loss", help="Self-supervised rotation loss on D (on with --labels).")]
SnapshotKimg = Annotated[float, _opt("--snapshot-kimg")]
Seed = Annotated[int, options.seed()]
Resume = Annotated[bool, _opt("--resume", help="Continue the run saved in --out.")]


def train(
    out: Out,
    backend: Backend = "stylegan2",
    data: Data = "synthetic",
    resolution: Resolution = 32,
    kimg: Kimg = 100.0,
    batch_size: BatchSize = 32,
    threads: Threads = None,
    n_synthetic: NSynthetic = 20000,
    mirror: Mirror = False,
    augment: Augment = None,
    augment_p: AugmentP = 0.0,
    ada_target: AdaTarget = 0.6,
    ada_kimg: AdaKimg = None,
    cutout: Cutout = False,
    labels: Labels = None,
    label_column: LabelColumn = None,
    label_bins: LabelBins = None,
    fd_n: FdN = 1000,
    inception_weights: InceptionWeights = None,
    z_dim: ZDim = 64,
    w_dim: WDim = 64,
    mapping_layers: MappingLayers = 2,
    channel_base: ChannelBase = 4096,
    channel_max: ChannelMax = 128,
    gamma: Gamma = None,
    rotation_loss: RotationLoss = False,
    snapshot_kimg: SnapshotKimg = 10.0,
    seed: Seed = 0,
    resume: Resume = False,
    json_out: options.JsonData = False,
) -> None:
    """Train a StyleGAN2 from scratch: ADA for small data, optional class labels (some may be missing).

    With --labels where only some rows have a class, the missing ones are inferred first (S³GAN):
    rotation features of all images, a logistic regression on the labelled ones (held-out accuracy
    printed), then a class-conditional StyleGAN2 is trained with D's rotation loss on.
    Under ``torchrun --nproc_per_node N`` the ranks split --batch-size and average gradients; only
    rank 0 shows progress and writes the run folder.
    """
    import time

    from large_stylegan2.trainer.run import TrainRequest, run_report, start_training
    from large_toolkit.api import default_precision, note, print_json

    t0 = time.monotonic()
    if default_precision() != "fp32":  # said, not silently ignored: training has no autocast path
        note(f"warning: --precision {default_precision()} does not apply to train (it trains at fp32)")
    request = TrainRequest.from_options(locals())
    session = start_training(request, note)
    path = _train_with_progress(session)
    if session.dist.is_main:
        note(f"trained to {session.trainer.nimg / 1000:g} kimg on {session.dist.device}; generator: {path}")
        if json_out:
            print_json(run_report(session, request, path, time.monotonic() - t0))


def _train_with_progress(session: TrainingSession) -> Path:
    """Train under a progress bar (rank 0 only) showing kimg, seconds per kimg and ADA's p."""
    import time

    from large_toolkit.api import make_progress

    trainer = session.trainer
    with make_progress(disable=not session.dist.is_main) as progress:
        task = progress.add_task("train", total=int(trainer.opts.kimg * 1000), completed=trainer.nimg)
        start_nimg, t0 = trainer.nimg, time.monotonic()

        def report(done: int, total: int, _stats: dict[str, float]) -> None:
            spk = (time.monotonic() - t0) / max(done - start_nimg, 1) * 1000
            desc = f"train {done / 1000:.3f}/{total / 1000:g} kimg, {spk:.1f} s/kimg, p {trainer.augment_p:.3f}"
            progress.update(task, completed=done, description=desc)

        return session.train(report)


def install(app: typer.Typer) -> None:
    app.command("train", epilog=EPILOG)(train)
