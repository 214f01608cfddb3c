"""One CLI vocabulary: the options many commands share, declared once.

A user who learnt ``--psi`` in ``generate`` must find ``--psi`` in ``fid`` and ``directions edit`` too. Every
command declares these options through the factories below (the help text may be specialised, the flag names
may not), so a flag means the same thing everywhere:

* ``--backend`` / ``--checkpoint``: which generator (see ``large_toolkit.plugins.load_generator``);
* ``--psi``: truncation toward the average latent (1 = none);
* ``-o/--out``: where the command writes;
* ``--batch-size``: images per forward pass;
* ``--seed``: every random step takes one;
* ``--json``: machine output on stdout (progress and notes stay on stderr);
* ``--images``: a folder, image files or globs.

``--device`` is deliberately absent: it is the one global option (``large-tk --device cuda CMD``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from large_toolkit.cli.latent_inputs import GeneratorSource
    from large_toolkit.regression.features import FeatureSpec

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "MULTI_VALUE_OPTIONS",
    "backend",
    "batch_size",
    "checkpoint",
    "images",
    "json_output",
    "out",
    "psi",
    "seed",
    "spread_multi_values",
]

MULTI_VALUE_OPTIONS = ("--images",)


def spread_multi_values(args: list[str]) -> list[str]:
    """``--images a.png b.png`` -> ``--images a.png --images b.png``, as a shell glob expands it.

    Click takes one value per option occurrence, so ``--images *.jpg`` (which the shell expands into many
    words) would fail with "unexpected extra argument".  The words after a multi-value option, up to the next
    word starting with ``-``, are all its values.
    """
    out: list[str] = []
    current: str | None = None
    for word in args:
        if word == "--":
            current = None
            out.append(word)
        elif word.startswith("-"):
            current = word if word in MULTI_VALUE_OPTIONS else None
            out.append(word)
        elif current is not None and out[-1] != current:
            out.extend([current, word])
        else:
            out.append(word)
    return out


def backend(help: str = "Generator backend (a registered generator plugin, see `large-tk plugins`).") -> Any:
    return typer.Option("--backend", help=help)


def checkpoint(
    help: str = "Generator checkpoint: a file, a zoo name (`large-tk models list`) or an https:// URL "
    "(default: the backend's bundled model).",
) -> Any:
    return typer.Option("--checkpoint", help=help)


def psi(help: str = "Truncation psi toward the average latent (1 = none).") -> Any:
    return typer.Option("--psi", help=help)


def out(help: str = "Output path.") -> Any:
    return typer.Option("--out", "-o", help=help)


def batch_size(help: str = "Images per forward pass.") -> Any:
    return typer.Option("--batch-size", min=1, help=help)


def seed(help: str = "Random seed (the same seed gives the same output).") -> Any:
    return typer.Option("--seed", help=help)


def json_output(help: str = "Print machine-readable JSON on stdout.") -> Any:
    return typer.Option("--json", help=help)


def images(help: str = "Images: a folder, image files or globs (repeat the option or list several).") -> Any:
    return typer.Option("--images", help=help)


# Typed aliases: a command declares a shared option in one line, ``layers: opts.Layers = None``.  Those
# without option names take the flag from the parameter name (booleans keep their ``--no-`` form).

# the generator and its provenance
Checkpoint = Annotated[str | None, checkpoint()]
DemoCheckpoint = Annotated[str | None, checkpoint("Generator checkpoint (default: bundled demo).")]
FinderBackend = Annotated[str | None, backend("Generator backend (finder specs).")]
Force = Annotated[
    bool,
    typer.Option(
        "--force",
        help="use latents/directions/regressor made with another generator anyway (a warning line is printed)",
    ),
]
# inputs of the distance commands (sort, ordinal, suggest-labels)
LatentFile = Annotated[Path, typer.Option(help="large-tk invert file, LARGE <id>.npy folder, export .npy/.csv.")]
FileDirection = Annotated[str, typer.Option(help="sefa:3, file:DIRS.safetensors[:INDEX|NAME], ...")]
LabelColumn = Annotated[str | None, typer.Option(help="Value column in --labels (if several).")]
LabelColumnNeeded = Annotated[str | None, typer.Option(help="Value column in --labels (needed when it has several).")]
# inverting --images (regress, predict)
Inverter = Annotated[str, typer.Option(help="Inverter for --images (encoder, e4e, psp, optim).")]
InverterCheckpoint = Annotated[str | None, typer.Option(help="Encoder weights for the inverter.")]
InversionBatch = Annotated[int, batch_size("Inversion batch size.")]
# feature settings (see large_toolkit.regression.features.FeatureSpec)
Layers = Annotated[str | None, typer.Option(help="Layer subset: all, 3, 2-5,8.")]
LayerWeights = Annotated[Path | None, typer.Option(help="Per-layer weights (large-tk layers).")]
NormalizeWeights = Annotated[bool, typer.Option(help="Rescale layer weights to sum 1.")]
Combine = Annotated[str, typer.Option(help="auto, mean, weighted or sum.")]
Distance = Annotated[str, typer.Option(help="per_layer or euclidean.")]
# output
Json = Annotated[bool, json_output()]
JsonData = Annotated[bool, json_output("Machine-readable output on stdout.")]


def option_group(group: Callable[..., Any]) -> Callable[[F], F]:
    """Give a command the options declared once in ``group``'s signature (after its own, before ``--out/--json``).

    Why: several commands take the same block of options; declaring the block once keeps its names, defaults and
    help identical everywhere.  The command receives them as ``**kwargs`` and hands them to ``group`` itself, whose
    typed signature is the one place they are read (see :func:`finder_features`).
    """

    def wrap(command: F) -> F:
        own = inspect.signature(command, eval_str=True)
        params = [p for p in own.parameters.values() if p.kind is not p.VAR_KEYWORD]
        at = next((i for i, p in enumerate(params) if p.name in ("out", "json_out")), len(params))
        tail = [p.replace(kind=p.KEYWORD_ONLY) for p in [*_evaluated(group), *params[at:]]]
        command.__signature__ = own.replace(parameters=params[:at] + tail)  # type: ignore[attr-defined]
        return command

    return wrap


def _evaluated(func: Callable[..., Any]) -> list[inspect.Parameter]:
    """``func``'s parameters with their annotations evaluated (its return annotation may name types that are
    imported only for type checking, so ``inspect.signature(eval_str=True)`` cannot be used)."""
    params = inspect.signature(func).parameters.values()
    scope = getattr(func, "__globals__", {})
    return [p.replace(annotation=eval(p.annotation, scope)) if isinstance(p.annotation, str) else p for p in params]


def finder_features(
    backend: FinderBackend = None,
    checkpoint: DemoCheckpoint = None,
    force: Force = False,
    class_idx: ClassIdx = None,
    layers: Layers = None,
    layer_weights: LayerWeights = None,
    combine: Combine = "auto",
) -> tuple[GeneratorSource, FeatureSpec]:
    """The generator (for finder specs, checked against the latents' provenance) and the feature settings that
    ``ordinal`` and ``suggest-labels`` share (an :func:`option_group`)."""
    from large_toolkit.cli.latent_inputs import GeneratorSource, feature_spec

    return GeneratorSource(backend, checkpoint, force, class_idx), feature_spec(layers, layer_weights, False, combine)


def examples(*commands: str, note: str = "") -> str:
    """A command's ``--help`` epilog: one example per paragraph, then an optional note."""
    text = "Examples:\n\n" + "\n\n".join(f"  {c}" for c in commands)
    return f"{text}\n\n{note}" if note else text


# the `directions` commands
FinderName = Annotated[str, typer.Argument(help="Finder name: sefa, ganspace, interfacegan, voynov, ...")]
GeneratorBackend = Annotated[str | None, backend("Generator backend (default: by checkpoint).")]
GeneratorCheckpoint = Annotated[str | None, checkpoint("Generator checkpoint.")]
RowLimit = Annotated[int, typer.Option("--limit", help="Rows to print (0 = all).")]

# a class-conditional generator's class (see large_toolkit.conditional); every command that loads a generator
ClassIdx = Annotated[
    int | None,
    typer.Option(
        "--class-idx",
        help="Class of a class-conditional model (required for one, refused for an unconditional model).",
    ),
]
