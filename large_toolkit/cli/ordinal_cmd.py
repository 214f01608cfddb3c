"""``large-tk ordinal``: K ordered classes from latent distances (unsupervised or few-shot).

Without labels the cut points are quantiles of the distance at the class
priors.  With ``--label ID=CLASS`` pairs the cut points are fitted from those
labels.  With a ``--labels`` table (classes 0..K-1, or continuous values that
are binned into K quantile classes) it also evaluates: unsupervised and
few-shot (``--n-labels`` labels per draw, ``--repeats`` draws) accuracy and
MAE in class units on the labelled images.  The work is :mod:`large_toolkit.regression.ordinal_job`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from large_toolkit.cli import options as opts
from large_toolkit.cli.output import note, print_json, print_table

EPILOG = opts.examples(
    "large-tk ordinal --latents lat.safetensors --direction sefa:3 --classes 3 --out runs/ord",
    "large-tk ordinal --latents lat.safetensors --direction sefa:3 --classes 4 --labels labels.csv "
    "--label-column light_intensity --n-labels 2,5,10 --json",
    "large-tk ordinal --latents lat.safetensors --direction sefa:3 --classes 2 --label img3=0 --label img9=1",
)

Classes = Annotated[int, typer.Option(help="Number of ordered classes K.", min=2)]
Priors = Annotated[str | None, typer.Option(help="Class priors for the unsupervised cut, e.g. 1,2,1.")]
Descending = Annotated[bool, typer.Option(help="Unsupervised: class 0 = largest distance.")]
Method = Annotated[str, typer.Option(help="Few-shot cut points: midpoint, linear or logistic.")]
Labels = Annotated[
    Path | None,
    typer.Option(
        help="CSV of labels: evaluate (and fit on all). Classes 0..K-1, or continuous values, "
        "which are binned into K equal-count classes."
    ),
]
LabelPairs = Annotated[list[str] | None, typer.Option("--label", help="IMAGE_ID=CLASS, CLASS in 0..K-1 (repeatable).")]
NLabels = Annotated[str, typer.Option(help="Few-shot label counts to evaluate.")]
Repeats = Annotated[int, typer.Option(help="Random draws per label count.", min=1)]
Out = Annotated[Path | None, opts.out("Folder for classes.csv, ordinal.json and the model (for predict).")]


@opts.option_group(opts.finder_features)
def ordinal_cmd(
    latents: opts.LatentFile,
    direction: opts.FileDirection,
    classes: Classes = 3,
    priors: Priors = None,
    descending: Descending = False,
    method: Method = "midpoint",
    labels: Labels = None,
    label_column: opts.LabelColumn = None,
    label: LabelPairs = None,
    n_labels: NLabels = "2,5,10",
    repeats: Repeats = 200,
    seed: Annotated[int, opts.seed("Seed of the draws.")] = 2,
    out: Out = None,
    json_out: opts.JsonData = False,
    **common: Any,
) -> None:
    """Ordinal regression: put every image into one of K ordered classes by its latent distance."""
    import numpy as np

    from large_toolkit.regression import ordinal_job as oj
    from large_toolkit.regression.latent_job import open_latents
    from large_toolkit.regression.predict import latent_fingerprint

    oj.check_method(method)
    settings = oj.OrdinalSettings(classes, priors, descending, method, tuple(oj.parse_counts(n_labels)), repeats, seed)
    source, spec = opts.finder_features(**common)
    job = open_latents(latents, source, spec, labels, label_column, label)
    run = oj.run_ordinal(job, direction, settings, evaluate=labels is not None, class_pairs=bool(label))
    binned = run.result.get("labels", {})
    if binned.get("binned"):
        edges = ", ".join(f"{e:.4g}" for e in binned["edges"])
        note(
            f"the {binned['n']} labels are not class indices 0-{classes - 1}: binned into {classes} "
            f"equal-count classes at {edges}"
        )
    paths = oj.write_ordinal(run, job, out, latent_fingerprint(latents)) if out is not None else []
    run.result["outputs"] = [str(p) for p in paths]
    if json_out:
        print_json(run.result)
        return
    cuts = np.sort(run.model.sign * run.model.thresholds)
    print_table(
        f"{len(job.ids)} images in {classes} classes ({run.model.method} cut points)",
        ["class", "images", "from distance"],
        [(k, c, "-inf" if k == 0 else f"{cuts[k - 1]:.4g}") for k, c in enumerate(run.result["class_counts"])],
    )
    if "evaluation" in run.result:
        _print_evaluation(run.result["evaluation"], method)
    for p in paths:
        note(f"wrote {p}")


def _print_evaluation(ev: dict[str, Any], method: str) -> None:
    u = ev["unsupervised"]
    rows = [("unsupervised", "-", f"{u['accuracy']:.3f}", "-", f"{u['mae']:.3f}", "-")]
    rows += [
        (
            f"few-shot {method}",
            r["n"],
            *(f"{r[k]:.3f}" for k in ("accuracy_mean", "accuracy_std", "mae_mean", "mae_std")),
        )
        for r in ev["fewshot"]
    ]
    print_table(
        "accuracy and MAE (class units) on the labelled images",
        ["cut points", "n labels", "acc", "acc std", "MAE", "MAE std"],
        rows,
    )


def install(app: typer.Typer) -> None:
    app.command("ordinal", epilog=EPILOG)(ordinal_cmd)
