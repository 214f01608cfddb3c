"""``large-tk train --backend stylegan2``: train a StyleGAN2 on an image folder or the procedural demo data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from large_toolkit.api import cli_options as options

EPILOG = (
    "Examples:\n\n"
    "  large-tk train --data synthetic --kimg 200 -o runs/demo\n\n"
    "  large-tk train --data glyphs/ --mirror --augment ada --kimg 500 -o runs/glyphs --threads 2\n\n"
    "  large-tk train --data faces/ --labels faces/labels.csv --label-column age --label-bins 4 -o runs/faces\n\n"
    "  large-tk train --data synthetic --kimg 400 -o runs/demo --resume\n\n"
    "The run folder holds G_ema.safetensors (usable at once by every command: --checkpoint RUN/G_ema.safetensors), "
    "log.txt, log.json, metrics.jsonl + metrics.png (FD vs the training set, losses, augment p per snapshot) "
    "and a sample grid per snapshot.  Folders under 5000 images get --augment ada unless told otherwise."
)
ADA_DEFAULT_BELOW = 5000


def install(app: typer.Typer) -> None:
    @app.command("train", epilog=EPILOG)
    def train(
        out: Annotated[Path, options.out("Run folder: G_ema.safetensors, state, sample grids, logs, metrics.")],
        backend: Annotated[str, options.backend("Generator architecture to train.")] = "stylegan2",
        data: Annotated[
            str, typer.Option("--data", help="Image folder, or 'synthetic' for the demo data.")
        ] = "synthetic",
        resolution: Annotated[int, typer.Option("--resolution", help="Image size (power of two).")] = 32,
        kimg: Annotated[float, typer.Option("--kimg", help="Thousands of real images to show D.")] = 100.0,
        batch_size: Annotated[int, options.batch_size("Minibatch size (the global batch under torchrun).")] = 32,
        threads: Annotated[
            int | None, typer.Option("--threads", min=1, help="CPU threads for torch (default: torch's choice).")
        ] = None,
        n_synthetic: Annotated[
            int, typer.Option("--n-synthetic", help="Images to render for --data synthetic.")
        ] = 20000,
        mirror: Annotated[bool, typer.Option("--mirror", help="Double the data with x-flipped copies.")] = False,
        augment: Annotated[
            str | None,
            typer.Option(
                "--augment", help="ada (adaptive p), fixed (--augment-p), none. Default: ada below 5000 images."
            ),
        ] = None,
        augment_p: Annotated[
            float, typer.Option("--augment-p", help="Augment probability: the fixed p, or ADA's start.")
        ] = 0.0,
        ada_target: Annotated[
            float, typer.Option("--ada-target", help="ADA's target for r_t = E[sign D(real)].")
        ] = 0.6,
        ada_kimg: Annotated[
            float | None,
            typer.Option("--ada-kimg", help="kimg for p to go 0 -> 1 (NVIDIA: 500; default min(500, kimg/5))."),
        ] = None,
        cutout: Annotated[bool, typer.Option("--cutout", help="Add ADA's cutout to the pipeline.")] = False,
        labels: Annotated[
            Path | None, typer.Option("--labels", help="CSV: image column + class column; empty cells = unlabelled.")
        ] = None,
        label_column: Annotated[str | None, typer.Option("--label-column", help="Class column of --labels.")] = None,
        label_bins: Annotated[
            int | None, typer.Option("--label-bins", min=2, help="Bin a numeric --label-column into K classes.")
        ] = None,
        fd_n: Annotated[
            int, typer.Option("--fd-n", min=0, help="Generated images for the per-snapshot FD (0: no FD).")
        ] = 1000,
        inception_weights: Annotated[
            str | None, typer.Option("--inception-weights", help="Inception-v3 weights: FD with it, not rotation.")
        ] = None,
        z_dim: Annotated[int, typer.Option("--z-dim")] = 64,
        w_dim: Annotated[int, typer.Option("--w-dim")] = 64,
        mapping_layers: Annotated[int, typer.Option("--mapping-layers")] = 2,
        channel_base: Annotated[int, typer.Option("--channel-base")] = 4096,
        channel_max: Annotated[int, typer.Option("--channel-max")] = 128,
        gamma: Annotated[float | None, typer.Option("--gamma", help="R1 weight (default: NVIDIA's auto rule).")] = None,
        rotation_loss: Annotated[
            bool, typer.Option("--rotation-loss", help="Self-supervised rotation loss on D (on with --labels).")
        ] = False,
        snapshot_kimg: Annotated[float, typer.Option("--snapshot-kimg")] = 10.0,
        seed: Annotated[int, options.seed()] = 0,
        resume: Annotated[bool, typer.Option("--resume", help="Continue the run saved in --out.")] = False,
    ) -> None:
        """Train a StyleGAN2 from scratch: ADA for small data, optional class labels (some may be missing).

        With --labels where only some rows have a class, the missing ones are inferred first (S³GAN):
        rotation features of all images, a logistic regression on the labelled ones (held-out accuracy
        printed), then a class-conditional StyleGAN2 is trained with D's rotation loss on.
        Under ``torchrun --nproc_per_node N`` the ranks split --batch-size and average gradients; only
        rank 0 shows progress and writes the run folder.
        """
        import shutil

        import torch

        from large_stylegan2.trainer.loop import Trainer, TrainOptions
        from large_toolkit.api import UserInputError, global_device, make_progress, note, resolve_device

        if backend != "stylegan2":
            raise UserInputError(f"the trainer supports --backend stylegan2, not {backend!r}")
        if threads is not None:
            torch.set_num_threads(threads)
        if (label_column or label_bins) and labels is None:
            raise UserInputError("--label-column/--label-bins need --labels CSV")
        if labels is not None and data == "synthetic":
            raise UserInputError("--labels needs --data FOLDER", hint="write the demo data with `large-tk data synth`")
        if resume and not (out / "training-state.safetensors").is_file():
            raise UserInputError(
                f"nothing to resume: {out}/training-state.safetensors does not exist",
                hint="start a run without --resume",
            )
        if data != "synthetic" and not Path(data).is_dir():
            raise UserInputError(f"--data {data!r} is not a folder", hint="pass an image folder or 'synthetic'")
        from large_toolkit.api import init_distributed
        from large_toolkit.api import shutdown_distributed as shutdown

        dist = init_distributed(resolve_device(global_device()))
        device = dist.device
        say = note if dist.is_main else (lambda _msg: None)
        created = not out.exists()
        if dist.is_main:  # the run folder and its log exist from the first second (a job under nohup shows up)
            out.mkdir(parents=True, exist_ok=True)
            _log(out, f"large-tk train: reading {data}")
        try:
            images_np, ids = _load_images(data, resolution, n_synthetic, seed)
            class_idx = None
            if labels is not None and not resume:
                class_idx = _classes(images_np, ids, labels, label_column, label_bins, seed, out, say)
            images = torch.from_numpy(images_np)
            if resume:
                trainer = Trainer.resume(images, out, device, kimg=kimg, dist=dist)
            else:
                if augment is None:
                    augment = "ada" if len(images) < ADA_DEFAULT_BELOW else "none"
                    say(f"--augment {augment} ({len(images)} images; ADA is the default below {ADA_DEFAULT_BELOW})")
                opts = TrainOptions(
                    resolution=resolution,
                    z_dim=z_dim,
                    w_dim=w_dim,
                    mapping_layers=mapping_layers,
                    channel_base=channel_base,
                    channel_max=channel_max,
                    batch=batch_size,
                    kimg=kimg,
                    r1_gamma=gamma,
                    rotation_loss=rotation_loss or class_idx is not None,
                    seed=seed,
                    snapshot_kimg=snapshot_kimg,
                    augment=augment,
                    augment_p=augment_p,
                    ada_target=ada_target,
                    ada_kimg=ada_kimg,
                    cutout=cutout,
                    mirror=mirror,
                    c_dim=0 if class_idx is None else int(class_idx.max()) + 1,
                    fd_n=fd_n,
                    inception_weights=inception_weights,
                )
                trainer = Trainer(
                    images, opts, out, device, dist, None if class_idx is None else torch.from_numpy(class_idx)
                )
        except UserInputError:
            if created:  # bad input found before training: leave no half-made run folder
                shutil.rmtree(out, ignore_errors=True)
            raise
        trainer.start_log()
        say(f"run folder {out} (log.txt, metrics.jsonl); {len(images)} images, augment {trainer.opts.augment}")
        total_kimg = trainer.opts.kimg
        with make_progress(disable=not dist.is_main) as progress:
            task = progress.add_task("train", total=int(total_kimg * 1000), completed=trainer.nimg)
            start_nimg = trainer.nimg
            import time

            t0 = time.monotonic()

            def report(done: int, total: int, stats: dict[str, float]) -> None:
                shown = max(done - start_nimg, 1)
                spk = (time.monotonic() - t0) / shown * 1000
                desc = f"train {done / 1000:.3f}/{total / 1000:g} kimg, {spk:.1f} s/kimg, p {trainer.augment_p:.3f}"
                progress.update(task, completed=done, description=desc)

            path = trainer.train(report)
        shutdown(dist)
        if not dist.is_main:
            return
        note(f"trained to {trainer.nimg / 1000:g} kimg on {device}; generator: {path}")


def _log(out: Path, message: str) -> None:
    import time

    with (out / "log.txt").open("a") as f:
        f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")


def _load_images(data: str, resolution: int, n_synthetic: int, seed: int):
    """uint8 NHWC images (and their file names) from a folder or the procedural generator."""
    if data == "synthetic":
        from large_toolkit.api import synthetic_images as generate

        return generate(n_synthetic, seed=seed, resolution=resolution).images, []
    from large_toolkit.api import read_image_folder

    folder = read_image_folder(data, find_labels=False)
    return folder.images, list(folder.ids)


def _classes(images, ids, labels, column, bins, seed, out, say):
    """Class index per image: given, or inferred from the labelled ones (S³GAN); reported before training."""
    import csv
    import json

    from large_stylegan2.trainer.labels import infer_classes, read_class_labels
    from large_toolkit.api import atomic_path

    table = read_class_labels(labels, ids, column, bins)
    n_lab = int(table.labelled.sum())
    say(f"labels: column {table.column!r}, {len(table.names)} classes, {n_lab}/{len(ids)} images labelled")
    result = infer_classes(images, table, seed)
    if result.n_inferred:
        if result.holdout_accuracy is not None:
            say(
                f"inferred-label accuracy on {result.holdout_n} held-out labelled images: "
                f"{result.holdout_accuracy:.3f} (majority class {result.chance:.3f}); "
                f"inferring {result.n_inferred} labels"
            )
        for line in result.notes:
            say(f"warning: {line}")
    out.mkdir(parents=True, exist_ok=True)
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
    return result.classes
