"""Plugin discovery and registries, built on pluggy.

Built-in and third-party plugins load the same way: from the ``large_toolkit``
entry-point group, one at a time.  A plugin that fails to import, raises inside
a hook, or registers a name twice is recorded as a :class:`PluginProblem` and
reported by name; every other plugin keeps working.

Environment:
  ``LARGE_TK_PLUGINS=a,b``          load only these plugins (entry-point names); empty loads none
  ``LARGE_TK_DISABLE_PLUGINS=a,b``  skip these plugins
"""

from __future__ import annotations

import importlib.metadata as metadata
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pluggy

from large_toolkit import hookspecs
from large_toolkit.errors import UnknownPluginError

ENTRY_POINT_GROUP = "large_toolkit"
KINDS = ("generator", "inverter", "direction_finder", "direction_format")
_HOOK_FOR_KIND = {
    "generator": "register_generators",
    "inverter": "register_inverters",
    "direction_finder": "register_direction_finders",
    "direction_format": "register_direction_formats",
}


@dataclass(frozen=True)
class Registration:
    """One registered component: its name, what it is, who provided it, and how to build it."""

    kind: str
    name: str
    description: str
    factory: Callable[..., Any]
    plugin: str
    distribution: str | None = None
    version: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def create(self, *args: Any, **kwargs: Any) -> Any:
        """Build the component (this is where heavy imports happen).

        A ``checkpoint`` that names a zoo model or an https:// URL becomes the checked cached file here, the
        one place every generator and inverter checkpoint passes through.
        """
        if isinstance(kwargs.get("checkpoint"), str):
            from large_toolkit.io.download import resolve_checkpoint

            kwargs["checkpoint"] = str(resolve_checkpoint(kwargs["checkpoint"]))
        return self.factory(*args, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "description": self.description,
            "plugin": self.plugin,
            "distribution": self.distribution,
            "version": self.version,
        }


@dataclass(frozen=True)
class PluginProblem:
    """A plugin that failed; ``stage`` is ``import``, a hook name, or ``register``."""

    plugin: str
    stage: str
    error: str
    distribution: str | None = None

    def one_line(self) -> str:
        return (
            f"plugin {self.plugin!r} failed ({self.stage}): {self.error} "
            f"[skipped; set LARGE_TK_DISABLE_PLUGINS={self.plugin} to silence]"
        )

    def to_dict(self) -> dict[str, Any]:
        return {"plugin": self.plugin, "stage": self.stage, "error": self.error, "distribution": self.distribution}


class _Register:
    """The ``register`` callback handed to one plugin's registry hook."""

    def __init__(self, host: PluginHost, kind: str, plugin: str) -> None:
        self._host, self._kind, self._plugin = host, kind, plugin

    def __call__(self, name: str, factory: Callable[..., Any], description: str = "", **meta: Any) -> None:
        self._host._add(self._kind, self._plugin, name, factory, description, meta)


