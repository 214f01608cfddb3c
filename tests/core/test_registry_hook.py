"""``registry_hook``: a plugin's registry hooks built from declarations, loaded lazily like hand-written ones."""

import sys
import textwrap
from importlib import metadata

import pytest

from large_toolkit.api import registry_hook
from large_toolkit.plugins import PluginHost

TARGET = """
    class Made:
        def __init__(self, *args, **kwargs):
            self.args, self.kwargs = args, kwargs
"""
HOOKS = """
    from large_toolkit.api import registry_hook

    def recognizes(path):
        return path.endswith(".tkp")

    register_direction_finders = registry_hook(("tkp_finder", "tkp_target:Made", "a lazily built finder"))
    register_generators = registry_hook(
        ("tkp_gen", "tkp_target:Made", "a generator", {"recognizes": recognizes}),
        ("tkp_eager", lambda **kw: ("eager", kw), "a plain callable factory"),
    )
"""


def test_components_register_lazily_with_meta(tmp_path, monkeypatch):
    (tmp_path / "tkp_target.py").write_text(textwrap.dedent(TARGET))
    (tmp_path / "tkp_hooks.py").write_text(textwrap.dedent(HOOKS))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "tkp_target", raising=False)
    host = PluginHost(entry_points=[metadata.EntryPoint(name="tkp_hooks", value="tkp_hooks", group="large_toolkit")])
    assert host.problems == []
    assert "tkp_target" not in sys.modules  # discovery imported only the declarations
    finder = host.direction_finder("tkp_finder")
    assert (finder.plugin, finder.description) == ("tkp_hooks", "a lazily built finder")
    made = finder.create()
    assert type(made).__name__ == "Made" and made.args == () and "tkp_target" in sys.modules
    gen = host.generator("tkp_gen")
    assert gen.meta["recognizes"]("x.tkp") and not gen.meta["recognizes"]("x.pkl")
    assert gen.create(checkpoint=None, device="cpu").kwargs == {"checkpoint": None, "device": "cpu"}
    assert host.generator("tkp_eager").create(device="cpu") == ("eager", {"device": "cpu"})


def test_malformed_component_is_refused_at_declaration():
    with pytest.raises(ValueError, match="name, factory, description"):
        registry_hook(("only-a-name", "mod:Name"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"package\.module:Name"):
        registry_hook(("x", "no_colon", "a bad lazy target"))


def test_builtin_finder_plugins_declare_through_it():
    host = PluginHost()
    for name in ("ganspace", "interfacegan", "sefa", "voynov"):
        reg = host.direction_finder(name)
        assert reg.plugin == name and reg.factory.__module__ == "large_toolkit.api"  # a lazy() target
