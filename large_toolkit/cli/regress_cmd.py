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

from large_toolkit.cli import options as opts
from large_toolkit.cli.output import note, print_json, print_table

EPILOG = (
    "Examples:\n\n"
    "  large-tk regress --direction sefa:3                                     (the bundled demo)\n\n"
    "  large-tk regress --direction sefa:3 --images synth200/ --label-column light_intensity -o runs/light\n\n"
    "  large-tk regress --backend stylegan2 --checkpoint ffhq.pkl --images 'faces/*.jpg' --labels ages.csv "
    "--inverter e4e --inverter-checkpoint e4e_ffhq_encode.pt --direction interfacegan:age --units years "
    "--group-column subject -o runs/age\n\n"
    "  large-tk regress --latents lat.safetensors --direction sefa:3 --label img1=20 --label img9=70 -o runs/age\n\n"
    "  large-tk regress --latents large_latents/ --direction boundary.npy --labels labels.txt --label-column age "
    "--n-labels 2,5,10,20,1000 --train-size 1000 --exact      (the official LARGE files and protocol)\n\n"
    "  then: large-tk predict --model runs/age --images new/ -o new_ages.csv"
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


def _strip(
    path: Path, images: Any, distances: Any, labels: dict[int, float], direction: str, column: str, scale: int
) -> None:
    """16 images evenly spaced along the sorted distances, each captioned with its distance (and label)."""
    from large_toolkit.regression.plots import strip_chart
    from large_toolkit.regression.sorting import sort_order, strip_positions

    order = sort_order(distances)
    rows = order[strip_positions(len(order), 16)]
    captions = [f"d={distances[r]:+.3g}" + (f"\n{labels[r]:.3g}" if r in labels else "") for r in rows]
    strip_chart(
        path,
        images[rows],
        captions,
        scale=scale,
        title=f"{len(rows)} of {len(distances)} images sorted by distance d along {direction}"
        + (f" (below: d and {column})" if labels else " (below: d)"),
    )


def _compare(outcome: Any, data: Any, ns: list[int | str], repeats: int, seed: int) -> dict[str, Any]:
    """Baselines on the same uniform draws as LARGE's line (see :mod:`large_toolkit.regression.baselines`)."""
    import numpy as np

    from large_toolkit.errors import UserInputError
    from large_toolkit.regression.baselines import compare

    if outcome.protocol is None:
        raise UserInputError("--compare needs at least 4 labels (a training pool and a test set)")
    rows = np.asarray(data.rows)
    codes = data.latents.tensor.double().reshape(len(data.ids), -1).numpy()[rows]
    pixels = data.pixels.reshape(len(data.ids), -1)[rows] if data.pixels is not None else None
    pool, test = outcome.protocol.train_index, outcome.protocol.test_index
    counts = [int(n) for n in ns if n != "all"] + [len(pool)]
    maes = compare(
        outcome.features[rows, 0],
        np.asarray(data.values),
        pool,
        test,
        codes,
        pixels,
        sorted(set(counts)),
        min(repeats, 200),
        seed,
    )
    return {
        "draws": "uniform random subsets of the pool, the same for every method",
        "repeats": min(repeats, 200),
        "mae": {m: {str(n): v for n, v in per.items()} for m, per in maes.items()},
    }


def _print_compare(result: dict[str, Any], column: str) -> None:
    maes = result["mae"]
    ns = list(next(iter(maes.values())).keys())
    print_table(
        f"test MAE of {column}: LARGE vs baselines ({result['repeats']} uniform draws per n, the same for "
        "every method; last column: the whole pool)",
        ["method", *[f"n={n}" for n in ns]],
        [(m, *(f"{per[n]:.4g}" for n in ns)) for m, per in maes.items()],
    )


def _print_report(outcome: Any, ids: list[str], demo: bool, repeats: int) -> None:
    from large_toolkit.cli.output import note

    info = outcome.info
    if demo:
        print(
            f"demo: {len(ids)} procedural faces, direction {info['direction']} tracks '{info['factor']}' "
            f"(Spearman {info['spearman']:+.3f})" + ("; latents from cache" if info.get("latents_cached") else "")
        )
    if outcome.protocol is not None:
        settings = outcome.protocol.settings
        split = "grouped split, " if settings.get("grouped") else ""
        print_table(
            f"few-shot MAE of {info['label_column']} over {repeats} draws ({split}training pool "
            f"{settings['train_size']}, test set {settings['test_size']} images)",
            ["n labels", "MAE mean", "MAE std", "MAE max", "R² mean"],
            [
                (r.n, f"{r.mae_mean:.4g}", f"{r.mae_std:.3g}", f"{r.mae_max:.4g}", f"{r.r2_mean:.3f}")
                for r in outcome.protocol.rows
            ],
        )
        for line in settings.get("warnings", []):
            note(f"warning: {line}")
    if not demo:
        unl = [i for i in range(len(ids)) if i not in outcome.labels]
        if unl:
            print_table(
                f"predictions of {info['label_column']} ({len(unl)} unlabelled images"
                + (", first 20)" if len(unl) > 20 else ")"),
                ["id", "distance", "prediction"],
                [(ids[i], f"{outcome.features[i, 0]:.4g}", f"{outcome.predictions[i]:.4g}") for i in unl[:20]],
            )
        else:
            print(
                f"all {len(ids)} images are labelled: no unlabelled image to predict (predictions.csv has the "
                "fitted values)"
            )


def install(app: typer.Typer) -> None:
    @app.command("regress", epilog=EPILOG)
    def regress_cmd(
        direction: Annotated[
            str,
            typer.Option(
                help="sefa:3, interfacegan:smile, file:DIRS[:INDEX], a file; or "
                "auto / a set (sefa:0-9, a,b) chosen by leave-one-out on the labels."
            ),
        ],
        backend: Annotated[
            str | None,
            opts.backend("Generator backend (default: stylegan2; with --latents only needed for finder directions)."),
        ] = None,
        checkpoint: Annotated[str | None, opts.checkpoint()] = None,
        images: Annotated[
            list[str] | None,
            opts.images("Images to invert and regress: a folder, files or globs (JPEG, PNG, WebP, ...)."),
        ] = None,
        latents: Annotated[
            Path | None,
            typer.Option(help="Latent file (large-tk invert), LARGE folder of <id>.npy/.pkl, or export .npy/.csv."),
        ] = None,
        labels: Annotated[Path | None, typer.Option(help="CSV: image id (with or without extension) + values.")] = None,
        label: Annotated[list[str] | None, typer.Option("--label", help="IMAGE_ID=VALUE (repeatable).")] = None,
        label_column: Annotated[
            str | None, typer.Option(help="Value column (required when the table has several).")
        ] = None,
        units: Annotated[str | None, typer.Option(help="Units of the label, for charts (e.g. years).")] = None,
        group_column: Annotated[
            str | None,
            typer.Option(
                help="Column of --labels naming groups (subject, session): each group wholly in train or test."
            ),
        ] = None,
        inverter: Annotated[str, typer.Option(help="Inverter for --images (encoder, e4e, psp, optim).")] = "encoder",
        inverter_checkpoint: Annotated[str | None, typer.Option(help="Encoder weights for the inverter.")] = None,
        resize: Annotated[
            str, typer.Option(help="Images not at the generator's size: center-crop, fit or error.")
        ] = "center-crop",
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
        seed: Annotated[int, opts.seed("Seed of the split and the draws.")] = 2,
        exact: Annotated[
            bool,
            typer.Option(
                help="Reproduction mode: the released train_regression_model.py's split, draws (per-feature "
                "spacing test, short draws fitted as they are), n loop and scikit-learn fits, and with "
                "--combine auto every layer as its own feature (slow). Default: the vectorised protocol "
                "(L2 spacing, batched fits), which the README's numbers use."
            ),
        ] = False,
        batch_size: Annotated[int, opts.batch_size("Inversion batch size.")] = 64,
        no_cache: Annotated[bool, typer.Option("--no-cache", help="Re-invert even if cached latents exist.")] = False,
        compare: Annotated[
            bool,
            typer.Option(
                help="Also run baselines (mean label, ridge on pixels / latent "
                "code, k-NN) on the same draws and print them beside LARGE."
            ),
        ] = False,
        scale: Annotated[int, typer.Option(help="Upsample images in strip.png this many times.", min=1)] = 4,
        out: Annotated[Path | None, opts.out("Folder for predictions.csv, results.json, the model and charts.")] = None,
        json_out: Annotated[bool, opts.json_output()] = False,
    ) -> None:
        """Few-shot regression: calibrate latent distances to real values with a handful of labels."""
        import time

        from large_toolkit.cli.latent_inputs import feature_spec
        from large_toolkit.regression.run import regress, write_outputs
        from large_toolkit.regression.session import gather_inputs
        from large_toolkit.validate import check_regress_options

        start = time.perf_counter()
        check_regress_options(repeats, trim, out)
        if exact and combine == "auto" and layer_weights is None:
            combine = "multi"  # the released script fits every selected layer's distance as its own feature
        spec = feature_spec(layers, layer_weights, normalize_weights, combine, distance)
        data = gather_inputs(
            direction=direction,
            backend=backend,
            checkpoint=checkpoint,
            images=images,
            latents=latents,
            labels=labels,
            label_pairs=label,
            label_column=label_column,
            group_column=group_column,
            inverter=inverter,
            inverter_checkpoint=inverter_checkpoint,
            resize=resize,
            space=space,
            batch_size=batch_size,
            use_cache=not no_cache,
            spec=spec,
        )
        for line in data.notes:
            note(line)
        outcome = regress(
            data.latents,
            data.ids,
            data.direction,
            data.rows,
            data.values,
            spec=spec,
            model=model,
            trim_ratio=trim,
            evaluate=len(data.rows) >= 4,
            ns=_parse_ns(n_labels),
            repeats=repeats,
            train_size=train_size or data.train_size,
            seed=seed,
            mode="exact" if exact else "vectorised",
            generator=data.generator,
            groups=data.groups,
        )
        if compare:
            outcome.info["compare"] = _compare(outcome, data, _parse_ns(n_labels), repeats, seed)
        chosen = data.info.get("direction_chosen")
        if data.demo and units is None:
            from large_toolkit.data.factors import FACTORS

            units = next((f.unit for f in FACTORS if f.name == data.column), None)
        outcome.info.update(data.info, direction=chosen or direction, label_column=data.column, units=units)
        out = out or (Path("large-tk-demo") if data.demo else None)
        written = []
        if out is not None:
            written = write_outputs(outcome, out, data.direction, spec, data.fingerprint)
            if data.pixels is not None:
                name = outcome.info["direction"]
                _strip(out / "strip.png", data.pixels, outcome.features[:, 0], outcome.labels, name, data.column, scale)
                written.append(out / "strip.png")
        outcome.info["seconds"] = round(time.perf_counter() - start, 2)
        if json_out:
            print_json({**outcome.summary(), "outputs": [str(p) for p in written]})
            return
        _print_report(outcome, data.ids, data.demo, repeats)
        if compare:
            _print_compare(outcome.info["compare"], data.column)
        for p in written:
            print(f"wrote {p}")
        note(f"done in {outcome.info['seconds']} s")
