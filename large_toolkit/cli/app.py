"""Build the Typer app: global options, core command modules, then plugin commands.

Each core command lives in its own module exposing ``install(app)``; command
bodies import torch and models lazily so ``large-tk --help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from large_toolkit import __version__
from large_toolkit.cli.errors import HELP_ASKED, LargeTkGroup
from large_toolkit.cli.output import note
from large_toolkit.cli.state import OPTIONS

CORE_COMMAND_MODULES = (
    "large_toolkit.cli.plugins_cmd",
    "large_toolkit.cli.generate_cmd",
    "large_toolkit.cli.convert_cmd",
    "large_toolkit.cli.regress_cmd",
    "large_toolkit.cli.predict_cmd",
    "large_toolkit.cli.sort_cmd",
    "large_toolkit.cli.ordinal_cmd",
    "large_toolkit.cli.suggest_cmd",
    "large_toolkit.cli.layers_cmd",
    "large_toolkit.cli.directions_cmd",
    "large_toolkit.cli.data_cmd",
    "large_toolkit.cli.gui_cmd",
    "large_toolkit.cli.fid_cmd",
    "large_toolkit.cli.export_cmd",
    "large_toolkit.cli.models_cmd",
)

HELP = (
    "large-tk: few-shot regression from the latent space of a pretrained GAN (LARGE, CVPR 2022).\n\n"
    "Invert images into W / W+ / StyleSpace, measure their signed distance to a semantic direction "
    "(SeFa, GANSpace, InterFaceGAN, ...), then sort, regress from two labels, or study which generator "
    "layers carry the attribute."
)

EPILOG = """Examples:\n
  large-tk plugins\n
  large-tk --device cuda generate --checkpoint ffhq.pkl --seeds 0-7 --out grid.png\n
  large-tk regress --direction sefa:3
"""


def _version_callback(value: bool) -> None:
    if value:
        print(f"large-tk {__version__}")
        raise typer.Exit()


#: Commands that never run a generator: ``LARGE_TK_PRECISION=fp16`` set for a GPU must not stop them on a CPU.
NO_FORWARD_PASS = frozenset({"plugins", "models", "data", "export", "convert"})


def _apply_precision(precision: str, device: str, ctx: typer.Context) -> None:
    """Make ``--precision`` the runner's default, refusing fp16 off CUDA in one line before any work (not for
    the commands in :data:`NO_FORWARD_PASS`, which it cannot affect).

    A sub-command's ``--help`` is still shown, even under a mistyped ``LARGE_TK_PRECISION`` (only then are the
    checks skipped: nothing runs); fp32 costs no torch import.
    """
    from large_toolkit.precision import check_precision, set_default_precision

    if ctx.meta.get(HELP_ASKED):
        return
    set_default_precision(precision)
    if precision == "fp32" or ctx.invoked_subcommand in NO_FORWARD_PASS:
        return
    from large_toolkit.runner import resolve_device

    check_precision(precision, resolve_device(device).type)


def build_app() -> typer.Typer:
    app = typer.Typer(
        cls=LargeTkGroup,
        help=HELP,
        epilog=EPILOG,
        no_args_is_help=True,
        rich_markup_mode="rich",
        pretty_exceptions_enable=False,
        add_completion=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def root(
        ctx: typer.Context,
        device: Annotated[
            str,
            typer.Option("--device", envvar="LARGE_TK_DEVICE", help="auto (CUDA when present), cpu, cuda or cuda:N"),
        ] = "auto",
        precision: Annotated[
            str,
            typer.Option(
                "--precision",
                envvar="LARGE_TK_PRECISION",
                help="fp32, bf16 or fp16 (CUDA only): autocast of the generator's synthesis; the mapping network "
                "and style affines stay fp32, so W/S distances do not change (see docs/devices.md).",
            ),
        ] = "fp32",
        version: Annotated[
            bool,
            typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version and exit."),
        ] = False,
    ) -> None:
        OPTIONS.device = device
        OPTIONS.precision = precision
        _apply_precision(precision, device, ctx)

    for module_name in CORE_COMMAND_MODULES:
        importlib.import_module(module_name).install(app)

    from large_toolkit.plugins import get_host

    host = get_host()
    host.add_commands(app)
    for problem in host.problems:
        note(f"warning: {problem.one_line()}")
    return app
