"""``large-tk directions``: find, show, edit and export semantic directions.

Direction arguments use the spec grammar of :mod:`large_toolkit.directions`
(``sefa:3``, ``ganspace:0``, ``interfacegan:smile``, ``file:b.npy``, a path).
Each command parses its options, calls a job of :mod:`large_toolkit.direction_jobs` and renders the result.
Torch and the finders are imported inside the command bodies so ``--help`` stays fast.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Annotated, Any

import typer

from large_toolkit.cli import options
from large_toolkit.cli.output import note, print_json, print_table
from large_toolkit.cli.state import OPTIONS
from large_toolkit.errors import UserInputError
from large_toolkit.validate import check_finite, check_int_range, check_output_path

if TYPE_CHECKING:
    from large_toolkit.interfaces import Generator
    from large_toolkit.types import DirectionSet


def parse_options(items: list[str] | None) -> dict[str, Any]:
    """``k=v`` pairs; values parse as JSON when they can (numbers, true/false, null), else as text."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserInputError(f"bad --option {item!r}", hint="use KEY=VALUE, e.g. --option layers=0-1")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


def parse_steps(text: str) -> list[float]:
    """``-3..3`` (integers, inclusive), ``-3..3:7`` (7 evenly spaced) or ``-2,0,2.5``."""
    m = re.fullmatch(r"\s*(-?[\d.]+)\s*\.\.\s*(-?[\d.]+)\s*(?::\s*(\d+))?\s*", text)
    try:
        if m:
            lo, hi = float(m.group(1)), float(m.group(2))
            if m.group(3):
                n = check_int_range(int(m.group(3)), "--steps count (the N in LO..HI:N)", 1, 10_000)
                return [lo + (hi - lo) * i / max(n - 1, 1) for i in range(n)]
            if lo != int(lo) or hi != int(hi):
                raise ValueError
            step = 1 if hi >= lo else -1
            return [float(v) for v in range(int(lo), int(hi) + step, step)]
        values = [check_finite(float(v), "--steps") for v in text.split(",") if v.strip()]
    except UserInputError:
        raise
    except ValueError:
        values = []
    if not values:
        raise UserInputError(f"bad --steps {text!r}", hint="use -3..3, -3..3:7 or -2,0,2")
    return values


def _generator(backend: str | None, checkpoint: str | None, class_idx: int | None = None) -> Generator:
    """The one ``--backend``/``--checkpoint`` rule of :mod:`large_toolkit.generators`."""
    from large_toolkit.generators import resolve_generator

    return resolve_generator(backend, checkpoint, OPTIONS.device, class_idx)


def _spec_generator(
    dirs_spec: str, backend: str | None, checkpoint: str | None, class_idx: int | None = None
) -> Generator | None:
    """The generator a spec needs (finder specs), or the one asked for (dominant layers of a file); else none."""
    from large_toolkit.direction_jobs.sets import needs_generator

    wanted = backend or checkpoint or class_idx is not None or needs_generator(dirs_spec)
    return _generator(backend, checkpoint, class_idx) if wanted else None


def _show(dirs: DirectionSet, generator: Generator | None, limit: int, json_out: bool, title: str) -> None:
    """The set's summary as JSON, or as a table with scores to 6 significant digits."""
    from large_toolkit.direction_jobs.summary import set_summary

    summary = set_summary(dirs, generator, limit)
    if json_out:
        print_json(summary)
        return
    print_table(
        f"{title} ({len(dirs)} directions)",
        ["index", "name", dirs.score_name, "dominant layers"],
        [
            (r["index"], r["name"], "-" if r["score"] is None else f"{r['score']:.6g}", r["dominant_layers"])
            for r in summary["directions"]
        ],
    )


FIND_EPILOG = options.examples(
    "large-tk directions find sefa --backend stylegan2 --checkpoint ffhq.pkl --out sefa.safetensors",
    "large-tk directions find sefa --backend stylegan2 --option layers=0-1 --option variant=rosinality",
    "large-tk directions find ganspace --backend stylegan2 --option num_samples=100000 --out pca.npz",
    "large-tk directions find interfacegan --backend stylegan2 --option scores=labels.csv --json",
)


