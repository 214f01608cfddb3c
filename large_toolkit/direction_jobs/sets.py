"""Getting a direction set (a finder's output, with caching, or a spec's) and writing it to a file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from large_toolkit.interfaces import Generator
    from large_toolkit.types import DirectionSet

Report = Callable[[str, int, int], None]


def needs_generator(spec: str) -> bool:
    """Whether a spec can only be resolved with a generator (a finder spec; files read without one)."""
    from large_toolkit.directions import parse_spec

    return not parse_spec(spec).is_file


def find_set(
    finder: str,
    generator: Generator,
    config: Mapping[str, Any],
    *,
    use_cache: bool = True,
    progress: Report | None = None,
    out: str | None = None,
    fmt: str | None = None,
) -> DirectionSet:
    """Run (or load from the cache) ``finder`` on ``generator`` and, given ``out``, write the set there."""
    from large_toolkit.directions import find_directions

    dirs = find_directions(finder, generator, config, use_cache=use_cache, progress=progress)
    if out:
        from large_toolkit.io.direction_formats import save_direction_file

        save_direction_file(out, dirs, fmt, generator)
    return dirs


def selected_set(spec: str, generator: Generator | None) -> DirectionSet:
    """The set a spec names; when the spec has a key, a set of that one direction (keeping its score)."""
    from large_toolkit.directions import parse_spec, pick, resolve_direction_set
    from large_toolkit.types import DirectionSet

    parsed = parse_spec(spec)
    dirs = resolve_direction_set(parsed, generator)
    if parsed.key is None:
        return dirs
    one = pick(dirs, parsed.key, parsed.text)
    idx = next(i for i, d in enumerate(dirs.directions) if d is one)
    scores = dirs.scores[idx : idx + 1] if dirs.scores is not None else None
    return DirectionSet([one], scores, dirs.score_name, dirs.metadata)


def export_set(spec: str, generator: Generator | None, out: str, fmt: str | None = None) -> dict[str, Any]:
    """Write the set (or the one direction) a spec names in another tool's format.

    Returns what was written (path, format, count and the generator fingerprint the set records, or
    the one it was found on), the report ``directions export --json`` prints.
    """
    from large_toolkit.io.direction_formats import save_direction_file, write_format

    dirs = selected_set(spec, generator)
    written = write_format(out, dirs, fmt)
    save_direction_file(out, dirs, written, generator)
    recorded = dirs.metadata.get("generator")
    fingerprint = recorded.get("fingerprint") if isinstance(recorded, Mapping) else None
    if fingerprint is None and generator is not None:
        fingerprint = generator.fingerprint()
    return {"out": out, "format": written, "count": len(dirs), "generator_fingerprint": fingerprint}
