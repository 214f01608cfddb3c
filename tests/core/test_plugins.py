"""Plugin discovery: entry points, fault isolation, env knobs, the example third-party plugin."""

import importlib.metadata as metadata
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import large_toolkit
from large_toolkit.errors import UnknownPluginError
from large_toolkit.plugins import PluginHost

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "large_tk_example_plugin"


def _write_module(tmp_path, name, source):
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    return metadata.EntryPoint(name=name, value=name, group="large_toolkit")


GOOD = """
    import large_toolkit

    @large_toolkit.hookimpl
    def register_direction_finders(register):
        register("good_finder", lambda: "finder", "a finder")
"""


def test_broken_plugins_are_isolated(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    eps = [
        _write_module(tmp_path, "tkp_good", GOOD),
        _write_module(tmp_path, "tkp_import_error", "import no_such_module_xyz\n"),
        _write_module(
            tmp_path,
            "tkp_hook_raises",
            """
            import large_toolkit

            @large_toolkit.hookimpl
            def register_generators(register):
                raise RuntimeError("cannot find CUDA toolkit")
        """,
        ),
        _write_module(
            tmp_path,
            "tkp_zdup",
            """
            import large_toolkit

            @large_toolkit.hookimpl
            def register_direction_finders(register):
                register("good_finder", lambda: "other", "same name")
        """,
        ),
    ]
    host = PluginHost(entry_points=eps)
    assert host.direction_finder("good_finder").create() == "finder"
    problems = {p.plugin: p for p in host.problems}
    assert set(problems) == {"tkp_import_error", "tkp_hook_raises", "tkp_zdup"}
    assert "ModuleNotFoundError" in problems["tkp_import_error"].error
    assert problems["tkp_hook_raises"].stage == "register_generators"
    assert "already registered by plugin 'tkp_good'" in problems["tkp_zdup"].error
    for p in problems.values():
        line = p.one_line()
        assert "\n" not in line and p.plugin in line


def test_env_allow_and_disable_lists(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    eps = [_write_module(tmp_path, "tkp_a", GOOD), _write_module(tmp_path, "tkp_b", "raise ImportError('x')\n")]
    monkeypatch.setenv("LARGE_TK_DISABLE_PLUGINS", "tkp_b")
    host = PluginHost(entry_points=eps)
    assert host.problems == [] and "tkp_a" in host.loaded
    monkeypatch.delenv("LARGE_TK_DISABLE_PLUGINS")
    monkeypatch.setenv("LARGE_TK_PLUGINS", "")
    assert PluginHost(entry_points=eps).loaded == {}


def test_unknown_component_error_lists_known_names():
    host = PluginHost(entry_points=[])
    with pytest.raises(UnknownPluginError, match=r"unknown generator 'nope'.*known: none installed"):
        host.generator("nope")


def test_in_process_registration(toy_generator):
    class Plugin:
        @large_toolkit.hookimpl
        def register_generators(self, register):
            register("toy", lambda checkpoint=None, device="cpu": toy_generator, "toy generator")

    host = PluginHost(entry_points=[])
    host.register_module(Plugin(), "toy-plugin")
    assert host.generator("toy").create() is toy_generator
    assert host.generator("toy").to_dict()["plugin"] == "toy-plugin"


def _env_with(path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(path), env.get("PYTHONPATH", "")])
    return env


@pytest.fixture(scope="module")
def installed_example(tmp_path_factory):
    """pip-install the example plugin into a target folder (offline, no build isolation)."""
    target = tmp_path_factory.mktemp("example_site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(EXAMPLE),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return target


def test_example_plugin_appears_after_installation(installed_example):
    out = subprocess.run(
        [sys.executable, "-m", "large_toolkit", "plugins", "--json"],
        env=_env_with(installed_example),
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout)
    random = [c for c in data["components"] if c["name"] == "random"]
    assert random and random[0]["plugin"] == "example"
    assert random[0]["distribution"] == "large-tk-example-plugin" and random[0]["version"] == "0.1.0"
    assert data["errors"] == []


def test_example_plugin_finder_works(installed_example, monkeypatch, toy_generator):
    monkeypatch.syspath_prepend(str(installed_example))
    eps = [ep for ep in metadata.entry_points(group="large_toolkit") if ep.name == "example"]
    assert eps, "the installed example plugin's entry point is not discoverable"
    host = PluginHost(entry_points=eps)
    dirs = host.direction_finder("random").create().find(toy_generator, {"count": 3, "seed": 1})
    again = host.direction_finder("random").create().find(toy_generator, {"count": 3, "seed": 1})
    assert len(dirs) == 3 and all(abs(float(d.vector.norm()) - 1) < 1e-6 for d in dirs)
    assert all((a.vector == b.vector).all() for a, b in zip(dirs, again, strict=True))


def test_broken_installed_plugin_warns_one_line_and_cli_still_works(tmp_path):
    dist = tmp_path / "tkp_broken-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tkp-broken\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[large_toolkit]\nbroken = tkp_broken_mod\n")
    (tmp_path / "tkp_broken_mod.py").write_text("raise RuntimeError('this plugin is broken')\n")
    out = subprocess.run(
        [sys.executable, "-m", "large_toolkit", "plugins", "--json"],
        env=_env_with(tmp_path),
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    warnings = [line for line in out.stderr.splitlines() if "broken" in line]
    assert len(warnings) == 1 and "plugin 'broken' failed (import)" in warnings[0]
    data = json.loads(out.stdout)
    assert data["errors"][0]["plugin"] == "broken"
    assert data["errors"][0]["distribution"] == "tkp-broken"


def test_cli_start_does_not_import_torch():
    code = (
        "import sys\n"
        "from large_toolkit.cli.app import build_app\n"
        "from typer.testing import CliRunner\n"
        "r = CliRunner().invoke(build_app(), ['plugins', '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "r = CliRunner().invoke(build_app(), ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", "large-tk --help / plugins imported torch"