def find_cmd(
    finder: options.FinderName,
    backend: options.GeneratorBackend = None,
    checkpoint: options.GeneratorCheckpoint = None,
    class_idx: options.ClassIdx = None,
    option: Annotated[list[str] | None, typer.Option("--option", help="Finder option KEY=VALUE (repeat).")] = None,
    out: Annotated[str | None, options.out("Write the set (.safetensors, .npz, .npy, .pt).")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="Output format (default: by suffix).")] = None,
    limit: options.RowLimit = 20,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Recompute even when cached.")] = False,
    json_out: options.JsonData = False,
) -> None:
    """Run a direction finder on a generator and print (and optionally save) the directions."""
    from large_toolkit.direction_jobs.sets import find_set
    from large_toolkit.progress import make_progress, named_tasks

    if out is not None:
        check_output_path(out)
        from large_toolkit.io.direction_formats import check_format_suffix

        check_format_suffix(out, fmt)
    generator = _generator(backend, checkpoint, class_idx)
    config = parse_options(option)
    with make_progress(disable=json_out) as progress:
        dirs = find_set(
            finder, generator, config, use_cache=not no_cache, progress=named_tasks(progress), out=out, fmt=fmt
        )
    if out:
        note(f"wrote {len(dirs)} directions to {out}")
    _show(dirs, generator, limit, json_out, f"{finder} directions")


OPTIONS_EPILOG = options.examples(
    "large-tk directions options interfacegan", "large-tk directions options ganspace --json"
)


def options_cmd(finder: options.FinderName, json_out: options.Json = False) -> None:
    """The options a finder declares: type, default and help (for --option and FINDER:KEY?k=v specs)."""
    from large_toolkit.direction_jobs.finder_options import finder_option_rows

    rows = finder_option_rows(finder)
    if json_out:
        print_json({"finder": finder, "options": rows})
        return
    table = [(r["name"], f"{r['type']} {r['bounds']}".strip(), repr(r["default"]), r["help"]) for r in rows]
    print_table(f"{finder} options", ["name", "type", "default", "help"], table)


SHOW_EPILOG = options.examples(
    "large-tk directions show sefa.safetensors",
    "large-tk directions show boundary.npy --json",
    "large-tk directions show sefa --backend stylegan2 --checkpoint ffhq.pkl",
)


def show_cmd(
    dirs_spec: Annotated[str, typer.Argument(metavar="DIRS", help="A direction file or spec (sefa, file:x.npz).")],
    backend: Annotated[str | None, options.backend("Generator (for finder specs / dominant layers).")] = None,
    checkpoint: options.GeneratorCheckpoint = None,
    class_idx: options.ClassIdx = None,
    limit: options.RowLimit = 0,
    json_out: options.JsonData = False,
) -> None:
    """Table of a direction set: index, name, score, dominant layers."""
    from large_toolkit.direction_jobs.sets import selected_set

    generator = _spec_generator(dirs_spec, backend, checkpoint, class_idx)
    _show(selected_set(dirs_spec, generator), generator, limit, json_out, dirs_spec)


EDIT_EPILOG = options.examples(
    "large-tk directions edit --backend stylegan2 --checkpoint ffhq.pkl --direction sefa:3 "
    "--seeds 0-3 --steps -3..3 --out strip.png",
    "large-tk directions edit --backend stylegan2 --direction ganspace:11 --layers 1-4 --steps -2..2:5 --out up.png",
)


