"""Install the example plugins (offline, ``pip install --target``) once per session, as a user would."""

from __future__ import annotations

import importlib.metadata as metadata
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def pip_install_target(project: Path, target: Path) -> Path:
    """``pip install --no-deps --no-index --no-build-isolation --target TARGET PROJECT``."""
    flags = ["-q", "--no-deps", "--no-build-isolation", "--no-index", "--target", str(target)]
    subprocess.run(
        [sys.executable, "-m", "pip", "install", *flags, str(project)],
        check=True,
        capture_output=True,
        text=True,
    )
    return target


@pytest.fixture(scope="session")
def example_site(tmp_path_factory) -> Path:
    """A folder holding the installed DCGAN generator plugin and the random-finder plugin."""
    target = tmp_path_factory.mktemp("examples_site")
    pip_install_target(EXAMPLES / "large_tk_dcgan", target)
    pip_install_target(EXAMPLES / "large_tk_example_plugin", target)
    return target


@pytest.fixture
def dcgan_installed(example_site, monkeypatch, tmp_path):
    """The installed examples on sys.path, a fresh plugin host and a private direction cache."""
    from large_toolkit.plugins import reset_host

    monkeypatch.syspath_prepend(str(example_site))
    monkeypatch.setenv("LARGE_TK_CACHE", str(tmp_path / "cache"))
    names = {ep.name for ep in metadata.entry_points(group="large_toolkit")}
    assert {"dcgan", "example"} <= names, names
    reset_host()
    yield example_site
    reset_host()
