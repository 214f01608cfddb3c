"""Console entry point for ``large-tk``.

The Typer app runs with ``standalone_mode=False`` so that every ending is decided
here: usage errors become one line ``error: ... (see large-tk CMD --help)`` with exit
code 2 instead of Typer's five-line box, and everything else goes through
:func:`large_toolkit.cli.errors.report`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from large_toolkit.cli.errors import debug_enabled, report


def _click_exceptions() -> Any:
    """Typer's click exception classes (typer >= 0.20 vendors click as ``typer._click``)."""
    try:
        from typer._click import exceptions
    except ImportError:  # older typer on top of click
        from click import exceptions  # type: ignore[no-redef]
    return exceptions


def run(app: Any, args: Sequence[str] | None = None) -> int:
    """Run the app on ``args`` (default: ``sys.argv[1:]``) and return the exit code."""
    import typer

    click = _click_exceptions()
    command = typer.main.get_command(app)
    try:
        result = command.main(
            args=list(args) if args is not None else None, prog_name="large-tk", standalone_mode=False
        )
    except click.NoArgsIsHelpError as exc:
        print(exc.ctx.get_help() if exc.ctx is not None else "", end="\n")
        return 0
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "large-tk"
        text = " ".join(exc.format_message().split())
        print(f"error: {text} (see {where} --help)", file=sys.stderr)
        return 2
    except click.ClickException as exc:
        print(f"error: {' '.join(exc.format_message().split())}", file=sys.stderr)
        return exc.exit_code
    except typer.Exit as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except typer.Abort:
        print("error: aborted", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        return report(exc)
    return result if isinstance(result, int) else 0


def main() -> None:
    try:
        from large_toolkit.cli.app import build_app

        app = build_app()
    except Exception as exc:  # even start-up failures end in one line
        if debug_enabled():
            raise
        sys.exit(report(exc))
    sys.exit(run(app))


if __name__ == "__main__":
    main()
