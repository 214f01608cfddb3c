"""The options a direction finder declares (type, bounds, default, help), for listings and forms."""

from __future__ import annotations

from typing import Any


def finder_option_rows(finder: str) -> list[dict[str, Any]]:
    """One row per declared option of ``finder``; ``low``/``high`` are the inclusive bounds (None: open)."""
    from large_toolkit.options import describe
    from large_toolkit.plugins import load_direction_finder

    declared = load_direction_finder(finder).Options
    return [
        {
            "name": o.name,
            "type": o.type_name,
            "default": o.default,
            "help": o.help,
            "execution": o.execution,
            "low": o.low,
            "high": o.high,
            "bounds": o.bounds_text,
        }
        for o in (describe(declared) if declared is not None else [])
    ]
