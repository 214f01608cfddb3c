"""Console entry point for ``large-tk``."""

from __future__ import annotations

import sys

from large_toolkit.cli.errors import debug_enabled, report


def main() -> None:
    try:
        from large_toolkit.cli.app import build_app

        app = build_app()
    except Exception as exc:  # even start-up failures end in one line
        if debug_enabled():
            raise
        sys.exit(report(exc))
    app(prog_name="large-tk")


if __name__ == "__main__":
    main()
