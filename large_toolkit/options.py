"""Typed options for finders and inverters: one declaration, every front end.

A plugin declares its options as a dataclass whose fields carry types, defaults
and help text (:func:`option`).  The same declaration then serves
``--option k=v``, direction specs (``interfacegan:smile?scores=labels.csv&ratio=0.1``),
``regress --inverter-option``, Python callers (real values pass through) and the
GUI's options form: values arriving as text are converted to the field's type,
unknown names and bad values are refused in one line naming the fix.

``execution=True`` marks options that only say *where* work runs (engine,
workers): they do not change the result, so they stay out of cache keys.
``path=True`` marks a file the GUI offers to browse for.  ``low``/``high`` bound a number
(inclusive): a value outside is refused in one line before any work starts, from every front end.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from large_toolkit.errors import UserInputError

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
_NONE = ("none", "null", "")


def option(
    default: Any,
    help: str,
    *,
    choices: Iterable[Any] | None = None,
    execution: bool = False,
    path: bool = False,
    low: float | None = None,
    high: float | None = None,
) -> Any:
    """A dataclass field with its help text (and optional choices, execution / path flags, inclusive bounds)."""
    meta: dict[str, Any] = {"help": help, "choices": tuple(choices) if choices is not None else None}
    meta.update(execution=execution, path=path, low=low, high=high)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class OptionInfo:
    """One declared option, as front ends see it."""

    name: str
    kind: type | None  # int, float, str, bool; None = any value (JSON from text)
    optional: bool
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None
    execution: bool = False
    path: bool = False
    low: float | None = None
    high: float | None = None

    @property
    def bounds_text(self) -> str:
        """The allowed range in words (``>= 1``, ``in [0, 1]``), empty when unbounded."""
        if self.low is not None and self.high is not None:
            return f"in [{self.low:g}, {self.high:g}]"
        if self.low is not None:
            return f">= {self.low:g}"
        return f"<= {self.high:g}" if self.high is not None else ""

    @property
    def type_name(self) -> str:
        base = self.kind.__name__ if self.kind is not None else "any"
        return f"{base} | None" if self.optional else base


def _kind(hint: Any) -> tuple[type | None, bool]:
    """``int | None`` -> ``(int, True)``; ``Any`` -> ``(None, True)``."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        kind, _ = _kind(rest[0]) if len(rest) == 1 else (None, True)
        return kind, type(None) in args
    if hint in (int, float, str, bool):
        return hint, False
    return None, True


def describe(options_cls: type) -> list[OptionInfo]:
    """The declared options of a dataclass, in declaration order."""
    hints = typing.get_type_hints(options_cls)
    out = []
    for f in dataclasses.fields(options_cls):
        kind, optional = _kind(hints[f.name])
        factory: Any = f.default_factory
        default = f.default if f.default is not dataclasses.MISSING else factory()
        meta = f.metadata
        out.append(
            OptionInfo(
                f.name,
                kind,
                optional,
                default,
                str(meta.get("help", "")),
                meta.get("choices"),
                bool(meta.get("execution", False)),
                bool(meta.get("path", False)),
                meta.get("low"),
                meta.get("high"),
            )
        )
    return out


def execution_names(options_cls: type | None) -> set[str]:
    """Names of the options that only say where work runs."""
    return {o.name for o in describe(options_cls) if o.execution} if options_cls is not None else set()


def _from_text(info: OptionInfo, text: str) -> Any:
    """Parse command-line text; raises ValueError when it is not of the option's type."""
    text = text.strip()
    if info.optional and text.lower() in _NONE:
        return None
    if info.kind is None:
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    if info.kind is bool:
        if text.lower() not in _TRUE + _FALSE:
            raise ValueError(text)
        return text.lower() in _TRUE
    return info.kind(text)


def _checked(info: OptionInfo, value: Any) -> Any:
    """A Python value of the right type (ints widen to float, whole floats to int); ValueError otherwise."""
    if value is None:
        if not info.optional:
            raise ValueError(value)
        return None
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if info.kind is bool and not isinstance(value, bool):
        raise ValueError(value)
    if info.kind in (int, float) and not numeric:
        raise ValueError(value)
    if info.kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(value)
        return int(value)
    if info.kind is float:
        return float(value)
    return str(value) if info.kind is str else value


def coerce(info: OptionInfo, value: Any, owner: str) -> Any:
    """``value`` as the option's type; text is parsed, other values are checked (bool is not an int)."""
    try:
        value = _from_text(info, value) if isinstance(value, str) else _checked(info, value)
    except ValueError:
        raise UserInputError(
            f"option {info.name}={value!r} of {owner} is not a valid {info.type_name}", hint=info.help or None
        ) from None
    if info.choices is not None and value is not None and value not in info.choices:
        raise UserInputError(
            f"option {info.name}={value!r} of {owner} is not one of {', '.join(map(str, info.choices))}"
        )
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not _within(info, value):
        raise UserInputError(f"option {info.name}={value!r} of {owner} must be {info.bounds_text}", hint=info.help)
    return value


def _within(info: OptionInfo, value: float) -> bool:
    return (info.low is None or value >= info.low) and (info.high is None or value <= info.high)


def parse_options(options_cls: type, raw: Mapping[str, Any] | None, owner: str) -> dict[str, Any]:
    """Defaults overlaid with ``raw`` (text or values), typed and checked; unknown names are refused."""
    infos = {o.name: o for o in describe(options_cls)}
    raw = dict(raw or {})
    unknown = sorted(set(raw) - set(infos))
    if unknown:
        raise UserInputError(f"unknown option(s) {unknown} for {owner}", hint=f"known: {', '.join(infos)}")
    return {name: coerce(info, raw[name], owner) if name in raw else info.default for name, info in infos.items()}


def parse_pairs(items: Iterable[str], flag: str = "--option") -> dict[str, str]:
    """``KEY=VALUE`` items as text (typed later against the declaration)."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserInputError(f"bad {flag} {item!r}", hint=f"use KEY=VALUE, e.g. {flag} seed=1")
        out[key.strip()] = value
    return out


@dataclass(frozen=True)
class ExecutionOptions:
    """Where chunked work runs (``large_toolkit.chunk_engine``); finders' ``Options`` subclass it."""

    engine: str = option("local", "where chunks run: local or ray", choices=("local", "ray"), execution=True)
    ray_address: str | None = option(None, "Ray cluster address (engine=ray)", execution=True)
    ray_workers: int | None = option(None, "Ray workers (engine=ray; default: all CPUs)", execution=True)
