"""The model zoo: named, published checkpoints a user can pass as ``--checkpoint NAME``.

The entries live in ``zoo.json`` beside this module (data, not code: a URL, a file name, and the sha256 and
size where the publisher gives them).  ``sha256: null`` means nobody publishes one (NVIDIA's pickles): the
first download records it and later downloads must match (trust-on-first-use, see
:mod:`large_toolkit.io.download`).  A site can add or override entries with a JSON file of the same format
named by ``$LARGE_TK_ZOO`` (e.g. an internal mirror).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from large_toolkit.errors import UserInputError

ZOO_ENV = "LARGE_TK_ZOO"
BUNDLED = Path(__file__).with_name("zoo.json")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, kw_only=True)
class ZooEntry:
    """One downloadable file; ``sha256``/``size`` are None where nothing is published.

    Keyword-only (entries come from JSON objects), so the fields are grouped by meaning: what the
    model is, then where its bytes come from and how they are checked.
    """

    name: str
    kind: str
    backend: str | None = None
    description: str = ""
    url: str
    filename: str
    sha256: str | None = None
    size: int | None = None
    hash_source: str = ""
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _entry(raw: dict[str, Any], origin: Path) -> ZooEntry:
    try:
        entry = ZooEntry(**raw)
    except TypeError as exc:
        raise UserInputError(f"{origin}: bad zoo entry {raw.get('name')!r}: {exc}", hint="see zoo.json") from None
    if entry.sha256 is not None and not _SHA256.fullmatch(entry.sha256):
        raise UserInputError(f"{origin}: zoo entry {entry.name!r} has a malformed sha256", hint="64 lowercase hex")
    if "/" in entry.filename or "\\" in entry.filename or entry.filename in ("", ".", ".."):
        raise UserInputError(f"{origin}: zoo entry {entry.name!r} has a bad filename", hint="a plain file name")
    return entry


def load_registry(path: Path) -> dict[str, ZooEntry]:
    """Read one zoo file (``{"entries": [...]}``)."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UserInputError(f"cannot read the model zoo {path}: {exc}", hint=f"fix or unset ${ZOO_ENV}") from None
    return {e.name: e for e in (_entry(raw, Path(path)) for raw in doc.get("entries", []))}


def registry() -> dict[str, ZooEntry]:
    """The bundled entries, then any from ``$LARGE_TK_ZOO`` (same name overrides)."""
    entries = load_registry(BUNDLED)
    extra = os.environ.get(ZOO_ENV, "").strip()
    if extra:
        entries.update(load_registry(Path(extra).expanduser()))
    return entries


def find(name: str) -> ZooEntry | None:
    return registry().get(name)


def get(name: str) -> ZooEntry:
    """The entry called ``name``, or one line naming the closest names."""
    entries = registry()
    if name in entries:
        return entries[name]
    import difflib

    close = difflib.get_close_matches(name, list(entries), n=3)
    hint = f"did you mean {', '.join(close)}?" if close else "`large-tk models list` shows every name"
    raise UserInputError(f"no model called {name!r} in the zoo", hint=hint)
