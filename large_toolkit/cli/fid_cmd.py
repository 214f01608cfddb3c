"""``large-tk fid``: Fréchet distance between a generator's samples and a real image set.

The default extractor is a rotation-prediction network trained ONCE per real set (no download; stored
in the cache under the set's content hash, with a fixed seed that ``--seed`` does not change) and reused
by every later run and by ``large-tk train``'s snapshots.  The result states the extractor's weight
fingerprint, the real set's fingerprint and both n: two results compare when those agree.
``--extractor inception --inception-weights FILE`` uses torchvision's Inception-v3 weights instead.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from large_toolkit.analysis.defaults import DEFAULT_ROTATION_EPOCHS
from large_toolkit.analysis.fid_run import SYNTHETIC_REAL_N
from large_toolkit.cli import options
from large_toolkit.cli.output import note, print_json, print_table

FID_EPILOG = (
    "Examples:\n\n"
    "  large-tk fid --backend stylegan2 --real synthetic\n\n"
    "  large-tk fid --backend stylegan2 --checkpoint G.safetensors --real faces/ --n 10000 --json\n\n"
    "  large-tk fid --real faces/ --extractor inception --inception-weights inception_v3.pth\n\n"
    "--real synthetic renders --n-real procedural demo images (default 5000, whatever --n) with --real-seed "
    "(default 1: held out from the seed-0 set the demo generator was trained on).  Results compare when they "
    "name the same extractor fingerprint and real set."
)


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
    from large_toolkit.analysis.fid_run import FidSettings, run_fid
    from large_toolkit.cli.state import OPTIONS

    settings = FidSettings(
        real=real,
        backend=backend,
        checkpoint=checkpoint,
        class_idx=class_idx,
        n=n,
        n_real=n_real,
        real_seed=real_seed,
        extractor=extractor,
        inception_weights=inception_weights,
        psi=psi,
        seed=seed,
        rotation_epochs=rotation_epochs,
        batch_size=batch_size,
        use_cache=not no_cache,
    )
    result = run_fid(settings, OPTIONS.device)
    if json_out:
        print_json(result)
    else:
        _render(result, backend, kept=not no_cache)


def _render(result: dict[str, Any], backend: str, kept: bool) -> None:
    """The result table, then what makes two results comparable, then where the time went.

    ``kept`` False (``--no-cache``): a freshly trained extractor went to a scratch folder, so it is not called stored.
    """
    print_table(
        f"Fréchet distance ({result['extractor']} features, {result['feature_dim']}-d, "
        f"extractor {result['extractor_fingerprint']})",
        ["generated", "real", "real set", "FD", "FD / tr(C_real)"],
        [
            (
                f"{result['n']} x {backend} (psi {result['psi']:g}, seed {result['seed']})",
                f"{result['n_real']} x {result['real']}",
                result["real_fingerprint"],
                f"{result['fd']:.4g}",
                f"{result['fd_relative']:.4g}",
            )
        ],
    )
    cached = result["cached"]
    origin = "stored"
    if result["extractor"] == "rotation" and not cached["extractor"]:
        origin = "trained now and stored" if kept else "trained now, not kept: --no-cache"
    note(
        f"extractor {result['extractor']} {result['extractor_fingerprint']} ({origin}); "
        f"real set {result['real_fingerprint']} (n={result['n_real']}); "
        f"generated n={result['n']}: compare FDs only when these agree"
    )
    note(
        f"total {result['total_seconds']:.1f} s on {result['device']}"
        + ("; cached real statistics" if cached["real_stats"] else "")
    )


def install(app: typer.Typer) -> None:
    app.command("fid", epilog=FID_EPILOG)(fid)
