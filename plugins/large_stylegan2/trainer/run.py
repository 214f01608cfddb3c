"""The job behind ``large-tk train``: from the command's options to a started :class:`Trainer`.

Kept apart from the command so that the GUI (or a script) starts exactly the run the CLI starts and
shows progress its own way: :func:`start_training` checks the request, reads the data, infers
missing class labels and builds (or resumes) the trainer; :meth:`TrainingSession.train` then trains.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from large_toolkit.api import UserInputError

if TYPE_CHECKING:  # the command imports this module lazily, but torch stays out of type-only imports
    import numpy as np

    from large_stylegan2.trainer.labels import ClassLabels, Inference
    from large_stylegan2.trainer.loop import Trainer, TrainOptions
    from large_toolkit.api import DistContext

ADA_DEFAULT_BELOW = 5000

Note = Callable[[str], None]
Report = Callable[[int, int, dict[str, float]], None]
"""``report(images shown, images to show, loss stats)`` after each training step."""


@dataclass(frozen=True)
class TrainRequest:
    """Everything ``large-tk train`` was asked to do (field names are the command's parameter names)."""

    out: Path
    backend: str = "stylegan2"
    data: str = "synthetic"
    resolution: int = 32
    kimg: float = 100.0
    batch_size: int = 32
    threads: int | None = None
    n_synthetic: int = 20000
    mirror: bool = False
    augment: str | None = None
    augment_p: float = 0.0
    ada_target: float = 0.6
    ada_kimg: float | None = None
    cutout: bool = False
    labels: Path | None = None
    label_column: str | None = None
    label_bins: int | None = None
    fd_n: int = 1000
    inception_weights: str | None = None
    z_dim: int = 64
    w_dim: int = 64
    mapping_layers: int = 2
    channel_base: int = 4096
    channel_max: int = 128
    gamma: float | None = None
    rotation_loss: bool = False
    snapshot_kimg: float = 10.0
    seed: int = 0
    resume: bool = False

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> TrainRequest:
        """The request from a command's parameters (those that are not request fields are left out)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in options.items() if k in names})

    def check(self) -> None:
        """One clear error for contradictory or missing inputs, before the run folder or any data is touched."""
        if self.backend != "stylegan2":
            raise UserInputError(f"the trainer supports --backend stylegan2, not {self.backend!r}")
        if (self.label_column or self.label_bins) and self.labels is None:
            raise UserInputError("--label-column/--label-bins need --labels CSV")
        if self.labels is not None and self.data == "synthetic":
            raise UserInputError("--labels needs --data FOLDER", hint="write the demo data with `large-tk data synth`")
        if self.resume and not (self.out / "training-state.safetensors").is_file():
            raise UserInputError(
                f"nothing to resume: {self.out}/training-state.safetensors does not exist",
                hint="start a run without --resume",
            )
        if self.data != "synthetic" and not Path(self.data).is_dir():
            raise UserInputError(f"--data {self.data!r} is not a folder", hint="pass an image folder or 'synthetic'")
        self._check_numbers()

    def _check_numbers(self) -> None:
        """The sizes the trainer would only refuse after loading the data (or crash on: 0 synthetic images)."""
        if not self.kimg > 0:  # also NaN
            raise UserInputError(f"--kimg must be > 0, got {self.kimg}", hint="e.g. --kimg 100")
        if self.resolution < 8 or self.resolution & (self.resolution - 1):
            raise UserInputError(
                f"--resolution {self.resolution} is not a power of two >= 8", hint="use 8, 16, 32, ..."
            )
        if self.batch_size < 2:
            raise UserInputError("--batch-size must be >= 2 (minibatch-stddev needs pairs)", hint="use --batch-size 2")
        if self.data == "synthetic" and self.n_synthetic < 1:
            raise UserInputError(f"--n-synthetic must be >= 1, got {self.n_synthetic}")

    def train_options(self, augment: str, c_dim: int) -> TrainOptions:
        """The trainer's options for a new run (``augment`` already resolved, ``c_dim`` 0 = unconditional)."""
        from large_stylegan2.trainer.loop import TrainOptions

        return TrainOptions(
            resolution=self.resolution,
            z_dim=self.z_dim,
            w_dim=self.w_dim,
            mapping_layers=self.mapping_layers,
            channel_base=self.channel_base,
            channel_max=self.channel_max,
            batch=self.batch_size,
            kimg=self.kimg,
            r1_gamma=self.gamma,
            rotation_loss=self.rotation_loss or c_dim > 0,
            seed=self.seed,
            snapshot_kimg=self.snapshot_kimg,
            augment=augment,
            augment_p=self.augment_p,
            ada_target=self.ada_target,
            ada_kimg=self.ada_kimg,
            cutout=self.cutout,
            mirror=self.mirror,
            c_dim=c_dim,
            fd_n=self.fd_n,
            inception_weights=self.inception_weights,
        )


@dataclass
class TrainingSession:
    """A started run: the trainer, this process's rank, and how many training images it has."""

    trainer: Trainer
    dist: DistContext
    n_images: int

    def train(self, report: Report | None = None) -> Path:
        """Train to the requested kimg, then leave the process group; returns the saved generator's path."""
        from large_toolkit.api import shutdown_distributed

        path = self.trainer.train(report)
        shutdown_distributed(self.dist)
        return path


def run_report(session: TrainingSession, request: TrainRequest, generator: Path, seconds: float) -> dict[str, Any]:
    """What ``large-tk train --json`` prints: the run folder, its G_ema, how far it trained, the last
    snapshot's FD and augment p (``metrics.jsonl``; None before the first snapshot or with ``--fd-n 0``),
    the ``labels.json`` summary when ``--labels`` was given, and the command's seconds."""
    import json

    from large_stylegan2.trainer.metrics import read_metrics

    records = read_metrics(request.out)
    last = records[-1] if records else {}
    labels_file = request.out / "labels.json"
    labels = json.loads(labels_file.read_text()) if request.labels is not None and labels_file.is_file() else None
    return {
        "run": str(request.out),
        "generator": str(generator),
        "kimg": session.trainer.nimg / 1000,
        "device": str(session.dist.device),
        "images": session.n_images,
        "augment": session.trainer.opts.augment,
        "last_snapshot": {"kimg": last.get("kimg"), "fd": last.get("fd"), "augment_p": last.get("augment_p")},
        "labels": labels,
        "seconds": round(seconds, 3),
    }


def start_training(request: TrainRequest, note: Note) -> TrainingSession:
    """Check the request, create the run folder and its log, read the data and build (or resume) the trainer.

    Bad input found before training leaves no half-made run folder behind.  Under torchrun only
    rank 0 writes the folder and prints.
    """
    import shutil

    import torch

    from large_toolkit.api import global_device, init_distributed, resolve_device

    request.check()
    if request.threads is not None:
        torch.set_num_threads(request.threads)
    dist = init_distributed(resolve_device(global_device()))
    say = note if dist.is_main else (lambda _msg: None)
    out = request.out
    created = not out.exists()
    if dist.is_main:  # the run folder and its log exist from the first second (a job under nohup shows up)
        out.mkdir(parents=True, exist_ok=True)
        _log(out, f"large-tk train: reading {request.data}")
    try:
        trainer, n_images = _build_trainer(request, dist, say)
    except UserInputError:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise
    trainer.start_log()
    say(f"run folder {out} (log.txt, metrics.jsonl); {n_images} images, augment {trainer.opts.augment}")
    return TrainingSession(trainer, dist, n_images)


def _build_trainer(request: TrainRequest, dist: DistContext, say: Note) -> tuple[Trainer, int]:
    """Read the images (and classes), then resume the saved run or build a new one."""
    import torch

    from large_stylegan2.trainer.loop import Trainer

    images_np, ids = _load_images(request.data, request.resolution, request.n_synthetic, request.seed)
    class_idx = None
    if request.labels is not None and not request.resume:
        class_idx = _classes(images_np, ids, request.labels, request, say)
    images = torch.from_numpy(images_np)
    if request.resume:
        return Trainer.resume(images, request.out, dist.device, kimg=request.kimg, dist=dist), len(images)
    augment = request.augment
    if augment is None:
        augment = "ada" if len(images) < ADA_DEFAULT_BELOW else "none"
        say(f"--augment {augment} ({len(images)} images; ADA is the default below {ADA_DEFAULT_BELOW})")
    c_dim = 0 if class_idx is None else int(class_idx.max()) + 1
    labels = None if class_idx is None else torch.from_numpy(class_idx)
    opts = request.train_options(augment, c_dim)
    return Trainer(images, opts, request.out, dist.device, dist, labels), len(images)


def _log(out: Path, message: str) -> None:
    import time

    with (out / "log.txt").open("a") as f:
        f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")


def _load_images(data: str, resolution: int, n_synthetic: int, seed: int) -> tuple[np.ndarray, list[str]]:
    """uint8 NHWC images (and their file names) from a folder or the procedural generator."""
    if data == "synthetic":
        from large_toolkit.api import synthetic_images as generate

        return generate(n_synthetic, seed=seed, resolution=resolution).images, []
    from large_toolkit.api import read_image_folder

    folder = read_image_folder(data, find_labels=False)
    return folder.images, list(folder.ids)


def _classes(images: np.ndarray, ids: list[str], labels: Path, request: TrainRequest, say: Note) -> np.ndarray:
    """Class index per image: given, or inferred from the labelled ones (S³GAN); reported before training."""
    from large_stylegan2.trainer.labels import infer_classes, read_class_labels

    table = read_class_labels(labels, ids, request.label_column, request.label_bins)
    n_lab = int(table.labelled.sum())
    say(f"labels: column {table.column!r}, {len(table.names)} classes, {n_lab}/{len(ids)} images labelled")
    result = infer_classes(images, table, request.seed)
    if result.n_inferred:
        if result.holdout_accuracy is not None:
            say(
                f"inferred-label accuracy on {result.holdout_n} held-out labelled images: "
                f"{result.holdout_accuracy:.3f} (majority class {result.chance:.3f}); "
                f"inferring {result.n_inferred} labels"
            )
        for line in result.notes:
            say(f"warning: {line}")
    _write_label_report(request.out, ids, table, result)
    return result.classes


def _write_label_report(out: Path, ids: list[str], table: ClassLabels, result: Inference) -> None:
    """``labels.json`` (counts, held-out accuracy) and ``labels-used.csv`` (the class each image trains with)."""
    import csv
    import json

    from large_toolkit.api import atomic_path

    out.mkdir(parents=True, exist_ok=True)
    n_lab = int(table.labelled.sum())
    report = {
        "column": table.column,
        "classes": table.names,
        "n_images": len(ids),
        "n_labelled": n_lab,
        "n_inferred": result.n_inferred,
        "holdout_accuracy": result.holdout_accuracy,
        "holdout_n": result.holdout_n,
        "majority_rate": result.chance,
        "features": f"rotation extractor {result.extractor_fingerprint}" if result.n_inferred else None,
    }
    with atomic_path(out / "labels.json") as tmp:
        tmp.write_text(json.dumps(report, indent=1))
    with atomic_path(out / "labels-used.csv") as tmp, tmp.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["image", "class", "class_name", "given"])
        for i, c, g in zip(ids, result.classes.tolist(), table.labelled.tolist(), strict=True):
            writer.writerow([i, c, table.names[c], int(g)])