def _split_env(name: str) -> set[str] | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class PluginHost:
    """Loads plugins and holds the three registries plus the command hooks."""

    def __init__(self, entry_points: Iterable[metadata.EntryPoint] | None = None) -> None:
        self.pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.registries: dict[str, dict[str, Registration]] = {kind: {} for kind in KINDS}
        self.problems: list[PluginProblem] = []
        self.loaded: dict[str, dict[str, str | None]] = {}
        self._dist_of: dict[str, tuple[str | None, str | None]] = {}
        eps = list(entry_points) if entry_points is not None else list(metadata.entry_points(group=ENTRY_POINT_GROUP))
        self._load(eps)
        for kind in KINDS:
            self._collect(kind)

    # -- loading --------------------------------------------------------------------------

    def _load(self, eps: list[metadata.EntryPoint]) -> None:
        only, disabled = _split_env("LARGE_TK_PLUGINS"), _split_env("LARGE_TK_DISABLE_PLUGINS") or set()
        for ep in sorted(eps, key=lambda e: e.name):
            if (only is not None and ep.name not in only) or ep.name in disabled:
                continue
            dist = getattr(ep, "dist", None)
            dist_name = dist.metadata["Name"] if dist is not None else None
            dist_version = dist.version if dist is not None else None
            try:
                module = ep.load()
                self.pm.register(module, name=ep.name)
            except Exception as exc:  # a broken plugin must not break the tool
                self.problems.append(PluginProblem(ep.name, "import", _error_text(exc), dist_name))
                continue
            self._dist_of[ep.name] = (dist_name, dist_version)
            self.loaded[ep.name] = {"distribution": dist_name, "version": dist_version, "module": ep.value}

    def register_module(self, module: Any, name: str) -> None:
        """Register an in-process plugin object (tests, notebooks) and collect its components."""
        self.pm.register(module, name=name)
        self._dist_of[name] = (None, None)
        self.loaded[name] = {"distribution": None, "version": None, "module": getattr(module, "__name__", name)}
        for kind in KINDS:
            self._collect(kind, only_plugin=name)

    def _collect(self, kind: str, only_plugin: str | None = None) -> None:
        hook = getattr(self.pm.hook, _HOOK_FOR_KIND[kind])
        for impl in hook.get_hookimpls():
            if only_plugin is not None and impl.plugin_name != only_plugin:
                continue
            try:
                impl.function(register=_Register(self, kind, impl.plugin_name))
            except Exception as exc:
                self.problems.append(PluginProblem(impl.plugin_name, _HOOK_FOR_KIND[kind], _error_text(exc)))

    def _add(
        self, kind: str, plugin: str, name: str, factory: Callable[..., Any], description: str, meta: dict[str, Any]
    ) -> None:
        registry = self.registries[kind]
        dist, version = self._dist_of.get(plugin, (None, None))
        if name in registry:
            first = registry[name].plugin
            self.problems.append(
                PluginProblem(
                    plugin, "register", f"{kind} name {name!r} is already registered by plugin {first!r}", dist
                )
            )
            return
        if not callable(factory):
            self.problems.append(
                PluginProblem(plugin, "register", f"factory for {kind} {name!r} is not callable", dist)
            )
            return
        registry[name] = Registration(kind, name, description, factory, plugin, dist, version, dict(meta))

    def add_commands(self, app: Any) -> None:
        """Let every plugin add CLI commands, isolating failures like the registry hooks."""
        for impl in self.pm.hook.register_commands.get_hookimpls():
            try:
                impl.function(app=app)
            except Exception as exc:
                self.problems.append(PluginProblem(impl.plugin_name, "register_commands", _error_text(exc)))

    # -- lookup ---------------------------------------------------------------------------

    def get(self, kind: str, name: str) -> Registration:
        registry = self.registries[kind]
        if name not in registry:
            known = ", ".join(sorted(registry)) or "none installed"
            label = kind.replace("_", " ")
            raise UnknownPluginError(f"unknown {label} {name!r}", hint=f"known: {known}; see `large-tk plugins`")
        return registry[name]

    def generator(self, name: str) -> Registration:
        return self.get("generator", name)

    def inverter(self, name: str) -> Registration:
        return self.get("inverter", name)

    def direction_finder(self, name: str) -> Registration:
        return self.get("direction_finder", name)

    def all_registrations(self) -> list[Registration]:
        return [reg for kind in KINDS for reg in self.registries[kind].values()]


_HOST: PluginHost | None = None


def get_host() -> PluginHost:
    """The process-wide plugin host, built on first use."""
    global _HOST
    if _HOST is None:
        _HOST = PluginHost()
    return _HOST


def reset_host() -> None:
    """Forget the loaded plugins (tests, or after installing a plugin in-process)."""
    global _HOST
    _HOST = None


def load_generator(backend: str, checkpoint: str | None = None, device: str = "auto") -> Any:
    """Build a Generator from the registry: ``factory(checkpoint=..., device=...)``.

    ``checkpoint`` None asks the backend for its bundled default model.
    """
    import os

    from large_toolkit.chunk_engine import GeneratorSpec, attach_recipe
    from large_toolkit.runner import resolve_device

    generator = get_host().generator(backend).create(checkpoint=checkpoint, device=str(resolve_device(device)))
    generator.name = getattr(generator, "name", "") or backend  # capability messages name the backend
    # The recipe lets engine=ray workers rebuild this generator themselves (absolute path: other cwd).
    path = os.path.abspath(checkpoint) if checkpoint and os.path.exists(checkpoint) else checkpoint
    attach_recipe(generator, GeneratorSpec(backend, path))
    return generator


def load_direction_finder(name: str) -> Any:
    """Build a DirectionFinder from the registry."""
    return get_host().direction_finder(name).create()
