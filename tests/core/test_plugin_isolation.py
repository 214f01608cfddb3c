"""Broken third-party plugins (installed through a real entry point) cannot take the tool down.

The set: ``sys.exit()`` at import, a hang at import, a hang in a hook, a ``BaseException`` in a
hook, a component and an entry point reusing built-in names, and core-command overrides.
Stated bound: with ``LARGE_TK_PLUGIN_TIMEOUT=2`` every run below finishes within
``RUN_LIMIT_S`` (the two hangs cost ~2 s each), and every core command still works.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN_LIMIT_S = 120
PLUGIN_TIMEOUT_S = "2"

MODULES = {
    "tkx_exit": "import sys\nsys.exit(3)\n",
    "tkx_hang_import": "import time\ntime.sleep(3600)\n",
    "tkx_hang_hook": """
        import time
        import large_toolkit

        @large_toolkit.hookimpl
        def register_direction_finders(register):
            time.sleep(3600)
            register("late_finder", lambda: None, "registered after the time-out")
    """,
    "tkx_base": """
        import large_toolkit

        class Boom(BaseException):
            pass

        @large_toolkit.hookimpl
        def register_generators(register):
            raise Boom("not an Exception")
    """,
    "tkx_dup": """
        import large_toolkit

        @large_toolkit.hookimpl(tryfirst=True)
        def register_generators(register):
            register("stylegan2", lambda checkpoint=None, device="cpu": "hijacked", "an intruder")
    """,
    "tkx_override": """
        import large_toolkit

        @large_toolkit.hookimpl
        def register_commands(app):
            @app.command("regress")
            def regress():
                print("HIJACKED")

            @app.command("plugins")
            def plugins():
                print("HIJACKED")

            @app.command("tkx-hello")
            def hello():
                print("hello from a plugin")
    """,
}
ENTRY_POINTS = {name: name for name in MODULES} | {"sefa": "tkx_dup"}  # "sefa": a built-in's entry-point name


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory) -> Path:
    """A folder on PYTHONPATH holding the modules and a dist-info declaring their entry points."""
    site = tmp_path_factory.mktemp("broken_site")
    for name, source in MODULES.items():
        (site / f"{name}.py").write_text(textwrap.dedent(source))
    dist = site / "tkx_broken-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tkx-broken\nVersion: 0.1\n")
    lines = "\n".join(f"{ep} = {module}" for ep, module in ENTRY_POINTS.items())
    (dist / "entry_points.txt").write_text(f"[large_toolkit]\n{lines}\n")
    return site


def _run(site: Path, *args: str, cwd: Path, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT), str(ROOT / "plugins"), env.get("PYTHONPATH", "")])
    env["LARGE_TK_PLUGIN_TIMEOUT"] = PLUGIN_TIMEOUT_S
    for key in ("LARGE_TK_PLUGINS", "LARGE_TK_DISABLE_PLUGINS", "LARGE_TK_DEBUG"):
        env.pop(key, None)
    env.update(extra or {})
    return subprocess.run(
        [sys.executable, "-m", "large_toolkit", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=RUN_LIMIT_S,
    )


@pytest.mark.slow
def test_plugins_listing_survives_and_names_every_intruder(broken_site, tmp_path):
    proc = _run(broken_site, "plugins", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    generators = {c["name"]: c for c in data["components"] if c["kind"] == "generator"}
    assert generators["stylegan2"]["plugin"] == "stylegan2"  # the built-in kept its name
    assert "late_finder" not in {c["name"] for c in data["components"]}
    errors: dict[tuple[str, str], str] = {}
    for e in data["errors"]:
        key = (e["plugin"], e["stage"])
        errors[key] = f"{errors[key]} | {e['error']}" if key in errors else e["error"]
    assert "SystemExit(3)" in errors[("tkx_exit", "import")]
    assert "did not finish within 2 s" in errors[("tkx_hang_import", "import")]
    assert "did not finish within 2 s" in errors[("tkx_hang_hook", "register_direction_finders")]
    assert "Boom: not an Exception" in errors[("tkx_base", "register_generators")]
    assert "already registered by plugin 'stylegan2'" in errors[("tkx_dup", "register")]
    assert "reuses the name" in errors[("sefa", "import")] and "tkx_dup" in errors[("sefa", "import")]
    assert "'regress' already exists" in errors[("tkx_override", "register_commands")]
    assert "'plugins' already exists" in errors[("tkx_override", "register_commands")]
    assert data["plugins"][0]["name"] in {"ganspace", "inverters"}  # built-ins loaded
    warnings = [ln for ln in proc.stderr.splitlines() if ln.startswith("warning: plugin")]
    assert all("\n" not in w for w in warnings) and len(warnings) == len(data["errors"])
    notes = [ln for ln in proc.stderr.splitlines() if ln.startswith("note: plugin")]
    assert notes == []  # the 2 s limit is below the 3 s "still running" note


@pytest.mark.slow
def test_core_commands_still_work(broken_site, tmp_path):
    help_run = _run(broken_site, "--help", cwd=tmp_path)
    assert help_run.returncode == 0 and "regress" in help_run.stdout and "tkx-hello" in help_run.stdout
    core = ["regress", "sort", "ordinal", "suggest-labels", "layers", "directions", "data", "fid", "plugins"]
    for command in core:
        assert command in help_run.stdout, command
    hijack = _run(broken_site, "regress", "--help", cwd=tmp_path)
    assert hijack.returncode == 0 and "HIJACKED" not in hijack.stdout and "--direction" in hijack.stdout
    out = tmp_path / "g.png"
    generate = _run(broken_site, "generate", "--seeds", "0-1", "--out", str(out), "--json", cwd=tmp_path)
    assert generate.returncode == 0, generate.stderr
    assert out.stat().st_size > 0 and json.loads(generate.stdout)["backend"] == "stylegan2"
    found = _run(broken_site, "directions", "find", "sefa", "--backend", "stylegan2", "--json", cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    plugin_cmd = _run(broken_site, "tkx-hello", cwd=tmp_path)
    assert plugin_cmd.returncode == 0 and "hello from a plugin" in plugin_cmd.stdout


def test_slow_plugin_is_named_while_it_loads(tmp_path, monkeypatch):
    """Past SLOW_NOTE_S a third-party import is named on stderr; it still loads when it finishes in time."""
    import importlib.metadata as metadata

    from large_toolkit import plugins

    (tmp_path / "tkx_slow.py").write_text("import time\ntime.sleep(0.6)\nLOADED = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(plugins, "SLOW_NOTE_S", 0.2)
    monkeypatch.setenv("LARGE_TK_PLUGIN_TIMEOUT", "30")
    ep = metadata.EntryPoint(name="tkx_slow", value="tkx_slow", group="large_toolkit")
    lines: list[str] = []
    monkeypatch.setattr(sys, "stderr", type("E", (), {"write": lambda self, s: lines.append(s), "flush": print})())
    host = plugins.PluginHost(entry_points=[ep])
    monkeypatch.undo()
    assert "tkx_slow" in host.loaded and host.problems == []
    assert any("plugin 'tkx_slow' is still running its import" in line for line in lines)


def test_keyboard_interrupt_is_not_contained(tmp_path, monkeypatch):
    import importlib.metadata as metadata

    from large_toolkit.plugins import BUILTIN_PLUGINS, PluginHost

    (tmp_path / "tkx_ctrl_c.py").write_text("raise KeyboardInterrupt\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(BUILTIN_PLUGINS, "tkx_ctrl_c", "tkx_ctrl_c")  # built-ins load in the main thread
    ep = metadata.EntryPoint(name="tkx_ctrl_c", value="tkx_ctrl_c", group="large_toolkit")
    with pytest.raises(KeyboardInterrupt):
        PluginHost(entry_points=[ep])


def test_builtin_only_safe_mode(broken_site, tmp_path):
    """``LARGE_TK_PLUGINS=builtin`` skips every third-party plugin: nothing to wait for, nothing to warn about."""
    env_run = _run(broken_site, "plugins", "--json", cwd=tmp_path, extra={"LARGE_TK_PLUGINS": "builtin"})
    assert env_run.returncode == 0, env_run.stderr
    data = json.loads(env_run.stdout)
    assert data["errors"] == [] and "warning" not in env_run.stderr
    assert {p["name"] for p in data["plugins"]} == {
        "stylegan2",
        "stylegan3",
        "inverters",
        "sefa",
        "ganspace",
        "interfacegan",
        "voynov",
    }
