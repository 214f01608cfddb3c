"""Import layering, checked on the source (AST), so a violation fails here, not in a user's install.

* core (``large_toolkit``) imports no plugin and not the GUI;
* a plugin (``plugins/*``, ``examples/*``) imports from core only ``large_toolkit.api`` (and the package root),
  and from another plugin only names that plugin declares in its top-level ``__all__`` (its public surface);
* the GUI (``large_gui``) imports no plugin.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "large_toolkit"
GUI = ROOT / "gui" / "large_gui"
PLUGIN_DIRS = sorted(p for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").is_file())
EXAMPLE_DIRS = sorted(
    p for p in (ROOT / "examples").glob("*/*") if (p / "__init__.py").is_file() and "build" not in p.parts
)
PLUGINS = {p.name: p for p in PLUGIN_DIRS + EXAMPLE_DIRS}
CORE_API = {"large_toolkit", "large_toolkit.api"}
# The one place core reaches the GUI: the `gui` command launches it (imported only when the command runs).
CORE_ALLOWED = {"large_toolkit/cli/gui_cmd.py": "large_gui"}


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """``(line, module, names)`` for every absolute import in a file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:  # relative imports stay inside a package
            out.append((node.lineno, node.module or "", [alias.name for alias in node.names]))
    return out


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "build" not in p.relative_to(folder).parts)


def _top(module: str) -> str:
    return module.split(".", 1)[0]


def _surface(plugin: str) -> set[str]:
    module = importlib.import_module(plugin)
    return set(getattr(module, "__all__", ()))


def test_core_imports_no_plugin_and_no_gui() -> None:
    bad = []
    for path in _files(CORE):
        rel = str(path.relative_to(ROOT))
        for line, module, _ in _imports(path):
            if (_top(module) in PLUGINS or _top(module) == "large_gui") and CORE_ALLOWED.get(rel) != _top(module):
                bad.append(f"{rel}:{line} imports {module}")
    assert not bad, "core must not import plugins or the GUI:\n" + "\n".join(bad)


def test_gui_imports_no_plugin() -> None:
    bad = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in _files(GUI)
        for line, module, _ in _imports(path)
        if _top(module) in PLUGINS
    ]
    assert not bad, "the GUI must reach plugins through the registry only:\n" + "\n".join(bad)


@pytest.mark.parametrize("plugin", sorted(PLUGINS))
def test_plugin_imports_only_the_public_api(plugin: str) -> None:
    bad = []
    for path in _files(PLUGINS[plugin]):
        for line, module, names in _imports(path):
            where = f"{path.relative_to(ROOT)}:{line}"
            top = _top(module)
            if top == "large_toolkit" and module not in CORE_API:
                bad.append(f"{where} imports {module} (use large_toolkit.api)")
            elif top == "large_gui":
                bad.append(f"{where} imports the GUI")
            elif top in PLUGINS and top != plugin:
                outside = sorted(set(names) - _surface(top)) if module == top else [module]
                if outside:
                    bad.append(f"{where} imports {outside} from plugin {top} outside its declared __all__")
    assert not bad, f"plugin {plugin} reaches past the public API:\n" + "\n".join(bad)


def test_one_hookimpl_marker() -> None:
    """Plugins use ``large_toolkit.api.hookimpl``; none re-creates the marker."""
    import large_toolkit
    import large_toolkit.api

    assert large_toolkit.api.hookimpl is large_toolkit.hookimpl
    bad = [
        str(path.relative_to(ROOT))
        for folder in PLUGINS.values()
        for path in _files(folder)
        if "HookimplMarker" in path.read_text()
    ]
    assert not bad, f"these plugins re-create hookimpl: {bad}"


def test_api_names_resolve() -> None:
    import large_toolkit.api as api

    missing = [name for name in api.__all__ if not hasattr(api, name)]
    assert not missing, missing
    assert api.PLUGIN_API_VERSION.count(".") == 1
