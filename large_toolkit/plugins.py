"""Plugin discovery and registries, built on pluggy.

Built-in and third-party plugins load the same way: from the ``large_toolkit``
entry-point group, one at a time, built-ins first.  A plugin that fails to import,
raises inside a hook (any ``BaseException``, ``sys.exit()`` included -- only Ctrl-C
passes), or registers a name twice is recorded as a :class:`PluginProblem` and
reported by name; every other plugin keeps working.

Isolation rules (why: one bad third-party package must not take the tool down):

* Built-in names win.  The plugins this project ships (:data:`BUILTIN_PLUGINS`) load
  and register first; a third-party plugin registering the same component name, or
  an entry point with a built-in's name, is refused and named as the intruder.
* Core commands win.  Plugin commands are staged on a private Typer app and copied
  over only when their name is free; a plugin trying to replace ``regress`` is named.
* Hangs are bounded.  Third-party imports and hooks run in a watchdog thread: after
  :data:`SLOW_NOTE_S` seconds the plugin is named on stderr, after
  ``LARGE_TK_PLUGIN_TIMEOUT`` seconds (default 20) it is skipped and reported, so
  ``--help`` and ``large-tk plugins`` always answer.  The abandoned thread is a daemon
  and dies with the process; anything it registers later is ignored.

Environment:
  ``LARGE_TK_PLUGINS=a,b``          load only these plugins (entry-point names); empty loads none;
                                    ``builtin`` stands for every plugin this project ships (a safe mode)
  ``LARGE_TK_DISABLE_PLUGINS=a,b``  skip these plugins
  ``LARGE_TK_PLUGIN_TIMEOUT=S``     seconds a third-party plugin may take per import or hook (default 20)
"""

from __future__ import annotations

import functools
import importlib.metadata as metadata
import os
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pluggy

from large_toolkit import hookspecs
from large_toolkit.errors import UnknownPluginError

ENTRY_POINT_GROUP = "large_toolkit"
#: Entry points shipped by this project (name -> module); they load first and keep their names.
BUILTIN_PLUGINS = {
    "stylegan2": "large_stylegan2",
    "stylegan3": "large_stylegan3",
    "inverters": "large_inverters",
    "sefa": "large_sefa",
    "ganspace": "large_ganspace",
    "interfacegan": "large_interfacegan",
    "voynov": "large_voynov",
}
#: A third-party import or hook running longer than this is named on stderr while it runs.
SLOW_NOTE_S = 3.0
DEFAULT_PLUGIN_TIMEOUT_S = 20.0
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
        """The JSON view (``large-tk plugins --json``): everything but the factory and its meta."""
        return {key: getattr(self, key) for key in ("name", "kind", "description", "plugin", "distribution", "version")}


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
    """The ``register`` callback handed to one plugin's registry hook (ignored once ``closed``)."""

    def __init__(self, host: PluginHost, kind: str, plugin: str) -> None:
        self._host, self._kind, self._plugin = host, kind, plugin
        self.closed = False

    def __call__(self, name: str, factory: Callable[..., Any], description: str = "", **meta: Any) -> None:
        if not self.closed:
            self._host._add(self._kind, self._plugin, name, factory, description, meta)


def _split_env(name: str) -> set[str] | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _plugin_timeout() -> float:
    try:
        return max(float(os.environ.get("LARGE_TK_PLUGIN_TIMEOUT", DEFAULT_PLUGIN_TIMEOUT_S)), 0.1)
    except ValueError:
        return DEFAULT_PLUGIN_TIMEOUT_S


def is_builtin(ep: metadata.EntryPoint) -> bool:
    """An entry point this project ships: a built-in name pointing at the built-in module."""
    return BUILTIN_PLUGINS.get(ep.name) == ep.value


class _Outcome:
    """What a guarded call produced: a value, an error text, or a time-out."""

    def __init__(self) -> None:
        self.value: Any = None
        self.error: str | None = None


def _guarded(plugin: str, stage: str, fn: Callable[[], Any], watchdog: bool) -> _Outcome:
    """Run plugin code containing every exception but Ctrl-C; with ``watchdog``, bounded in time."""
    out = _Outcome()

    def target() -> None:
        try:
            out.value = fn()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit, GeneratorExit, anything a plugin raises
            out.error = _error_text(exc) if not isinstance(exc, SystemExit) else f"SystemExit({exc.code!r})"

    if not watchdog:
        target()
        return out
    thread = threading.Thread(target=target, name=f"large-tk plugin {plugin}", daemon=True)
    thread.start()
    limit = _plugin_timeout()
    thread.join(min(SLOW_NOTE_S, limit))
    if thread.is_alive() and limit > SLOW_NOTE_S:
        print(f"note: plugin {plugin!r} is still running its {stage} after {SLOW_NOTE_S:.0f} s ...", file=sys.stderr)
        thread.join(limit - SLOW_NOTE_S)
    if thread.is_alive():
        out.error = f"did not finish within {limit:g} s (hangs?); raise LARGE_TK_PLUGIN_TIMEOUT if it is just slow"
    return out


