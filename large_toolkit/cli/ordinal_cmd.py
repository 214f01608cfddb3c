"""``large-tk ordinal``: K ordered classes from latent distances (unsupervised or few-shot).

Without labels the cut points are quantiles of the distance at the class
priors.  With ``--label ID=CLASS`` pairs the cut points are fitted from those
labels.  With a ``--labels`` table (classes 0..K-1, or continuous values that
are binned into K quantile classes) it also evaluates: unsupervised and
few-shot (``--n-labels`` labels per draw, ``--repeats`` draws) accuracy and
MAE in class units on the labelled images.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated

import typer

from large_toolkit.cli import options as opts
from large_toolkit.cli.output import note, print_json, print_table

EPILOG = (
    "Examples:\n\n"
    "  large-tk ordinal --latents lat.safetensors --direction sefa:3 --classes 3 --out runs/ord\n\n"
    "  large-tk ordinal --latents lat.safetensors --direction sefa:3 --classes 4 --labels labels.csv "
    "--label-column light_intensity --n-labels 2,5,10 --json\n\n"
    "  large-tk ordinal --latents lat.safetensors --direction sefa:3 --classes 2 --label img3=0 --label img9=1"
)


def install(app: typer.Typer) -> None:
    @app.command("ordinal", epilog=EPILOG)
    def ordinal_cmd(
        latents: Annotated[Path, typer.Option(help="large-tk invert file, LARGE <id>.npy folder, export .npy/.csv.")],
        direction: Annotated[str, typer.Option(help="sefa:3, file:DIRS.safetensors[:INDEX|NAME], ...")],
        classes: Annotated[int, typer.Option(help="Number of ordered classes K.", min=2)] = 3,
        priors: Annotated[str | None, typer.Option(help="Class priors for the unsupervised cut, e.g. 1,2,1.")] = None,
        descending: Annotated[bool, typer.Option(help="Unsupervised: class 0 = largest distance.")] = False,
        method: Annotated[str, typer.Option(help="Few-shot cut points: midpoint, linear or logistic.")] = "midpoint",
        labels: Annotated[Path | None, typer.Option(help="CSV of labels: evaluate (and fit on all).")] = None,
        label_column: Annotated[str | None, typer.Option(help="Value column in --labels (if several).")] = None,
        label: Annotated[list[str] | None, typer.Option("--label", help="IMAGE_ID=CLASS (repeatable).")] = None,
        n_labels: Annotated[str, typer.Option(help="Few-shot label counts to evaluate.")] = "2,5,10",
        repeats: Annotated[int, typer.Option(help="Random draws per label count.", min=1)] = 200,
        seed: Annotated[int, opts.seed("Seed of the draws.")] = 2,
        backend: Annotated[str | None, opts.backend("Generator backend (finder specs).")] = None,
        checkpoint: Annotated[str | None, opts.checkpoint("Generator checkpoint (default: bundled demo).")] = None,
        layers: Annotated[str | None, typer.Option(help="Layer subset: all, 3, 2-5,8.")] = None,
        layer_weights: Annotated[Path | None, typer.Option(help="Per-layer weights (large-tk layers).")] = None,
        combine: Annotated[str, typer.Option(help="auto, mean, weighted or sum.")] = "auto",
        out: Annotated[
            Path | None, opts.out("Folder for classes.csv, ordinal.json and the model (for predict).")
        ] = None,
        json_out: Annotated[bool, opts.json_output("Machine-readable output on stdout.")] = False,
    ) -> None:
        """Ordinal regression: put every image into one of K ordered classes by its latent distance."""
        import numpy as np

        from large_toolkit.cli.latent_inputs import (
            GeneratorSource,
            distances_for,
            feature_spec,
            labels_by_row,
            load_latent_file,
            resolve_one,
        )
        from large_toolkit.errors import UserInputError
        from large_toolkit.io.atomic import write_text_atomic
        from large_toolkit.regression import ordinal as od

        if method not in od.FEWSHOT_METHODS:
            raise UserInputError(f"unknown --method {method!r}", hint=f"use one of {', '.join(od.FEWSHOT_METHODS)}")
        counts = []
        for part in n_labels.split(","):
            if not part.strip().isdigit() or int(part) < 2:
                raise UserInputError(f"bad --n-labels entry {part.strip()!r}", hint="use counts >= 2, e.g. 2,5,10")
            counts.append(int(part))
        source = GeneratorSource(backend, checkpoint)
        lat, ids = load_latent_file(latents, source)
        spec = feature_spec(layers, layer_weights, False, combine)
        lab = labels_by_row(ids, labels, label_column, label)
        od.parse_priors(priors, classes)  # validate before any work
        dv = resolve_one(direction, source)
        d = distances_for(lat, dv, spec, source)
        unsup = od.quantile_thresholds(d, classes, priors, descending)
        result: dict = {
            "direction": direction,
            "classes": classes,
            "n_images": len(ids),
            "unsupervised": unsup.to_dict(),
        }
        model = unsup
        truth = None
        if lab is not None:
            rows, values = lab
            binned = not od.looks_like_classes(values, classes)
            truth = od.bin_labels(values, classes)[0] if binned else values.astype(np.int64)
            result["labels"] = {"n": int(rows.size), "binned": binned}
            model = od.fit_thresholds(d[rows], truth, classes, method)
            result["fewshot"] = model.to_dict()
            if labels is not None:
                metrics = {"unsupervised": od.ordinal_metrics(unsup.predict(d[rows]), truth)}
                sub_d = d[rows]
                metrics["fewshot"] = [
                    od.fewshot_ordinal_protocol(sub_d, truth, classes, n, repeats, seed, method)
                    for n in counts
                    if n < rows.size
                ]
                result["evaluation"] = metrics
        pred = model.predict(d)
        result["class_counts"] = np.bincount(pred, minlength=classes).tolist()
        paths: list[Path] = []
        if out is not None:
            truth_of = dict(zip(lab[0].tolist(), truth.tolist(), strict=True)) if lab is not None else {}
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow(["id", "distance", "class", "label_class"])
            for i, name in enumerate(ids):
                w.writerow([name, repr(float(d[i])), int(pred[i]), truth_of.get(i, "")])
            paths = [out / "classes.csv", out / "ordinal.json"]
            write_text_atomic(paths[0], buf.getvalue())
            write_text_atomic(paths[1], json.dumps(result, indent=2) + "\n")
            from large_toolkit.regression.predict import latent_fingerprint, save_ordinal

            paths += save_ordinal(
                out,
                model,
                dv,
                spec,
                {"direction": direction, "classes": classes, "generator_fingerprint": latent_fingerprint(latents)},
            )
        result["outputs"] = [str(p) for p in paths]
        if json_out:
            print_json(result)
            return
        print_table(
            f"{len(ids)} images in {classes} classes ({model.method} cut points)",
            ["class", "images", "from distance"],
            [
                (k, c, "-inf" if k == 0 else f"{np.sort(model.sign * model.thresholds)[k - 1]:.4g}")
                for k, c in enumerate(result["class_counts"])
            ],
        )
        ev = result.get("evaluation")
        if ev is not None:
            u = ev["unsupervised"]
            rows_t = [("unsupervised", "-", f"{u['accuracy']:.3f}", "-", f"{u['mae']:.3f}", "-")]
            rows_t += [
                (
                    f"few-shot {method}",
                    r["n"],
                    f"{r['accuracy_mean']:.3f}",
                    f"{r['accuracy_std']:.3f}",
                    f"{r['mae_mean']:.3f}",
                    f"{r['mae_std']:.3f}",
                )
                for r in ev["fewshot"]
            ]
            print_table(
                "accuracy and MAE (class units) on the labelled images",
                ["cut points", "n labels", "acc", "acc std", "MAE", "MAE std"],
                rows_t,
            )
        for p in paths:
            note(f"wrote {p}")
