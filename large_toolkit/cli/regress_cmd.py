"""``large-tk regress``: few-shot regression from latent distances (the LARGE method).

Three ways in:
  * ``--latents FILE`` (from ``large-tk invert``) with ``--labels`` or ``--label ID=VALUE``;
  * ``--images DIR`` (+ labels): inverted with ``--inverter`` (cached), then the same;
  * neither: the bundled demo (procedural faces with ground truth, demo generator and encoder).
The work itself is :func:`large_toolkit.regression.run.regress`; this module gathers inputs and prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from large_toolkit.cli.output import note, print_json, print_table

EPILOG = (
    "Examples:\n\n"
    "  large-tk regress --backend stylegan2 --direction sefa:3                 (the bundled demo)\n\n"
    "  large-tk regress --backend stylegan2 --checkpoint ffhq.pkl --images faces/ --labels ages.csv "
    "--inverter e4e --inverter-checkpoint e4e_ffhq_encode.pt --direction interfacegan:age --out runs/age\n\n"
    "  large-tk regress --latents lat.safetensors --direction file:dirs.safetensors:3 --label img1=20 "
    "--label img9=70 --out runs/age\n\n"
    "  large-tk regress --latents large_latents/ --direction boundary.npy --labels labels.txt --label-column age "
    "--n-labels 2,5,10,20,1000 --train-size 1000 --exact      (the official LARGE files and protocol)"
)


def _parse_ns(text: str) -> list[int | str]:
    from large_toolkit.errors import UserInputError

    ns: list[int | str] = []
    for part in text.split(","):
        part = part.strip().lower()
        if part == "all":
            ns.append("all")
        elif part.isdigit() and int(part) >= 2:
            ns.append(int(part))
        else:
            raise UserInputError(f"bad --n-labels entry {part!r}", hint="use counts >= 2 and 'all'")
    return ns


def _strip_png(path: Path, images: Any, distances: Any, count: int = 16) -> None:
    """The images sorted by distance, ``count`` evenly spaced ones in one row (scaled x2)."""
    from large_toolkit.io.png import make_grid, write_png
    from large_toolkit.regression.sorting import sort_order, strip_positions

    order = sort_order(distances)
    picked = images[order[strip_positions(len(order), count)]]
    grid = make_grid(picked, columns=len(picked))
    write_png(path, grid.repeat(2, axis=0).repeat(2, axis=1))


def install(app: typer.Typer) -> None:
    @app.command("regress", epilog=EPILOG)
    def regress_cmd(
        direction: Annotated[str, typer.Option(help="sefa:3, interfacegan:smile, file:DIRS[:INDEX] or a file.")],
        backend: Annotated[str | None, typer.Option(help="Generator backend (default: by checkpoint).")] = None,
        checkpoint: Annotated[str | None, typer.Option(help="Generator checkpoint (default: bundled demo).")] = None,
        images: Annotated[Path | None, typer.Option(help="Folder of PNG images to invert and regress.")] = None,
        latents: Annotated[
            Path | None,
            typer.Option(help="Latent file with image ids (large-tk invert), or a LARGE folder of <id>.npy/.pkl."),
        ] = None,
        labels: Annotated[Path | None, typer.Option(help="CSV: image id + value columns.")] = None,
        label: Annotated[list[str] | None, typer.Option("--label", help="IMAGE_ID=VALUE (repeatable).")] = None,
        label_column: Annotated[str | None, typer.Option(help="Value column in the labels (default: 2nd).")] = None,
        inverter: Annotated[str, typer.Option(help="Inverter for --images (encoder, e4e, psp, optim).")] = "encoder",
        inverter_checkpoint: Annotated[str | None, typer.Option(help="Encoder weights for the inverter.")] = None,
        space: Annotated[str, typer.Option(help="Latent space: w, wplus or s.")] = "wplus",
        n_labels: Annotated[str, typer.Option(help="Label counts to evaluate, e.g. 2,5,10,20,all.")] = "2,5,10,20,all",
        layers: Annotated[str | None, typer.Option(help="Layer subset: all, 3, 2-5,8.")] = None,
        layer_weights: Annotated[Path | None, typer.Option(help="Per-layer weights (txt/csv/safetensors).")] = None,
        normalize_weights: Annotated[bool, typer.Option(help="Rescale layer weights to sum 1.")] = False,
        combine: Annotated[str, typer.Option(help="auto, mean, weighted, sum or multi (released default).")] = "auto",
        distance: Annotated[str, typer.Option(help="per_layer or euclidean.")] = "per_layer",
        model: Annotated[str, typer.Option(help="ols, lasso, ridge or elasticnet.")] = "ols",
        trim: Annotated[float, typer.Option(help="Central fraction of training distances kept.")] = 1.0,
        repeats: Annotated[int, typer.Option(help="Random draws per label count.")] = 1000,
        train_size: Annotated[int | None, typer.Option(help="Training pool (default min(1000, labels/2)).")] = None,
        seed: Annotated[int, typer.Option(help="Seed of the split and the draws.")] = 2,
        exact: Annotated[
            bool,
            typer.Option(
                help="Reproduction mode: the released train_regression_model.py's split, draws (per-feature "
                "spacing test, short draws fitted as they are), n loop and scikit-learn fits, and with "
                "--combine auto every layer as its own feature (slow). Default: the vectorised protocol "
                "(L2 spacing, batched fits), which the README's numbers use."
            ),
        ] = False,
        batch_size: Annotated[int, typer.Option(help="Inversion batch size.")] = 64,
        no_cache: Annotated[bool, typer.Option("--no-cache", help="Re-invert even if cached latents exist.")] = False,
        out: Annotated[Path | None, typer.Option(help="Folder for predictions.csv, results.json, PNGs.")] = None,
        json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")] = False,
    ) -> None:
        """Few-shot regression: calibrate latent distances to real values with a handful of labels."""
        import time

        from large_toolkit.cli.latent_inputs import feature_spec
        from large_toolkit.cli.state import OPTIONS
        from large_toolkit.directions import resolve_direction
        from large_toolkit.errors import UserInputError
        from large_toolkit.regression.features import distance_features
        from large_toolkit.regression.inputs import match_labels, parse_label_pairs, read_label_table
        from large_toolkit.regression.run import regress, write_outputs
        from large_toolkit.types import LatentSpace

        start = time.perf_counter()
        if latents is not None and images is not None:
            raise UserInputError("give --latents or --images, not both")
        demo = latents is None and images is None
        if demo and (labels is not None or label):
            raise UserInputError("labels need --images or --latents", hint="the demo brings its own ground truth")
        if not demo and (labels is None) == (not label) and not (images is not None and labels is None and not label):
            raise UserInputError("give either --labels FILE or --label ID=VALUE pairs")
        if exact and combine == "auto" and layer_weights is None:
            combine = "multi"  # the released script fits every selected layer's distance as its own feature
        spec = feature_spec(layers, layer_weights, normalize_weights, combine, distance)
        info: dict[str, Any] = {}

        generator = None
        if latents is None or backend is not None:
            from large_toolkit.generators import resolve_generator

            generator = resolve_generator(backend, checkpoint, OPTIONS.device)
        direction_obj = resolve_direction(direction, generator)

        pixels = None
        if latents is not None and latents.is_dir():
            from large_toolkit.io.large_latents import read_large_folder

            lat, ids = read_large_folder(latents)
        elif latents is not None:
            from large_toolkit.io.artifacts import load_latents

            lat, ids, _ = load_latents(latents, generator)
            if ids is None:
                raise UserInputError(f"{latents} has no image ids", hint="save latents with ids to match labels")
            if LatentSpace.parse(space) is not lat.space and space != "wplus":
                raise UserInputError(f"{latents} holds {lat.space.value} latents, not {space}")
        else:
            from large_toolkit.latent_cache import invert_images
            from large_toolkit.plugins import get_host
            from large_toolkit.runner import Runner

            if demo:
                from large_toolkit.demo import demo_set

                data = demo_set()
                pixels, ids, table = data.images, data.ids, data.labels
            else:
                from large_toolkit.data.folders import read_image_folder

                folder = read_image_folder(images, find_labels=labels is None and not label)
                pixels, ids, table = folder.images, folder.ids, folder.labels
            inv = (
                get_host()
                .inverter(inverter)
                .create(generator, checkpoint=inverter_checkpoint, device=str(generator.device))
            )
            lat, cached = invert_images(
                pixels, generator, inv, space, Runner(device=generator.device, batch_size=batch_size), not no_cache
            )
            info["latents_cached"] = cached

        if demo:
            from large_toolkit.demo import DEMO_TRAIN, tracked_factor

            scalar = distance_features(lat, direction_obj, spec, generator)[:, 0]
            factor, rho, rhos = tracked_factor(scalar, table)
            rows, values = list(range(len(ids))), table.column(factor).tolist()
            train_size = train_size or DEMO_TRAIN
            out = out or Path("large-tk-demo")
            info.update(factor=factor, spearman=rho, spearman_all=rhos)
        else:
            if labels is not None:
                pairs = read_label_table(labels, label_column)
            elif label:
                pairs = parse_label_pairs(label)
            elif table is not None:
                column = label_column or table.columns[0]
                pairs = dict(zip(table.ids, table.column(column).tolist(), strict=True))
            else:
                raise UserInputError(f"{images} has no labels.csv", hint="pass --labels FILE or --label ID=VALUE")
            rows, values = match_labels(ids, pairs, str(labels) if labels is not None else "labels")

        outcome = regress(
            lat,
            ids,
            direction_obj,
            rows,
            values,
            spec=spec,
            model=model,
            trim_ratio=trim,
            evaluate=len(rows) >= 4,
            ns=_parse_ns(n_labels),
            repeats=repeats,
            train_size=train_size,
            seed=seed,
            mode="exact" if exact else "vectorised",
            generator=generator,
        )
        outcome.info.update(info, direction=direction)
        written = write_outputs(outcome, out) if out is not None else []
        if out is not None and pixels is not None:
            _strip_png(out / "strip.png", pixels, outcome.features[:, 0])
            written.append(out / "strip.png")
        outcome.info["seconds"] = round(time.perf_counter() - start, 2)
        if json_out:
            print_json({**outcome.summary(), "outputs": [str(p) for p in written]})
            return
        if demo:
            print(
                f"demo: {len(ids)} procedural faces ({DEMO_TRAIN} train pool / {len(ids) - DEMO_TRAIN} test), "
                f"direction {direction} tracks '{info['factor']}' (Spearman {info['spearman']:+.3f})"
                + ("; latents from cache" if info.get("latents_cached") else "")
            )
        if outcome.protocol is not None:
            unit = f" ({info['factor']})" if demo else ""
            print_table(
                f"few-shot MAE{unit} over {repeats} draws (test set {outcome.protocol.settings['test_size']} images)",
                ["n labels", "MAE mean", "MAE std", "MAE max", "R² mean"],
                [
                    (r.n, f"{r.mae_mean:.4g}", f"{r.mae_std:.3g}", f"{r.mae_max:.4g}", f"{r.r2_mean:.3f}")
                    for r in outcome.protocol.rows
                ],
            )
        if not demo:
            unl = [i for i in range(len(ids)) if i not in outcome.labels]
            print_table(
                f"predictions ({len(unl)} unlabelled images, first 20)",
                ["id", "distance", "prediction"],
                [(ids[i], f"{outcome.features[i, 0]:.4g}", f"{outcome.predictions[i]:.4g}") for i in unl[:20]],
            )
        for p in written:
            print(f"wrote {p}")
        note(f"done in {outcome.info['seconds']} s")
