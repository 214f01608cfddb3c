"""``large-tk sort``: order images by their latent distance, no labels needed (the released ``sort.py``).

Writes the sorted ids (CSV + JSON) and a strip of evenly spaced (or
edge-weighted) images; with labels it reports how well the order agrees with
them (Spearman / Kendall).  Strip images come from ``--images`` or, by
default, are rendered from the latents by the generator.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from large_toolkit.cli import options as opts
from large_toolkit.cli.output import note, print_json, print_table

EPILOG = (
    "Examples:\n\n"
    "  large-tk sort --latents lat.safetensors --direction sefa:3 --out runs/sorted\n\n"
    "  large-tk sort --latents lat.safetensors --direction file:dirs.safetensors:2 --labels labels.csv "
    "--label-column light_intensity --json\n\n"
    "  large-tk sort --latents lat.safetensors --direction sefa:3 --images demo32 --strip 12 --weighted-edges --out s"
)


def _strip_images(lat: Any, ids: list[str], rows: list[int], images: list[str] | None, source: Any) -> Any:
    """Strip images: read from the folder that was inverted, or rendered from the latents."""
    import numpy as np
    import torch

    from large_toolkit.errors import UserInputError
    from large_toolkit.io.images import to_uint8
    from large_toolkit.types import LatentSpace

    if images:
        from large_toolkit.data.folders import match_ids, read_image_folder

        folder = read_image_folder(images, find_labels=False)
        try:
            return folder.images[match_ids(folder.ids, [ids[r] for r in rows], "the strip")]
        except UserInputError:
            raise UserInputError(
                f"{', '.join(images)} has no image for some sorted ids", hint="pass the folder that was inverted"
            ) from None
    g = source.get()
    sub = lat[torch.as_tensor(rows)].to(g.device)
    with torch.no_grad():
        if sub.space is LatentSpace.S:
            out = g.synthesis_from_styles(sub.tensor.float())
        else:
            if sub.tensor.shape[-1] != g.w_dim:
                raise UserInputError(
                    f"latents have w_dim {sub.tensor.shape[-1]}, the generator {g.w_dim}",
                    hint="pass --backend/--checkpoint of the inverting generator, or --images",
                )
            out = g.synthesis(sub.to_wplus(g.num_ws).tensor.float())
    return np.ascontiguousarray(to_uint8(out.cpu().numpy()))


def install(app: typer.Typer) -> None:
    @app.command("sort", epilog=EPILOG)
    def sort_cmd(
        latents: Annotated[Path, typer.Option(help="large-tk invert file, LARGE <id>.npy folder, export .npy/.csv.")],
        direction: Annotated[str, typer.Option(help="sefa:3, file:DIRS.safetensors[:INDEX|NAME], ...")],
        backend: Annotated[str | None, opts.backend("Generator backend (finder specs, strip rendering).")] = None,
        checkpoint: Annotated[str | None, opts.checkpoint()] = None,
        layers: Annotated[str | None, typer.Option(help="Layer subset: all, 3, 2-5,8.")] = None,
        layer_weights: Annotated[Path | None, typer.Option(help="Per-layer weights (large-tk layers).")] = None,
        normalize_weights: Annotated[bool, typer.Option(help="Rescale layer weights to sum 1.")] = False,
        combine: Annotated[str, typer.Option(help="auto (weighted / mean), mean, weighted or sum.")] = "auto",
        distance: Annotated[str, typer.Option(help="per_layer or euclidean.")] = "per_layer",
        descending: Annotated[bool, typer.Option(help="Largest distance first.")] = False,
        labels: Annotated[Path | None, typer.Option(help="CSV of labels: report rank agreement.")] = None,
        label_column: Annotated[
            str | None, typer.Option(help="Value column in --labels (needed when it has several).")
        ] = None,
        strip: Annotated[int, typer.Option(help="Images in the strip PNG (0: none).", min=0)] = 10,
        weighted_edges: Annotated[bool, typer.Option(help="A third of the strip from each 10% tail.")] = False,
        images: Annotated[
            list[str] | None, opts.images("Images for the strip: folder, files or globs (else rendered).")
        ] = None,
        scale: Annotated[int, typer.Option(help="Upsample strip images this many times.", min=1)] = 4,
        out: Annotated[Path | None, opts.out("Folder for sorted.csv, sorted.json, strip.png.")] = None,
        json_out: Annotated[bool, opts.json_output()] = False,
    ) -> None:
        """Sort images by their signed distance to a direction (no labels needed)."""
        from large_toolkit.cli.latent_inputs import (
            GeneratorSource,
            distances_for,
            feature_spec,
            labels_by_row,
            load_latent_file,
            resolve_one,
        )
        from large_toolkit.io.atomic import write_text_atomic
        from large_toolkit.regression.plots import strip_chart
        from large_toolkit.regression.sorting import rank_agreement, sort_order, strip_positions

        source = GeneratorSource(backend, checkpoint)
        lat, ids = load_latent_file(latents, source)
        spec = feature_spec(layers, layer_weights, normalize_weights, combine, distance)
        lab = labels_by_row(ids, labels, label_column, None)
        d = distances_for(lat, resolve_one(direction, source), spec, source)
        order = sort_order(d, descending)
        label_of = dict(zip(lab[0].tolist(), lab[1].tolist(), strict=True)) if lab is not None else {}
        agreement = rank_agreement(d[lab[0]], lab[1]) if lab is not None else None
        strip_rows = order[strip_positions(len(order), strip, weighted_edges)].tolist() if strip else []
        strip_img = _strip_images(lat, ids, strip_rows, images, source) if strip and out else None
        sorted_rows = [
            {"rank": k, "id": ids[r], "distance": float(d[r]), "label": label_of.get(r)} for k, r in enumerate(order)
        ]
        summary = {
            "direction": direction,
            "n_images": len(ids),
            "descending": descending,
            "agreement": agreement,
            "strip_ids": [ids[r] for r in strip_rows],
            "outputs": [],
        }
        if out is not None:
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow(["rank", "id", "distance", "label"])
            for row in sorted_rows:
                w.writerow(
                    [row["rank"], row["id"], repr(row["distance"]), "" if row["label"] is None else repr(row["label"])]
                )
            paths = [out / "sorted.csv", out / "sorted.json"]
            write_text_atomic(paths[0], buf.getvalue())
            write_text_atomic(paths[1], json.dumps({**summary, "sorted": sorted_rows}, indent=2) + "\n")
            if strip_img is not None:
                paths.append(out / "strip.png")
                captions = [f"d={d[r]:+.3g}" + (f"\n{label_of[r]:.3g}" if r in label_of else "") for r in strip_rows]
                strip_chart(
                    paths[2],
                    strip_img,
                    captions,
                    scale=scale,
                    title=f"{len(strip_rows)} of {len(ids)} images sorted by distance along {direction}",
                )
            summary["outputs"] = [str(p) for p in paths]
        if json_out:
            print_json({**summary, "sorted": sorted_rows if out is None else None})
            return
        shown = sorted_rows if len(sorted_rows) <= 20 else sorted_rows[:10] + sorted_rows[-10:]
        print_table(
            f"{len(ids)} images sorted by distance ({'first/last 10' if len(sorted_rows) > 20 else 'all'})",
            ["rank", "id", "distance", "label"],
            [(r["rank"], r["id"], f"{r['distance']:.4g}", r["label"]) for r in shown],
        )
        if agreement is not None:
            print(
                f"rank agreement with {len(lab[0])} labels: Spearman {agreement['spearman']:+.4f}, "
                f"Kendall {agreement['kendall']:+.4f}"
            )
        for p in summary["outputs"]:
            note(f"wrote {p}")
