"""Printing helpers: tables for people on stdout, JSON for scripts, diagnostics on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any


def print_json(data: Any) -> None:
    """Machine output: one JSON document on stdout, nothing else."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in columns:
        table.add_column(col, overflow="fold")  # never cut a value (e.g. a direction name) with an ellipsis
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console().print(table)


def note(message: str) -> None:
    """A diagnostic line on stderr (keeps stdout clean for data)."""
    print(message, file=sys.stderr)
