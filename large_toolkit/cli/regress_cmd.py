"""``large-tk regress``: few-shot regression from latent distances (the LARGE method).

Three ways in:
  * ``--latents FILE`` (from ``large-tk invert``) with ``--labels`` or ``--label ID=VALUE``;
  * ``--images DIR`` (+ labels): inverted with ``--inverter`` (cached), then the same;
  * neither: the bundled demo (procedural faces with ground truth, demo generator and encoder).
The work itself is :func:`large_toolkit.regression.regress_job.run_regress`; this module parses and prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from large_toolkit.cli import options as opts
from large_toolkit.cli.output import note, print_json, print_table

EPILOG = opts.examples(
    "large-tk regress --direction sefa:3                                     (the bundled demo)",
    "large-tk regress --direction sefa:3 --images synth200/ --label-column light_intensity -o runs/light",
    "large-tk regress --backend stylegan2 --checkpoint ffhq.pkl --images 'faces/*.jpg' --labels ages.csv "
    "--inverter e4e --inverter-checkpoint e4e_ffhq_encode.pt --direction interfacegan:age --units years "
    "--group-column subject -o runs/age",
    "large-tk regress --latents lat.safetensors --direction sefa:3 --label img1=20 --label img9=70 -o runs/age",
    "large-tk regress --latents large_latents/ --direction boundary.npy --labels labels.txt --label-column age "
    "--n-labels 2,5,10,20,1000 --train-size 1000 --exact      (the official LARGE files and protocol)",
    "then: large-tk predict --model runs/age --images new/ -o new_ages.csv",
)


def _opt(help: str, **kw: Any) -> Any:
    return typer.Option(help=help, **kw)


Direction = Annotated[
    str,
    _opt(
        "sefa:3, interfacegan:smile, file:DIRS[:INDEX], a file; or "
        "auto / a set (sefa:0-9, a,b) chosen by leave-one-out on the labels."
    ),
]
Backend = Annotated[
    str | None,
    opts.backend("Generator backend (default: stylegan2; with --latents only needed for finder directions)."),
]
Images = Annotated[
    list[str] | None, opts.images("Images to invert and regress: a folder, files or globs (JPEG, PNG, WebP, ...).")
]
Latents = Annotated[
    Path | None, _opt("Latent file (large-tk invert), LARGE folder of <id>.npy/.pkl, or export .npy/.csv.")
]
Labels = Annotated[Path | None, _opt("CSV: image id (with or without extension) + values.")]
LabelPairs = Annotated[list[str] | None, typer.Option("--label", help="IMAGE_ID=VALUE (repeatable).")]
LabelColumn = Annotated[str | None, _opt("Value column (required when the table has several).")]
Units = Annotated[str | None, _opt("Units of the label, for charts (e.g. years).")]
GroupColumn = Annotated[
    str | None, _opt("Column of --labels naming groups (subject, session): each group wholly in train or test.")
]
Resize = Annotated[str, _opt("Images not at the generator's size: center-crop, fit or error.")]
Space = Annotated[str, _opt("Latent space: w, wplus or s.")]
NLabels = Annotated[str, _opt("Label counts to evaluate, e.g. 2,5,10,20,all.")]
LayerWeights = Annotated[Path | None, _opt("Per-layer weights (txt/csv/safetensors).")]
Combine = Annotated[str, _opt("auto, mean, weighted, sum or multi (released default).")]
Model = Annotated[str, _opt("ols, lasso, ridge or elasticnet.")]
Trim = Annotated[float, _opt("Central fraction of training distances kept.")]
Repeats = Annotated[int, _opt("Random draws per label count.")]
TrainSize = Annotated[int | None, _opt("Training pool (default min(1000, labels/2)).")]
Exact = Annotated[
    bool,
    _opt(
        "Reproduction mode: the released train_regression_model.py's split, draws (per-feature "
        "spacing test, short draws fitted as they are), n loop and scikit-learn fits, and with "
        "--combine auto every layer as its own feature (slow). Default: the vectorised protocol "
        "(L2 spacing, batched fits), which the README's numbers use."
    ),
]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Re-invert even if cached latents exist.")]
Compare = Annotated[
    bool,
    _opt(
        "Also run baselines (mean label, ridge on pixels / latent "
        "code, k-NN) on the same draws and print them beside LARGE."
    ),
]
Scale = Annotated[int, _opt("Upsample images in strip.png this many times.", min=1)]
Out = Annotated[Path | None, opts.out("Folder for predictions.csv, results.json, the model and charts.")]


def regress_cmd(
    direction: Direction,
    backend: Backend = None,
    checkpoint: opts.Checkpoint = None,
    force: opts.Force = False,
    class_idx: opts.ClassIdx = None,
    images: Images = None,
    latents: Latents = None,
    labels: Labels = None,
    label: LabelPairs = None,
    label_column: LabelColumn = None,
    units: Units = None,
    group_column: GroupColumn = None,
    inverter: opts.Inverter = "encoder",
    inverter_checkpoint: opts.InverterCheckpoint = None,
    resize: Resize = "center-crop",
    space: Space = "wplus",
    n_labels: NLabels = "2,5,10,20,all",
    layers: opts.Layers = None,
    layer_weights: LayerWeights = None,
    normalize_weights: opts.NormalizeWeights = False,
    combine: Combine = "auto",
    distance: opts.Distance = "per_layer",
    model: Model = "ols",
    trim: Trim = 1.0,
    repeats: Repeats = 1000,
    train_size: TrainSize = None,
    seed: Annotated[int, opts.seed("Seed of the split and the draws.")] = 2,
    exact: Exact = False,
    batch_size: opts.InversionBatch = 64,
    no_cache: NoCache = False,
    compare: Compare = False,
    scale: Scale = 4,
    out: Out = None,
    json_out: opts.Json = False,
) -> None:
    """Few-shot regression: calibrate latent distances to real values with a handful of labels."""
    from large_toolkit.regression.regress_job import RegressRequest, run_regress

    run = run_regress(RegressRequest.from_options(locals()), note)
    outcome, data = run.outcome, run.data
    if json_out:
        print_json({**outcome.summary(), "outputs": [str(p) for p in run.written]})
        return
    _print_report(outcome, data.ids, data.demo, repeats)
    if compare:
        _print_compare(outcome.info["compare"], data.column)
    for p in run.written:
        print(f"wrote {p}")
    note(f"done in {outcome.info['seconds']} s")


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
    app.command("regress", epilog=EPILOG)(regress_cmd)
