"""``large-tk plugins``: what is installed, who provides it, and what failed to load."""

from __future__ import annotations

from typing import Annotated

import typer

from large_toolkit.cli.output import print_json, print_table


def install(app: typer.Typer) -> None:
    @app.command(
        "plugins",
        epilog="Examples:\n\n  large-tk plugins\n\n  large-tk plugins --json | jq '.components[].name'\n\n"
        "  LARGE_TK_DISABLE_PLUGINS=voynov large-tk plugins",
    )
    def plugins(
        json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")] = False,
    ) -> None:
        """List registered generators, inverters and direction finders, and plugins that failed to load."""
        from large_toolkit.plugins import get_host

        host = get_host()
        components = [reg.to_dict() for reg in host.all_registrations()]
        if json_out:
            print_json(
                {
                    "components": components,
                    "plugins": [{"name": name, **info} for name, info in sorted(host.loaded.items())],
                    "errors": [p.to_dict() for p in host.problems],
                }
            )
            return
        rows = [
            (
                c["kind"].replace("_", " "),
                c["name"],
                c["description"],
                c["plugin"],
                f"{c['distribution'] or '-'} {c['version'] or ''}".strip(),
            )
            for c in components
        ]
        print_table("large-tk components", ["kind", "name", "description", "plugin", "distribution"], rows)
        if host.problems:
            print_table(
                "plugins that failed to load",
                ["plugin", "stage", "error"],
                [(p.plugin, p.stage, p.error) for p in host.problems],
            )