def edit_cmd(
    direction: Annotated[str, typer.Option("--direction", "-d", help="Direction spec, e.g. sefa:3.")],
    out: Annotated[str, options.out("PNG grid: one row per seed, one column per step.")],
    backend: options.GeneratorBackend = None,
    checkpoint: options.GeneratorCheckpoint = None,
    class_idx: options.ClassIdx = None,
    seeds: Annotated[str, typer.Option("--seeds", help="Seeds, e.g. 0-3 or 1,5,9.")] = "0-3",
    steps: Annotated[
        str, typer.Option("--steps", help="Edit amounts: -3..3, -3..3:7 or -2,0,2 (GANSpace: sigmas).")
    ] = "-3..3",
    layers: Annotated[
        str | None, typer.Option("--layers", help="W+ slots to edit, e.g. 0-3 (default: the direction's own).")
    ] = None,
    psi: Annotated[float, options.psi("Truncation psi, applied before the edit.")] = 1.0,
    option: Annotated[
        list[str] | None, typer.Option("--option", help="Finder option KEY=VALUE for finder specs.")
    ] = None,
    json_out: Annotated[bool, options.json_output("Machine-readable summary on stdout.")] = False,
    raw: Annotated[
        bool, typer.Option("--raw", help="Bare pixel grid (no seed/step annotations, native size).")
    ] = False,
    scale: Annotated[int, typer.Option("--scale", min=1, help="Upsample each image (annotated grid).")] = 4,
) -> None:
    """Render an image grid along a direction (rows: seeds, columns: steps), annotated with both."""
    from large_toolkit.direction_jobs.edit_grid import write_edit_grid
    from large_toolkit.runner import parse_seeds

    seed_list, amounts = parse_seeds(seeds), parse_steps(steps)
    check_finite(psi, "--psi")
    check_output_path(out)
    _check_grid_suffix(out, raw)
    generator = _generator(backend, checkpoint, class_idx)
    config = parse_options(option) or None
    info = write_edit_grid(
        generator,
        direction,
        out,
        seeds=seed_list,
        steps=amounts,
        layers=layers,
        psi=psi,
        config=config,
        raw=raw,
        scale=scale,
    )
    if json_out:
        print_json(info)
    else:
        note(f"wrote {out} ({len(seed_list)} seeds x {len(amounts)} steps, layers {info['layers']})")


def _check_grid_suffix(out: str, raw: bool) -> None:
    """Refuse, before rendering, a name the grid would not be: the annotated grid is always PNG (it was written
    as PNG under any name, ``grid.txt`` included), ``--raw`` also writes JPEG/WebP/BMP/TIFF by suffix."""
    from pathlib import Path

    allowed = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif") if raw else (".png",)
    if Path(out).suffix.lower() not in allowed:
        raise UserInputError(
            f"--out {out}: the edit grid is written as {'an image' if raw else 'PNG'}",
            hint="name it .png" + ("" if raw else " (--raw also writes .jpg)"),
        )


EXPORT_EPILOG = options.examples(
    "large-tk directions export sefa.safetensors --out sefa.npz",
    "large-tk directions export file:dirs.safetensors:3 --out boundary.npy",
    "large-tk directions export pca.safetensors --out pca.pt --format e4e-ganspace",
    "large-tk directions export sefa.safetensors --out sefa.npz --json",
)
EXPORT_FORMATS = (
    "interfacegan, ganspace-npz, sefa-npz, e4e-interfacegan, e4e-ganspace, rosinality-factor, large-tk "
    "(default: by suffix)."
)


def export_cmd(
    dirs_spec: Annotated[str, typer.Argument(metavar="DIRS", help="A direction file or spec.")],
    out: Annotated[str, options.out("Output file.")],
    fmt: Annotated[str | None, typer.Option("--format", help=EXPORT_FORMATS)] = None,
    backend: Annotated[str | None, options.backend("Generator (for finder specs).")] = None,
    checkpoint: options.GeneratorCheckpoint = None,
    class_idx: options.ClassIdx = None,
    json_out: options.JsonData = False,
) -> None:
    """Convert a direction set (or one direction) to another tool's file format."""
    from large_toolkit.direction_jobs.sets import export_set
    from large_toolkit.io.direction_formats import check_format_suffix

    check_output_path(out)
    check_format_suffix(out, fmt)
    report = export_set(dirs_spec, _spec_generator(dirs_spec, backend, checkpoint, class_idx), out, fmt)
    note(f"wrote {report['count']} direction(s) to {out} ({report['format']})")
    if json_out:
        print_json(report)


def install(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Find, inspect, apply and convert semantic directions (SeFa, GANSpace, InterFaceGAN, ...).",
        no_args_is_help=True,
    )
    app.add_typer(group, name="directions")
    group.command("find", epilog=FIND_EPILOG)(find_cmd)
    group.command("options", epilog=OPTIONS_EPILOG)(options_cmd)
    group.command("show", epilog=SHOW_EPILOG)(show_cmd)
    group.command("edit", epilog=EDIT_EPILOG)(edit_cmd)
    group.command("export", epilog=EXPORT_EPILOG)(export_cmd)
