"""Turn exceptions into one line on stderr and an exit code.

Expected failures (:class:`LargeTkError`) print ``error: <problem> (<fix>)``
and exit 2 for bad input, 1 otherwise.  Anything unexpected prints one line
too, naming ``LARGE_TK_DEBUG=1`` to see the traceback.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from large_toolkit.errors import LargeTkError


def debug_enabled() -> bool:
    return os.environ.get("LARGE_TK_DEBUG", "").strip() not in ("", "0", "false", "no")


def _is_framework_exception(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("typer") or isinstance(exc, (typer.Exit, typer.Abort))


def report(exc: BaseException) -> int:
    """Print one line for ``exc``; return the exit code."""
    if isinstance(exc, LargeTkError):
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        print("error: interrupted", file=sys.stderr)
        return 130
    text = " ".join(str(exc).split()) or type(exc).__name__
    print(f"error: {type(exc).__name__}: {text} (set LARGE_TK_DEBUG=1 for the traceback)", file=sys.stderr)
    return 1


HELP_ASKED = "large_tk.help_asked"


class LargeTkGroup(TyperGroup):
    """The root command group: catches errors from every sub-command."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        from large_toolkit.cli.options import spread_multi_values

        ctx.meta[HELP_ASKED] = any(arg in ("--help", "-h") for arg in args)  # the root callback skips its checks
        return super().parse_args(ctx, spread_multi_values(list(args)))

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BaseException as exc:
            if _is_framework_exception(exc) or isinstance(exc, SystemExit) or debug_enabled():
                raise
            raise typer.Exit(report(exc)) from None
