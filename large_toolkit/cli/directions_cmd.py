"""``large-tk directions``: find, show, edit and export semantic directions.

Direction arguments use the spec grammar of :mod:`large_toolkit.directions`
(``sefa:3``, ``ganspace:0``, ``interfacegan:smile``, ``file:b.npy``, a path).
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
    from large_toolkit.types import Direction, DirectionSet


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


def _resolved(dirs_spec: str, backend: str | None, checkpoint: str | None) -> tuple[DirectionSet, Generator | None]:
    """The set a spec names (one direction, with its score, when the spec has a key) and the generator used."""
    from large_toolkit.directions import parse_spec, pick, resolve_direction_set
    from large_toolkit.types import DirectionSet

    spec = parse_spec(dirs_spec)
    generator = _generator(backend, checkpoint) if backend or checkpoint or not spec.is_file else None
    dirs = resolve_direction_set(spec, generator)
    if spec.key is not None:
        one = pick(dirs, spec.key, spec.text)
        idx = next(i for i, d in enumerate(dirs.directions) if d is one)
        scores = dirs.scores[idx : idx + 1] if dirs.scores is not None else None
        dirs = DirectionSet([one], scores, dirs.score_name, dirs.metadata)
    return dirs, generator


def dominant_layers(direction: Direction, generator: Generator | None, top: int = 3) -> str:
    """The style layers a direction moves most: ``||A_l v||`` per affine (needs a generator) or its W+ slots."""
    import torch

    from large_toolkit.interfaces import Capability
    from large_toolkit.types import LatentSpace, style_offsets

    if direction.space is LatentSpace.WPLUS:
        norms = direction.vector.float().norm(dim=1)
        order = torch.argsort(norms, descending=True)[:top]
        return ",".join(f"w{int(i)}" for i in order)
    if direction.space is LatentSpace.S and direction.style_layers:
        spans = style_offsets(direction.style_layers)
        norms = torch.stack([direction.vector[a:b].float().norm() for a, b in spans])
        order = torch.argsort(norms, descending=True)[:top]
        return ",".join(direction.style_layers[int(i)].name for i in order)
    if (
        generator is not None
        and generator.has(Capability.STYLE_AFFINES)
        and direction.space is LatentSpace.W
        and direction.dim == generator.w_dim
    ):
        affines = [a for a in generator.style_affines() if a.layer.modulates_features]
        if direction.layer_mask is not None and direction.layer_mask.numel() == generator.num_ws:
            affines = [a for a in affines if bool(direction.layer_mask[a.layer.w_index])] or affines
        if affines:
            v = direction.vector.to(affines[0].weight)
            # RMS response per channel, so wide layers do not win by width alone.
            resp = torch.stack([(a.weight @ v).pow(2).mean().sqrt() for a in affines])
            order = torch.argsort(resp, descending=True)[:top]
            return ",".join(affines[int(i)].layer.name for i in order)
    if direction.layer_mask is not None and not bool(direction.layer_mask.all()):
        slots = [int(i) for i in torch.nonzero(direction.layer_mask).flatten()]
        if len(slots) == 1:
            return f"w{slots[0]}"
        return "w" + (
            f"{slots[0]}-{slots[-1]}" if slots == list(range(slots[0], slots[-1] + 1)) else ",".join(map(str, slots))
        )
    return "all"


def _rows(dirs: DirectionSet, generator: Generator | None, limit: int) -> list[dict[str, Any]]:
    rows = []
    for i, d in enumerate(dirs.directions[:limit] if limit > 0 else dirs.directions):
        score = float(dirs.scores[i]) if dirs.scores is not None else None
        rows.append(
            {
                "index": i,
                "name": d.name,
                "space": d.space.value,
                "score": score,
                "dominant_layers": dominant_layers(d, generator),
            }
        )
    return rows


def _show(dirs: DirectionSet, generator: Generator | None, limit: int, json_out: bool, title: str) -> None:
    rows = _rows(dirs, generator, limit)
    if json_out:
        print_json(
            {
                "count": len(dirs),
                "score_name": dirs.score_name,
                "metadata": {k: v for k, v in dirs.metadata.items() if k not in ("mean", "stdev", "var_ratio")},
                "directions": rows,
            }
        )
        return
    print_table(
        f"{title} ({len(dirs)} directions)",
        ["index", "name", dirs.score_name, "dominant layers"],
        [
            (r["index"], r["name"], "-" if r["score"] is None else f"{r['score']:.6g}", r["dominant_layers"])
            for r in rows
        ],
    )


def install(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Find, inspect, apply and convert semantic directions (SeFa, GANSpace, InterFaceGAN, ...).",
        no_args_is_help=True,
    )
    app.add_typer(group, name="directions")

    @group.command(
        "find",
        epilog="Examples:\n\n"
        "  large-tk directions find sefa --backend stylegan2 --checkpoint ffhq.pkl --out sefa.safetensors\n\n"
        "  large-tk directions find sefa --backend stylegan2 --option layers=0-1 --option variant=rosinality\n\n"
        "  large-tk directions find ganspace --backend stylegan2 --option num_samples=100000 --out pca.npz\n\n"
        "  large-tk directions find interfacegan --backend stylegan2 --option scores=labels.csv --json",
    )
    def find(
        finder: Annotated[str, typer.Argument(help="Finder name: sefa, ganspace, interfacegan, voynov, ...")],
        backend: Annotated[
            str | None, typer.Option("--backend", help="Generator backend (default: by checkpoint).")
        ] = None,
        checkpoint: Annotated[str | None, typer.Option("--checkpoint", help="Generator checkpoint.")] = None,
        class_idx: options.ClassIdx = None,
        option: Annotated[list[str] | None, typer.Option("--option", help="Finder option KEY=VALUE (repeat).")] = None,
        out: Annotated[str | None, options.out("Write the set (.safetensors, .npz, .npy, .pt).")] = None,
        fmt: Annotated[str | None, typer.Option("--format", help="Output format (default: by suffix).")] = None,
        limit: Annotated[int, typer.Option("--limit", help="Rows to print (0 = all).")] = 20,
        no_cache: Annotated[bool, typer.Option("--no-cache", help="Recompute even when cached.")] = False,
        json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")] = False,
    ) -> None:
        """Run a direction finder on a generator and print (and optionally save) the directions."""
        from large_toolkit.directions import find_directions
        from large_toolkit.io.direction_formats import save_direction_file
        from large_toolkit.runner import make_progress

        if out is not None:
            check_output_path(out)
        generator = _generator(backend, checkpoint, class_idx)
        with make_progress(disable=json_out) as progress:
            tasks: dict[str, Any] = {}

            def report(desc: str, done: int, total: int) -> None:
                if desc not in tasks:
                    tasks[desc] = progress.add_task(desc, total=total)
                progress.update(tasks[desc], completed=done)

            dirs = find_directions(finder, generator, parse_options(option), use_cache=not no_cache, progress=report)
        if out:
            save_direction_file(out, dirs, fmt, generator)
            note(f"wrote {len(dirs)} directions to {out}")
        _show(dirs, generator, limit, json_out, f"{finder} directions")

    @group.command(
        "options",
        epilog="Examples:\n\n  large-tk directions options interfacegan\n\n"
        "  large-tk directions options ganspace --json",
    )
    def options_cmd(
        finder: Annotated[str, typer.Argument(help="Finder name: sefa, ganspace, interfacegan, voynov, ...")],
        json_out: Annotated[bool, options.json_output()] = False,
    ) -> None:
        """The options a finder declares: type, default and help (for --option and FINDER:KEY?k=v specs)."""
        from large_toolkit.options import describe
        from large_toolkit.plugins import load_direction_finder

        declared = load_direction_finder(finder).Options
        rows = [
            {"name": o.name, "type": o.type_name, "default": o.default, "help": o.help, "execution": o.execution}
            for o in (describe(declared) if declared is not None else [])
        ]
        if json_out:
            print_json({"finder": finder, "options": rows})
            return
        table = [(r["name"], r["type"], repr(r["default"]), r["help"]) for r in rows]
        print_table(f"{finder} options", ["name", "type", "default", "help"], table)

    @group.command(
        "show",
        epilog="Examples:\n\n  large-tk directions show sefa.safetensors\n\n"
        "  large-tk directions show boundary.npy --json\n\n"
        "  large-tk directions show sefa --backend stylegan2 --checkpoint ffhq.pkl",
    )
    def show(
        dirs_spec: Annotated[str, typer.Argument(metavar="DIRS", help="A direction file or spec (sefa, file:x.npz).")],
        backend: Annotated[
            str | None, typer.Option("--backend", help="Generator (for finder specs / dominant layers).")
        ] = None,
        checkpoint: Annotated[str | None, typer.Option("--checkpoint", help="Generator checkpoint.")] = None,
        limit: Annotated[int, typer.Option("--limit", help="Rows to print (0 = all).")] = 0,
        json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")] = False,
    ) -> None:
        """Table of a direction set: index, name, score, dominant layers."""
        dirs, generator = _resolved(dirs_spec, backend, checkpoint)
        _show(dirs, generator, limit, json_out, dirs_spec)

    @group.command(
        "edit",
        epilog="Examples:\n\n  large-tk directions edit --backend stylegan2 --checkpoint ffhq.pkl --direction sefa:3 "
        "--seeds 0-3 --steps -3..3 --out strip.png\n\n"
        "  large-tk directions edit --backend stylegan2 --direction ganspace:11 --layers 1-4 --steps -2..2:5 "
        "--out up.png",
    )
    def edit(
        direction: Annotated[str, typer.Option("--direction", "-d", help="Direction spec, e.g. sefa:3.")],
        out: Annotated[str, options.out("PNG grid: one row per seed, one column per step.")],
        backend: Annotated[
            str | None, typer.Option("--backend", help="Generator backend (default: by checkpoint).")
        ] = None,
        checkpoint: Annotated[str | None, typer.Option("--checkpoint", help="Generator checkpoint.")] = None,
        class_idx: options.ClassIdx = None,
        seeds: Annotated[str, typer.Option("--seeds", help="Seeds, e.g. 0-3 or 1,5,9.")] = "0-3",
        steps: Annotated[
            str, typer.Option("--steps", help="Edit amounts: -3..3, -3..3:7 or -2,0,2 (GANSpace: sigmas).")
        ] = "-3..3",
        layers: Annotated[
            str | None, typer.Option("--layers", help="W+ slots to edit, e.g. 0-3 (default: the direction's own).")
        ] = None,
        psi: Annotated[float, typer.Option("--psi", help="Truncation psi, applied before the edit.")] = 1.0,
        option: Annotated[
            list[str] | None, typer.Option("--option", help="Finder option KEY=VALUE for finder specs.")
        ] = None,
        json_out: Annotated[bool, typer.Option("--json", help="Machine-readable summary on stdout.")] = False,
        raw: Annotated[
            bool, typer.Option("--raw", help="Bare pixel grid (no seed/step annotations, native size).")
        ] = False,
        scale: Annotated[int, typer.Option("--scale", min=1, help="Upsample each image (annotated grid).")] = 4,
    ) -> None:
        """Render an image grid along a direction (rows: seeds, columns: steps), annotated with both."""
        import numpy as np
        import torch

        from large_toolkit.directions import edit_layers, edit_ws, resolve_direction, step_scale
        from large_toolkit.io.images import write_image
        from large_toolkit.runner import parse_seeds

        seed_list, amounts = parse_seeds(seeds), parse_steps(steps)
        check_finite(psi, "--psi")
        check_output_path(out)
        generator = _generator(backend, checkpoint, class_idx)
        d = resolve_direction(direction, generator, parse_options(option) or None)
        slots = edit_layers(d, generator.num_ws, layers)
        rows = []
        with torch.inference_mode():
            for seed in seed_list:
                z = generator.sample_z(1, seed)
                c = torch.zeros(1, generator.c_dim, device=z.device) if generator.c_dim else None
                ws = generator.mapping(z, c, psi=psi)
                batch = torch.cat([edit_ws(ws, d, a, slots) for a in amounts])
                imgs = generator.synthesis(batch).float().cpu()
                rows.append(torch.cat(list(imgs), dim=2))  # [C, H, W*steps]
        grid = torch.cat(rows, dim=1)
        arr = ((grid.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()
        if raw:
            write_image(out, np.ascontiguousarray(arr))
        else:
            from large_toolkit.regression.plots import grid_chart

            height, width = arr.shape[0] // len(seed_list), arr.shape[1] // len(amounts)
            cells = arr.reshape(len(seed_list), height, len(amounts), width, -1).transpose(0, 2, 1, 3, 4)
            grid_chart(
                out,
                cells,
                [f"seed {s}" for s in seed_list],
                [f"{a:+g}" for a in amounts],
                title=f"{direction} ({d.name}): edit step per column, psi {psi:g}",
                scale=scale,
            )
        info = {
            "out": out,
            "direction": direction,
            "name": d.name,
            "seeds": seed_list,
            "steps": amounts,
            "layers": slots,
            "step_scale": step_scale(d),
            "size": [int(arr.shape[1]), int(arr.shape[0])],
        }
        if json_out:
            print_json(info)
        else:
            note(f"wrote {out} ({len(seed_list)} seeds x {len(amounts)} steps, layers {slots})")

    @group.command(
        "export",
        epilog="Examples:\n\n  large-tk directions export sefa.safetensors --out sefa.npz\n\n"
        "  large-tk directions export file:dirs.safetensors:3 --out boundary.npy\n\n"
        "  large-tk directions export pca.safetensors --out pca.pt --format e4e-ganspace",
    )
    def export(
        dirs_spec: Annotated[str, typer.Argument(metavar="DIRS", help="A direction file or spec.")],
        out: Annotated[str, options.out("Output file.")],
        fmt: Annotated[
            str | None,
            typer.Option(
                "--format",
                help="interfacegan, ganspace-npz, sefa-npz, e4e-interfacegan, "
                "e4e-ganspace, rosinality-factor, large-tk (default: by suffix).",
            ),
        ] = None,
        backend: Annotated[str | None, typer.Option("--backend", help="Generator (for finder specs).")] = None,
        checkpoint: Annotated[str | None, typer.Option("--checkpoint", help="Generator checkpoint.")] = None,
    ) -> None:
        """Convert a direction set (or one direction) to another tool's file format."""
        from large_toolkit.io.direction_formats import save_direction_file

        check_output_path(out)
        dirs, generator = _resolved(dirs_spec, backend, checkpoint)
        save_direction_file(out, dirs, fmt, generator)
        note(f"wrote {len(dirs)} direction(s) to {out}")