class PluginHost:
    """Loads plugins and holds the three registries plus the command hooks."""

    def __init__(self, entry_points: Iterable[metadata.EntryPoint] | None = None) -> None:
        self.pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.registries: dict[str, dict[str, Registration]] = {kind: {} for kind in KINDS}
        self.problems: list[PluginProblem] = []
        self.loaded: dict[str, dict[str, str | None]] = {}
        self._dist_of: dict[str, tuple[str | None, str | None]] = {}
        self._builtin: set[str] = set()
        eps = list(entry_points) if entry_points is not None else list(metadata.entry_points(group=ENTRY_POINT_GROUP))
        self._load(eps)
        for kind in KINDS:
            self._collect(kind)

    # -- loading --------------------------------------------------------------------------

    def _load(self, eps: list[metadata.EntryPoint]) -> None:
        only, disabled = _split_env("LARGE_TK_PLUGINS"), _split_env("LARGE_TK_DISABLE_PLUGINS") or set()
        for ep in sorted(eps, key=lambda e: (not is_builtin(e), e.name)):
            listed = only is None or ep.name in only or ("builtin" in only and is_builtin(ep))
            if not listed or ep.name in disabled:
                continue
            dist = getattr(ep, "dist", None)
            dist_name = dist.metadata["Name"] if dist is not None else None
            dist_version = dist.version if dist is not None else None
            builtin = is_builtin(ep)
            if ep.name in self.loaded:
                self.problems.append(
                    PluginProblem(
                        ep.name,
                        "import",
                        f"entry point {ep.name!r} -> {ep.value} (distribution {dist_name or '?'}) reuses the name "
                        f"of an already loaded plugin",
                        dist_name,
                    )
                )
                continue
            outcome = _guarded(ep.name, "import", ep.load, watchdog=not builtin)
            if outcome.error is None:
                try:
                    self.pm.register(outcome.value, name=ep.name)
                except Exception as exc:
                    outcome.error = _error_text(exc)
            if outcome.error is not None:  # a broken plugin must not break the tool
                self.problems.append(PluginProblem(ep.name, "import", outcome.error, dist_name))
                continue
            if builtin:
                self._builtin.add(ep.name)
            self._dist_of[ep.name] = (dist_name, dist_version)
            self.loaded[ep.name] = {"distribution": dist_name, "version": dist_version, "module": ep.value}

    def register_module(self, module: Any, name: str) -> None:
        """Register an in-process plugin object (tests, notebooks) and collect its components."""
        self.pm.register(module, name=name)
        self._dist_of[name] = (None, None)
        self.loaded[name] = {"distribution": None, "version": None, "module": getattr(module, "__name__", name)}
        for kind in KINDS:
            self._collect(kind, only_plugin=name)

    def _ordered_impls(self, hook: Any) -> list[Any]:
        """Hook implementations with built-ins first, whatever order (tryfirst...) a plugin asked for."""
        return sorted(hook.get_hookimpls(), key=lambda impl: impl.plugin_name not in self._builtin)

    def _collect(self, kind: str, only_plugin: str | None = None) -> None:
        hook = getattr(self.pm.hook, _HOOK_FOR_KIND[kind])
        for impl in self._ordered_impls(hook):
            if only_plugin is not None and impl.plugin_name != only_plugin:
                continue
            register = _Register(self, kind, impl.plugin_name)
            builtin = impl.plugin_name in self._builtin
            outcome = _guarded(
                impl.plugin_name, _HOOK_FOR_KIND[kind], functools.partial(impl.function, register=register), not builtin
            )
            register.closed = True
            if outcome.error is not None:
                self.problems.append(PluginProblem(impl.plugin_name, _HOOK_FOR_KIND[kind], outcome.error))

    def _add(
        self, kind: str, plugin: str, name: str, factory: Callable[..., Any], description: str, meta: dict[str, Any]
    ) -> None:
        registry = self.registries[kind]
        dist, version = self._dist_of.get(plugin, (None, None))
        if name in registry:
            first = registry[name].plugin
            if plugin in self._builtin and first not in self._builtin:  # the built-in keeps its name
                intruder = registry.pop(name)
                self.problems.append(
                    PluginProblem(
                        first,
                        "register",
                        f"{kind} name {name!r} belongs to built-in plugin {plugin!r}; the intruder's one is ignored",
                        intruder.distribution,
                    )
                )
            else:
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
        """Let every plugin add CLI commands: staged privately, copied over only under free names."""
        import typer

        taken = {_command_name(info) for info in app.registered_commands}
        taken |= {_group_name(info) for info in app.registered_groups}
        for impl in self._ordered_impls(self.pm.hook.register_commands):
            stage = typer.Typer()
            builtin = impl.plugin_name in self._builtin
            outcome = _guarded(
                impl.plugin_name, "register_commands", functools.partial(impl.function, app=stage), not builtin
            )
            if outcome.error is not None:
                self.problems.append(PluginProblem(impl.plugin_name, "register_commands", outcome.error))
                continue
            for info, name, target in [
                *((i, _command_name(i), app.registered_commands) for i in stage.registered_commands),
                *((i, _group_name(i), app.registered_groups) for i in stage.registered_groups),
            ]:
                if name in taken:
                    self.problems.append(
                        PluginProblem(
                            impl.plugin_name,
                            "register_commands",
                            f"command {name!r} already exists (core or an earlier plugin); the plugin's one is ignored",
                        )
                    )
                    continue
                taken.add(name)
                target.append(info)

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


def _command_name(info: Any) -> str:
    if info.name:
        return str(info.name)
    callback = getattr(info, "callback", None)
    return getattr(callback, "__name__", "").lower().replace("_", "-")


def _group_name(info: Any) -> str:
    if info.name:
        return str(info.name)
    instance_info = getattr(getattr(info, "typer_instance", None), "info", None)
    return str(getattr(instance_info, "name", None) or "")


@functools.cache
def get_host() -> PluginHost:
    """The process-wide plugin host, built on first use."""
    return PluginHost()


def reset_host() -> None:
    """Forget the loaded plugins (tests, or after installing a plugin in-process)."""
    get_host.cache_clear()


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
