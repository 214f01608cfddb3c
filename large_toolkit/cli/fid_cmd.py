"""``large-tk fid``: Fréchet distance between a generator's samples and a real image set.

The default extractor is a rotation-prediction network trained ONCE per real set (no download; stored
in the cache under the set's content hash, with a fixed seed that ``--seed`` does not change) and reused
by every later run and by ``large-tk train``'s snapshots.  The result states the extractor's weight
fingerprint, the real set's fingerprint and both n: two results compare when those agree.
``--extractor inception --inception-weights FILE`` uses torchvision's Inception-v3 weights instead.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from large_toolkit.analysis.defaults import DEFAULT_ROTATION_EPOCHS
from large_toolkit.cli import options
from large_toolkit.cli.output import note, print_json, print_table

SYNTHETIC_REAL_N = 5000

FID_EPILOG = (
    "Examples:\n\n"
    "  large-tk fid --backend stylegan2 --real synthetic\n\n"
    "  large-tk fid --backend stylegan2 --checkpoint G.safetensors --real faces/ --n 10000 --json\n\n"
    "  large-tk fid --real faces/ --extractor inception --inception-weights inception_v3.pth\n\n"
    "--real synthetic renders --n-real procedural demo images (default 5000, whatever --n) with --real-seed "
    "(default 1: held out from the seed-0 set the demo generator was trained on).  Results compare when they "
    "name the same extractor fingerprint and real set."
)


def install(app: typer.Typer) -> None:
    @app.command("fid", epilog=FID_EPILOG)
    def fid(
        real: Annotated[str, typer.Option("--real", help="Folder of real PNGs, or 'synthetic' (procedural demo set).")],
        backend: Annotated[str, typer.Option("--backend", "-b", help="Generator backend.")] = "stylegan2",
        checkpoint: Annotated[
            str | None, typer.Option("--checkpoint", "-c", help="Generator file (default: the bundled demo).")
        ] = None,
        n: Annotated[int, typer.Option("--n", min=2, help="Generated images.")] = 5000,
        n_real: Annotated[
            int, typer.Option("--n-real", min=2, help="Real images for --real synthetic (fixed, so runs compare).")
        ] = SYNTHETIC_REAL_N,
        real_seed: Annotated[int, typer.Option("--real-seed", help="Seed of the --real synthetic set.")] = 1,
        extractor: Annotated[str, typer.Option("--extractor", help="rotation (default) or inception.")] = "rotation",
        inception_weights: Annotated[
            str | None,
            typer.Option("--inception-weights", help="torch.save'd torchvision inception_v3 state dict (no download)."),
        ] = None,
        psi: Annotated[float, typer.Option("--psi", help="Truncation psi (1 = none).")] = 1.0,
        seed: Annotated[int, typer.Option("--seed", help="Seed of the generated z (not of the extractor).")] = 0,
        rotation_epochs: Annotated[
            int,
            typer.Option(
                "--rotation-epochs",
                min=1,
                help="Training epochs of the rotation extractor (default: the "
                "stored one of the real set; another value trains and stores another extractor).",
            ),
        ] = DEFAULT_ROTATION_EPOCHS,
        batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Images per forward pass.")] = 250,
        no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not read or write the FID cache.")] = False,
        json_out: Annotated[bool, typer.Option("--json", help="Machine-readable result on stdout.")] = False,
        class_idx: options.ClassIdx = None,
    ) -> None:
        """Fréchet distance of generated samples vs real images (lower is better; 0 = same Gaussian fit)."""
        import tempfile
        from pathlib import Path

        from large_toolkit.analysis.fid_extractors import (
            EXTRACTOR_SEED,
            EXTRACTORS,
            MAX_ROTATION_TRAIN,
            RotationExtractor,
            generator_batches,
            images_hash,
            real_statistics,
        )
        from large_toolkit.analysis.frechet import feature_statistics, frechet_distance
        from large_toolkit.cli.state import OPTIONS
        from large_toolkit.errors import UserInputError
        from large_toolkit.progress import make_progress
        from large_toolkit.runner import resolve_device
        from large_toolkit.validate import check_finite

        check_finite(psi, "--psi")
        if extractor not in EXTRACTORS:
            raise UserInputError(f"unknown extractor {extractor!r}", hint=f"use {' or '.join(EXTRACTORS)}")
        if extractor == "inception" and not inception_weights:
            raise UserInputError(
                "--extractor inception needs --inception-weights FILE",
                hint="large-tk never downloads weights; save torchvision's inception_v3 state dict",
            )
        if inception_weights and extractor != "inception":
            raise UserInputError("--inception-weights is only used with --extractor inception")
        device = resolve_device(OPTIONS.device)
        timings: dict[str, float] = {}
        t0 = time.perf_counter()

        # cheap checks first: a bad weights file or generator fails before any long step
        feat: Any = None
        if extractor == "inception":
            from large_toolkit.analysis.inception import InceptionExtractor

            feat = InceptionExtractor.from_file(inception_weights, device)  # type: ignore[arg-type]
        from large_toolkit.conditional import bind_class
        from large_toolkit.plugins import load_generator

        gen = bind_class(load_generator(backend, checkpoint, str(device)), class_idx)
        images, real_name = _load_real(real, n_real, real_seed, gen.resolution)
        real_fingerprint = images_hash(images)
        timings["load_seconds"] = time.perf_counter() - t0

        cache_ctx = tempfile.TemporaryDirectory() if no_cache else None
        cache = Path(cache_ctx.name) if cache_ctx is not None else None
        try:
            with make_progress() as bar:
                cached_net = None
                if feat is None:
                    t = time.perf_counter()
                    steps = min(len(images), MAX_ROTATION_TRAIN) * rotation_epochs
                    task = bar.add_task("training rotation extractor", total=steps)
                    feat, cached_net = RotationExtractor.cached(
                        images,
                        seed=EXTRACTOR_SEED,
                        epochs=rotation_epochs,
                        cache=cache,
                        progress=lambda k: bar.advance(task, k),
                    )
                    feat.to(device)
                    timings["extractor_seconds"] = time.perf_counter() - t
                t = time.perf_counter()
                task = bar.add_task("real features", total=len(images))
                real_stats, cached_stats = real_statistics(
                    feat, images, batch_size, device, cache, lambda k: bar.advance(task, k)
                )
                timings["real_seconds"] = time.perf_counter() - t
                t = time.perf_counter()
                task = bar.add_task("generated features", total=n)
                fake_stats = feature_statistics(
                    feat, generator_batches(gen, n, seed, psi, batch_size), device, lambda k: bar.advance(task, k)
                )
                timings["generated_seconds"] = time.perf_counter() - t
        finally:
            if cache_ctx is not None:
                cache_ctx.cleanup()
        value = frechet_distance(fake_stats, real_stats)
        timings["total_seconds"] = time.perf_counter() - t0
        result = {
            "fd": value,
            "fd_relative": value / max(float(real_stats.cov.trace()), 1e-300),
            "extractor": feat.name,
            "extractor_fingerprint": feat.fingerprint,
            "feature_dim": feat.dim,
            "n": n,
            "n_real": real_stats.n,
            "real": real_name,
            "real_fingerprint": real_fingerprint,
            "generator": gen.fingerprint(),
            "psi": psi,
            "seed": seed,
            "device": str(device),
            "cached": {"extractor": cached_net, "real_stats": cached_stats},
            **{k: round(v, 3) for k, v in timings.items()},
        }
        if json_out:
            print_json(result)
            return
        print_table(
            f"Fréchet distance ({feat.name} features, {feat.dim}-d, extractor {feat.fingerprint})",
            ["generated", "real", "real set", "FD", "FD / tr(C_real)"],
            [
                (
                    f"{n} x {backend} (psi {psi:g}, seed {seed})",
                    f"{real_stats.n} x {real_name}",
                    real_fingerprint,
                    f"{value:.4g}",
                    f"{result['fd_relative']:.4g}",
                )
            ],
        )
        origin = "trained now and stored" if feat.name == "rotation" and not cached_net else "stored"
        note(
            f"extractor {feat.name} {feat.fingerprint} ({origin}); real set {real_fingerprint} (n={real_stats.n}); "
            f"generated n={n}: compare FDs only when these agree"
        )
        note(
            f"total {timings['total_seconds']:.1f} s on {device}" + ("; cached real statistics" if cached_stats else "")
        )


def _load_real(real: str, n_real: int, real_seed: int, resolution: int) -> tuple[Any, str]:
    """uint8 NHWC real images and a short description."""
    from large_toolkit.errors import UserInputError

    if real == "synthetic":
        from large_toolkit.data.synthetic import generate

        return generate(n_real, seed=real_seed, resolution=resolution).images, f"synthetic(seed {real_seed})"
    from pathlib import Path

    from large_toolkit.data.folders import read_image_folder

    if not Path(real).is_dir():
        raise UserInputError(f"--real {real!r} is not a folder", hint="pass a folder of PNGs or 'synthetic'")
    folder = read_image_folder(real, find_labels=False)
    if len(folder.images) < 2:
        raise UserInputError(f"--real {real} has {len(folder.images)} image(s); a covariance needs at least 2")
    return folder.images, str(real)
